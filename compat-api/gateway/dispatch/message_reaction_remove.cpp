// MESSAGE_REACTION_REMOVE: {user_id, channel_id, message_id, guild_id?, emoji, burst, type}.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageReactionRemove(ServerContext& ctx, const Channel& channel, Snowflake message_id, Snowflake user_id,
                           const Emoji& emoji) {
  Json d = {{"user_id", objects::Id(user_id)},
            {"channel_id", objects::Id(channel.id)},
            {"message_id", objects::Id(message_id)},
            {"emoji", objects::EmojiJson(emoji)},
            {"burst", false},
            {"type", 0}};
  detail::AddGuildId(d, channel);
  ctx.fanout.Publish(detail::ForChannel(channel, "MESSAGE_REACTION_REMOVE", std::move(d),
                                        intents::kGuildMessageReactions, intents::kDirectMessageReactions));
}

}  // namespace ferry::compat::dispatch
