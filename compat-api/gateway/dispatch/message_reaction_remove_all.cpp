// MESSAGE_REACTION_REMOVE_ALL: {channel_id, message_id, guild_id?}.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageReactionRemoveAll(ServerContext& ctx, const Channel& channel, Snowflake message_id) {
  Json d = {{"channel_id", objects::Id(channel.id)}, {"message_id", objects::Id(message_id)}};
  detail::AddGuildId(d, channel);
  ctx.fanout.Publish(detail::ForChannel(channel, "MESSAGE_REACTION_REMOVE_ALL", std::move(d),
                                        intents::kGuildMessageReactions, intents::kDirectMessageReactions));
}

}  // namespace ferry::compat::dispatch
