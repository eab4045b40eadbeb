// CHANNEL_PINS_UPDATE: {guild_id?, channel_id, last_pin_timestamp (null when no pins remain)}.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void ChannelPinsUpdate(ServerContext& ctx, const Channel& channel, std::optional<std::int64_t> last_pin_ms) {
  Json d = {{"channel_id", objects::Id(channel.id)},
            {"last_pin_timestamp", last_pin_ms ? Json(objects::Time(*last_pin_ms)) : Json(nullptr)}};
  detail::AddGuildId(d, channel);
  ctx.fanout.Publish(
      detail::ForChannel(channel, "CHANNEL_PINS_UPDATE", std::move(d), intents::kGuilds, intents::kDirectMessages));
}

}  // namespace ferry::compat::dispatch
