// GUILD_MEMBER_REMOVE: {guild_id, user} (GUILD_MEMBERS).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void GuildMemberRemove(ServerContext& ctx, Snowflake guild_id, const User& user) {
  objects::AdjustGuildMemberCount(guild_id, -1);
  DispatchEvent ev;
  ev.t = "GUILD_MEMBER_REMOVE";
  ev.d = {{"guild_id", objects::Id(guild_id)}, {"user", objects::UserJson(user)}};
  ev.guild_id = guild_id;
  ev.intents = intents::kGuildMembers;
  ctx.fanout.Publish(std::move(ev));
}

}  // namespace ferry::compat::dispatch
