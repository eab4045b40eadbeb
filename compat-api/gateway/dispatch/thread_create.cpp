// THREAD_CREATE: the thread channel, with "newly_created": true for a new thread (GUILDS).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void ThreadCreate(ServerContext& ctx, const Channel& thread, bool newly_created) {
  Json d = objects::ChannelJson(ctx, thread);
  if (newly_created) d["newly_created"] = true;
  ctx.fanout.Publish(detail::ForChannel(thread, "THREAD_CREATE", std::move(d), intents::kGuilds, 0));
}

}  // namespace ferry::compat::dispatch
