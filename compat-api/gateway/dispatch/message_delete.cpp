// MESSAGE_DELETE: {id, channel_id, guild_id?}.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageDelete(ServerContext& ctx, const Channel& channel, Snowflake message_id) {
  Json d = {{"id", objects::Id(message_id)}, {"channel_id", objects::Id(channel.id)}};
  detail::AddGuildId(d, channel);
  ctx.fanout.Publish(detail::ForChannel(channel, "MESSAGE_DELETE", std::move(d), intents::kGuildMessages,
                                        intents::kDirectMessages));
}

}  // namespace ferry::compat::dispatch
