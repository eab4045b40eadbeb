// Model → Discord JSON, the exact shapes REST responses and gateway payloads use (see
// ../shared/notes/discord-api.md §6 and the OpenAPI schemas). Rules every function here follows:
//  - ids are strings; permission bitfields are decimal strings;
//  - timestamps are Discord's form "2024-01-01T00:00:00.000000+00:00";
//  - keys that are nullable in Discord's schema are present with null when unknown (avatar, edited_timestamp,
//    topic, parent_id, last_message_id, icon, ...); optional keys Discord omits when absent (thread,
//    referenced_message when there is no reference, nonce, member in DMs, ...) are omitted, never null;
//  - no private fields (email, tokens, flags of other users beyond public_flags).
// Functions taking ServerContext read the store (authors, members, referenced messages) and build absolute
// CDN URLs from ctx.cdn_base.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compat-api/context.hpp"
#include "store/model.hpp"

namespace ferry::compat::objects {

std::string Id(Snowflake id);                       // "1234"
Json IdOrNull(std::optional<Snowflake> id);         // "1234" or null (also null for 0)
std::string Time(std::int64_t ms);                  // "2024-01-01T00:00:00.000000+00:00"

// CDN URLs (absolute).
std::string AttachmentUrl(const ServerContext& ctx, Snowflake channel_id, Snowflake attachment_id,
                          const std::string& filename);
// Discord-style image hash for a blob: the first 32 hex chars of its sha256 (avatars, icons); empty if none.
std::string ImageHash(const std::optional<std::string>& sha256);

// Members of a guild (counted once, then kept current by the GUILD_MEMBER_ADD/REMOVE builders).
std::int64_t GuildMemberCount(ServerContext& ctx, Snowflake guild_id);
void AdjustGuildMemberCount(Snowflake guild_id, int delta);
// The newest message id of a channel, or 0.
Snowflake LastMessageId(ServerContext& ctx, Snowflake channel_id);

// User: id, username, discriminator, global_name, avatar (hash or null), bot (only when a bot),
// public_flags, flags, banner null, accent_color null, avatar_decoration_data null. Unknown usernames become
// "Deleted User" (what Discord shows for accounts it no longer has).
Json UserJson(const User& u);
// Looks the user up; a user the store does not know is rendered as {id, "Deleted User", "0000"}.
Json UserJson(ServerContext& ctx, Snowflake id);

// Member: user (when with_user), nick, avatar null, roles (id strings, never @everyone), joined_at,
// premium_since null, deaf, mute, flags 0, pending false, communication_disabled_until null.
// joined_at falls back to the guild's creation time when the source did not say.
Json MemberJson(ServerContext& ctx, const Member& m, bool with_user = true);

// Role: id, name, color, hoist, icon null, unicode_emoji null, position, permissions (string), managed,
// mentionable, flags 0, plus tags {bot_id} for a bot's managed role. `permissions_if_unknown` is used when the
// source carried no permissions (DCE exports); compat-api/permissions.* decides that default.
Json RoleJson(const Role& r, std::uint64_t permissions_if_unknown = 0);

Json OverwriteJson(const Overwrite& o);  // {id, type, allow: "N", deny: "N"}

// Channel for every type: guild channels (name, position, permission_overwrites, parent_id, topic, nsfw,
// rate_limit_per_user, last_message_id, voice bitrate/user_limit), threads (owner_id, parent_id,
// message_count, member_count, total_message_sent, thread_metadata {archived, auto_archive_duration,
// archive_timestamp, locked, create_timestamp}), DMs (recipients [User], last_message_id).
// `viewer_id`: for DMs, the recipient asking is left out of `recipients` (as Discord does).
Json ChannelJson(ServerContext& ctx, const Channel& c, Snowflake viewer_id = 0);

// GET /guilds/{id}: the guild object with roles, emojis [], stickers [], features [], and Discord's scalar
// settings (verification_level, ..., preferred_locale "en-US"). `with_counts` adds approximate_*_count.
Json GuildJson(ServerContext& ctx, const Guild& g, bool with_counts = false);

// Gateway GUILD_CREATE for a bot: GuildJson + joined_at (the bot's), large, unavailable false, member_count,
// channels (non-thread), threads (active), members (at most `member_limit`, always including the bot's own
// member), presences [], voice_states [], stage_instances [], guild_scheduled_events [], soundboard_sounds [].
Json GuildCreateJson(ServerContext& ctx, const Guild& g, Snowflake bot_user_id, int member_limit = 1000);

struct MessageOptions {
  Snowflake viewer_id = 0;           // the bot asking: sets reactions[].me
  bool with_member = true;           // add `member` (no user inside) for guild messages with a known member
  bool with_referenced = true;       // add `referenced_message` (one level deep) when there is a reference
};
// Message: id, channel_id, guild_id (guild messages), author, member, content, timestamp, edited_timestamp,
// tts, mention_everyone, mentions [User], mention_roles, attachments (absolute CDN url/proxy_url), embeds,
// reactions (when any), pinned, type, flags, components [], sticker_items (when any), nonce (when set),
// message_reference + referenced_message (when a reply; referenced_message null if the original is gone),
// position for thread messages is omitted.
Json MessageJson(ServerContext& ctx, const Message& m, const MessageOptions& opts = {});

// MessageJson (with default options for `viewer_id`) serialised, for REST responses. Inside a
// RenderCache::Scope the text comes from / goes to ctx.render_cache.
std::string MessageText(ServerContext& ctx, const Message& m, Snowflake viewer_id);
// A JSON array of MessageText for each message not marked deleted, in the given order.
std::string MessagesArrayText(ServerContext& ctx, const std::vector<Message>& msgs, Snowflake viewer_id);

Json AttachmentJson(const ServerContext& ctx, Snowflake channel_id, const Attachment& a);
Json EmojiJson(const Emoji& e);  // {id: "…"|null, name, animated?}
Json ReactionJson(const Reaction& r, Snowflake viewer_id);

// Application (GET /oauth2/applications/@me, /applications/@me, READY.application uses {id, flags}):
// id = bot user id, name, icon null, description "", bot_public, bot_require_code_grant, verify_key,
// owner (User), team null, flags (GATEWAY_* intent flags per privileged intents), bot (User), rpc_origins [].
Json ApplicationJson(ServerContext& ctx, const Bot& bot, const User& bot_user);

}  // namespace ferry::compat::objects
