// TYPING_START: {channel_id, guild_id?, user_id, timestamp (unix seconds), member? (guild)}.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void TypingStart(ServerContext& ctx, const Channel& channel, Snowflake user_id) {
  Json d = {{"channel_id", objects::Id(channel.id)},
            {"user_id", objects::Id(user_id)},
            {"timestamp", ctx.NowMs() / 1000}};
  detail::AddGuildId(d, channel);
  if (detail::InGuild(channel)) {
    Member m;
    if (ctx.store.GetMember(*channel.guild_id, user_id, &m).ok()) d["member"] = objects::MemberJson(ctx, m, true);
  }
  ctx.fanout.Publish(detail::ForChannel(channel, "TYPING_START", std::move(d), intents::kGuildMessageTyping,
                                        intents::kDirectMessageTyping));
}

}  // namespace ferry::compat::dispatch
