// GUILD_MEMBER_ADD: the member with user, plus guild_id (GUILD_MEMBERS).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void GuildMemberAdd(ServerContext& ctx, const Member& member) {
  objects::AdjustGuildMemberCount(member.guild_id, +1);
  DispatchEvent ev;
  ev.t = "GUILD_MEMBER_ADD";
  ev.d = objects::MemberJson(ctx, member, true);
  ev.d["guild_id"] = objects::Id(member.guild_id);
  ev.guild_id = member.guild_id;
  ev.intents = intents::kGuildMembers;
  ctx.fanout.Publish(std::move(ev));
}

}  // namespace ferry::compat::dispatch
