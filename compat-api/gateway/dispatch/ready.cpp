// READY: the first dispatch of a session. discord.py needs resume_gateway_url; discord.js needs application.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

Json Ready(ServerContext& ctx, const Bot& bot, const User& bot_user, const ReadyInfo& info) {
  Json user = objects::UserJson(bot_user);
  user["bot"] = true;
  user["verified"] = true;
  user["mfa_enabled"] = false;
  user["email"] = nullptr;
  Json guilds = Json::array();
  for (Snowflake g : info.guild_ids) guilds.push_back({{"id", objects::Id(g)}, {"unavailable", true}});
  Json app = objects::ApplicationJson(ctx, bot, bot_user);
  return {
      {"v", 10},
      {"user", std::move(user)},
      {"guilds", std::move(guilds)},
      {"session_id", info.session_id},
      {"session_type", "normal"},
      {"resume_gateway_url", info.resume_gateway_url},
      {"shard", Json::array({info.shard_id, info.shard_count})},
      {"application", {{"id", app["id"]}, {"flags", app["flags"]}}},
      {"private_channels", Json::array()},
      {"presences", Json::array()},
      {"relationships", Json::array()},
      {"guild_join_requests", Json::array()},
      {"geo_ordered_rtc_regions", Json::array()},
      {"user_settings", Json::object()},
      {"auth", Json::object()},
      {"_trace", Json::array({"ferry-gateway"})},
  };
}

}  // namespace ferry::compat::dispatch
