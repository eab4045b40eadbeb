// CHANNEL_DELETE: the channel object (GUILDS intent; only to sessions that can view the channel).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void ChannelDelete(ServerContext& ctx, const Channel& channel) {
  ctx.fanout.Publish(
      detail::ForChannel(channel, "CHANNEL_DELETE", objects::ChannelJson(ctx, channel), intents::kGuilds, 0));
}

}  // namespace ferry::compat::dispatch
