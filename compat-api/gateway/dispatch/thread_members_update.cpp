// THREAD_MEMBERS_UPDATE: {id, guild_id, member_count, added_members?, removed_member_ids?}. Discord sends it
// to sessions with GUILD_MEMBERS; a bot added itself also gets THREAD_MEMBER_UPDATE (thread_member_update.cpp).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void ThreadMembersUpdate(ServerContext& ctx, const Channel& thread,
                         const std::vector<std::pair<Snowflake, std::int64_t>>& added,
                         const std::vector<Snowflake>& removed) {
  std::vector<std::pair<Snowflake, std::int64_t>> members;
  ctx.store.ListThreadMembers(thread.id, &members);
  Json d = {{"id", objects::Id(thread.id)},
            {"member_count", std::min<std::size_t>(50, members.size())}};
  detail::AddGuildId(d, thread);
  if (!added.empty()) {
    Json a = Json::array();
    for (const auto& [user_id, joined_ms] : added) {
      Json tm = {{"id", objects::Id(thread.id)},
                 {"user_id", objects::Id(user_id)},
                 {"join_timestamp", objects::Time(joined_ms)},
                 {"flags", 0}};
      if (detail::InGuild(thread)) {
        Member m;
        if (ctx.store.GetMember(*thread.guild_id, user_id, &m).ok()) tm["member"] = objects::MemberJson(ctx, m, true);
      }
      a.push_back(std::move(tm));
    }
    d["added_members"] = std::move(a);
  }
  if (!removed.empty()) {
    Json r = Json::array();
    for (Snowflake id : removed) r.push_back(objects::Id(id));
    d["removed_member_ids"] = std::move(r);
  }
  ctx.fanout.Publish(detail::ForChannel(thread, "THREAD_MEMBERS_UPDATE", std::move(d), intents::kGuildMembers, 0));
}

}  // namespace ferry::compat::dispatch
