// MESSAGE_DELETE_BULK: {ids, channel_id, guild_id?}.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void MessageDeleteBulk(ServerContext& ctx, const Channel& channel, const std::vector<Snowflake>& message_ids) {
  Json ids = Json::array();
  for (Snowflake id : message_ids) ids.push_back(objects::Id(id));
  Json d = {{"ids", std::move(ids)}, {"channel_id", objects::Id(channel.id)}};
  detail::AddGuildId(d, channel);
  ctx.fanout.Publish(detail::ForChannel(channel, "MESSAGE_DELETE_BULK", std::move(d), intents::kGuildMessages,
                                        intents::kDirectMessages));
}

}  // namespace ferry::compat::dispatch
