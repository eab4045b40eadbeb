// THREAD_DELETE: {id, guild_id, parent_id, type} (GUILDS).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void ThreadDelete(ServerContext& ctx, const Channel& thread) {
  Json d = {{"id", objects::Id(thread.id)}, {"parent_id", objects::IdOrNull(thread.parent_id)}, {"type", thread.type}};
  detail::AddGuildId(d, thread);
  ctx.fanout.Publish(detail::ForChannel(thread, "THREAD_DELETE", std::move(d), intents::kGuilds, 0));
}

}  // namespace ferry::compat::dispatch
