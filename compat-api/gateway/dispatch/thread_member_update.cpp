// THREAD_MEMBER_UPDATE: {id, user_id, join_timestamp, flags, guild_id}, to the joining bot only.
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void ThreadMemberUpdate(ServerContext& ctx, const Channel& thread, Snowflake user_id, std::int64_t joined_ms) {
  DispatchEvent ev;
  ev.t = "THREAD_MEMBER_UPDATE";
  ev.d = {{"id", objects::Id(thread.id)},
          {"user_id", objects::Id(user_id)},
          {"join_timestamp", objects::Time(joined_ms)},
          {"flags", 0}};
  detail::AddGuildId(ev.d, thread);
  ev.user_ids = {user_id};  // routed by user: guild_id stays 0 in the routing fields
  ctx.fanout.Publish(std::move(ev));
}

}  // namespace ferry::compat::dispatch
