// MESSAGE_REACTION_REMOVE_EMOJI: {channel_id, guild_id?, message_id, emoji}.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageReactionRemoveEmoji(ServerContext& ctx, const Channel& channel, Snowflake message_id,
                                const Emoji& emoji) {
  Json d = {{"channel_id", objects::Id(channel.id)},
            {"message_id", objects::Id(message_id)},
            {"emoji", objects::EmojiJson(emoji)}};
  detail::AddGuildId(d, channel);
  ctx.fanout.Publish(detail::ForChannel(channel, "MESSAGE_REACTION_REMOVE_EMOJI", std::move(d),
                                        intents::kGuildMessageReactions, intents::kDirectMessageReactions));
}

}  // namespace ferry::compat::dispatch
