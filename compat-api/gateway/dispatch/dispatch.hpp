// Gateway dispatch builders: what REST handlers call after a successful store write. Each builder shapes the
// event payload exactly as Discord does and publishes it through ctx.fanout with the routing fields
// (guild, channel, intents, message-content rules) filled in. One .cpp per dispatch kind in this folder.
//
//   FERRY_RETURN_IF_ERROR(store.UpsertMessage(msg, src));
//   dispatch::MessageCreate(ctx, msg);
//
// Builders take the objects as stored (after the write) and never fail: a missing author or member just leaves
// that part out. Intents: guild events need the GUILD_* intent, DM events the DIRECT_MESSAGE* one.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "compat-api/context.hpp"
#include "store/model.hpp"

namespace ferry::compat::dispatch {

// ---- messages (GUILD_MESSAGES / DIRECT_MESSAGES; MESSAGE_CONTENT rules apply to create/update) -------------
// `channel` / `rendered` (objects::MessageJson(ctx, m)): when the caller has them, they are not looked up again.
void MessageCreate(ServerContext& ctx, const Message& m, const Channel* channel = nullptr,
                   const Json* rendered = nullptr);
// Full message object (Discord sends the whole message on edits).
void MessageUpdate(ServerContext& ctx, const Message& m);
void MessageDelete(ServerContext& ctx, const Channel& channel, Snowflake message_id);
void MessageDeleteBulk(ServerContext& ctx, const Channel& channel, const std::vector<Snowflake>& message_ids);

// ---- reactions (GUILD_MESSAGE_REACTIONS / DIRECT_MESSAGE_REACTIONS) ---------------------------------------
// `message_author_id`: the message's author (message_author_id field), 0 if unknown.
void MessageReactionAdd(ServerContext& ctx, const Channel& channel, Snowflake message_id,
                        Snowflake message_author_id, Snowflake user_id, const Emoji& emoji);
void MessageReactionRemove(ServerContext& ctx, const Channel& channel, Snowflake message_id, Snowflake user_id,
                           const Emoji& emoji);
void MessageReactionRemoveAll(ServerContext& ctx, const Channel& channel, Snowflake message_id);
void MessageReactionRemoveEmoji(ServerContext& ctx, const Channel& channel, Snowflake message_id,
                                const Emoji& emoji);

// ---- typing (GUILD_MESSAGE_TYPING / DIRECT_MESSAGE_TYPING) -------------------------------------------------
void TypingStart(ServerContext& ctx, const Channel& channel, Snowflake user_id);

// ---- channels (GUILDS) --------------------------------------------------------------------------------------
void ChannelCreate(ServerContext& ctx, const Channel& channel);
void ChannelUpdate(ServerContext& ctx, const Channel& channel);
void ChannelDelete(ServerContext& ctx, const Channel& channel);
// last_pin_ms: time of the newest pin, nullopt when no pins remain.
void ChannelPinsUpdate(ServerContext& ctx, const Channel& channel, std::optional<std::int64_t> last_pin_ms);

// ---- threads (GUILDS; THREAD_MEMBERS_UPDATE also needs GUILD_MEMBERS for others than the bot) --------------
// newly_created: true for a new thread (Discord adds "newly_created": true).
void ThreadCreate(ServerContext& ctx, const Channel& thread, bool newly_created = true);
void ThreadUpdate(ServerContext& ctx, const Channel& thread);
void ThreadDelete(ServerContext& ctx, const Channel& thread);
// Members added/removed; added as (user_id, joined_ms).
void ThreadMembersUpdate(ServerContext& ctx, const Channel& thread,
                         const std::vector<std::pair<Snowflake, std::int64_t>>& added,
                         const std::vector<Snowflake>& removed);
// THREAD_MEMBER_UPDATE, sent only to the bot `user_id` when it joins a thread.
void ThreadMemberUpdate(ServerContext& ctx, const Channel& thread, Snowflake user_id, std::int64_t joined_ms);

// ---- guild members (GUILD_MEMBERS) --------------------------------------------------------------------------
void GuildMemberAdd(ServerContext& ctx, const Member& member);
void GuildMemberUpdate(ServerContext& ctx, const Member& member);
void GuildMemberRemove(ServerContext& ctx, Snowflake guild_id, const User& user);

// ---- session payloads (sent by the gateway session itself, not fanned out) ----------------------------------
struct ReadyInfo {
  std::string session_id;
  std::string resume_gateway_url;
  std::vector<Snowflake> guild_ids;  // the guilds this session receives (shard applied)
  int shard_id = 0, shard_count = 1;
};
Json Ready(ServerContext& ctx, const Bot& bot, const User& bot_user, const ReadyInfo& info);
Json GuildCreate(ServerContext& ctx, const Guild& guild, Snowflake bot_user_id);
Json Resumed();  // {} — discord.py needs an object here
// GUILD_MEMBERS_CHUNK payloads for an op 8 request (query prefix / user_ids / limit; 1000 per chunk).
std::vector<Json> GuildMembersChunks(ServerContext& ctx, Snowflake guild_id, const std::string& query,
                                     const std::vector<Snowflake>& user_ids, int limit, const Json& nonce);

}  // namespace ferry::compat::dispatch
