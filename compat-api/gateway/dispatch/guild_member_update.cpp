// GUILD_MEMBER_UPDATE: the member with user, plus guild_id (GUILD_MEMBERS).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

void GuildMemberUpdate(ServerContext& ctx, const Member& member) {
  DispatchEvent ev;
  ev.t = "GUILD_MEMBER_UPDATE";
  ev.d = objects::MemberJson(ctx, member, true);
  ev.d["guild_id"] = objects::Id(member.guild_id);
  ev.guild_id = member.guild_id;
  ev.intents = intents::kGuildMembers;
  ctx.fanout.Publish(std::move(ev));
}

}  // namespace ferry::compat::dispatch
