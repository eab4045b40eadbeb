// GUILD_CREATE after READY: the full guild for the bot (channels, threads, roles incl. its managed role,
// members incl. its own member).
#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {

Json GuildCreate(ServerContext& ctx, const Guild& guild, Snowflake bot_user_id) {
  return objects::GuildCreateJson(ctx, guild, bot_user_id, 250);
}

}  // namespace ferry::compat::dispatch
