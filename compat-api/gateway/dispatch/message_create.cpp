// MESSAGE_CREATE: the full message (with member for guild messages). MESSAGE_CONTENT rules apply.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageCreate(ServerContext& ctx, const Message& m) {
  Channel c = detail::ChannelOf(ctx, m.channel_id);
  Message msg = m;
  if (!msg.guild_id && detail::InGuild(c)) msg.guild_id = c.guild_id;
  auto ev = detail::ForChannel(c, "MESSAGE_CREATE", objects::MessageJson(ctx, msg), intents::kGuildMessages,
                               intents::kDirectMessages);
  ev.message_content = true;
  ev.author_id = m.author_id.value_or(0);
  if (m.mention_user_ids) ev.mentioned_user_ids = *m.mention_user_ids;
  ctx.fanout.Publish(std::move(ev));
}

}  // namespace ferry::compat::dispatch
