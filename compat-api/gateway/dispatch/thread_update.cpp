// THREAD_UPDATE: the thread channel (GUILDS).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void ThreadUpdate(ServerContext& ctx, const Channel& thread) {
  ctx.fanout.Publish(
      detail::ForChannel(thread, "THREAD_UPDATE", objects::ChannelJson(ctx, thread), intents::kGuilds, 0));
}

}  // namespace ferry::compat::dispatch
