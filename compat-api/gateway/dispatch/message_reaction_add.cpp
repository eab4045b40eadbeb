// MESSAGE_REACTION_ADD: {user_id, channel_id, message_id, guild_id?, member? (guild), emoji,
// message_author_id, burst, burst_colors, type}.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageReactionAdd(ServerContext& ctx, const Channel& channel, Snowflake message_id,
                        Snowflake message_author_id, Snowflake user_id, const Emoji& emoji) {
  Json d = {{"user_id", objects::Id(user_id)},
            {"channel_id", objects::Id(channel.id)},
            {"message_id", objects::Id(message_id)},
            {"emoji", objects::EmojiJson(emoji)},
            {"burst", false},
            {"burst_colors", Json::array()},
            {"type", 0}};
  if (message_author_id) d["message_author_id"] = objects::Id(message_author_id);
  detail::AddGuildId(d, channel);
  if (detail::InGuild(channel)) {
    Member m;
    if (ctx.store.GetMember(*channel.guild_id, user_id, &m).ok()) d["member"] = objects::MemberJson(ctx, m, true);
  }
  ctx.fanout.Publish(detail::ForChannel(channel, "MESSAGE_REACTION_ADD", std::move(d),
                                        intents::kGuildMessageReactions, intents::kDirectMessageReactions));
}

}  // namespace ferry::compat::dispatch
