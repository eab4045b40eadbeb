// The neutral model: what Ferry knows about a Discord community, independent of where it came from
// (DCE JSON, data package, API crawl, compat-API writes) and where it goes.
//
// Conventions every field follows:
//  - Ids are Discord snowflakes, uint64, exactly as the source gave them. 0 means "none".
//  - std::optional<> means "this source did not say". A write never turns a known value into unknown:
//    a field left empty by one source is filled by another, never erased (see store.hpp for merge rules).
//  - Times are UTC milliseconds since the Unix epoch; where the source had text, the original text (with its
//    offset) is kept beside it.
//  - `extra` holds every input field that has no column of its own, as a JSON object, so nothing is lost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry {

using Snowflake = std::uint64_t;
using Json = nlohmann::json;

// A point in time as the source wrote it.
struct Timestamp {
  std::int64_t ms = 0;  // UTC milliseconds since 1970-01-01
  std::string text;     // original text, e.g. "2024-06-01T14:00:00.123+02:00"; empty if derived
};

// Discord channel types (the API's integers).
enum ChannelType : int {
  kGuildText = 0, kDm = 1, kGuildVoice = 2, kGroupDm = 3, kGuildCategory = 4, kGuildAnnouncement = 5,
  kGuildStore = 6, kAnnouncementThread = 10, kPublicThread = 11, kPrivateThread = 12, kGuildStageVoice = 13,
  kGuildDirectory = 14, kGuildForum = 15, kGuildMedia = 16,
};
inline bool IsThreadType(int t) { return t == kAnnouncementThread || t == kPublicThread || t == kPrivateThread; }

struct User {
  Snowflake id = 0;
  std::optional<std::string> username;       // unique name ("alice"), or "Deleted User"
  std::optional<std::string> global_name;    // display name
  std::optional<std::string> discriminator;  // "0" / "0000" for migrated names, "1234" for legacy
  std::optional<std::string> avatar_url;     // as the source gave it (remote URL or local path)
  std::optional<std::string> avatar_sha256;  // blob of the avatar image when we have the bytes
  std::optional<bool> bot;
  Json extra = Json::object();
};

struct Guild {
  Snowflake id = 0;
  std::optional<std::string> name;
  std::optional<std::string> icon_url;
  std::optional<std::string> icon_sha256;
  std::optional<Snowflake> owner_id;
  Json extra = Json::object();
};

// A permission overwrite on a channel: type 0 = role, 1 = member.
struct Overwrite {
  Snowflake id = 0;
  int type = 0;
  std::uint64_t allow = 0;
  std::uint64_t deny = 0;
};

struct Channel {
  Snowflake id = 0;
  int type = kGuildText;
  std::optional<Snowflake> guild_id;   // empty for DMs / group DMs
  std::optional<Snowflake> parent_id;  // category for channels, parent channel for threads
  std::optional<std::string> name;
  std::optional<std::string> topic;
  std::optional<int> position;
  std::optional<bool> nsfw;
  std::optional<int> rate_limit_per_user;
  std::optional<Snowflake> owner_id;   // thread creator / group DM owner
  std::optional<bool> archived;        // threads
  std::optional<bool> locked;          // threads
  std::optional<std::string> icon_url;
  std::vector<Snowflake> recipient_ids;     // DMs and group DMs
  std::optional<std::vector<Overwrite>> overwrites;  // empty optional = source did not say
  Json extra = Json::object();
};

struct Role {
  Snowflake id = 0;                     // @everyone has id == guild_id
  Snowflake guild_id = 0;
  std::optional<std::string> name;
  std::optional<std::uint32_t> color;   // 0xRRGGBB; 0 = no colour
  std::optional<int> position;
  std::optional<std::uint64_t> permissions;  // unknown for roles seen only in DCE exports
  std::optional<bool> hoist;
  std::optional<bool> managed;
  std::optional<bool> mentionable;
  Json extra = Json::object();
};

struct Member {
  Snowflake guild_id = 0;
  Snowflake user_id = 0;
  std::optional<std::string> nick;
  std::optional<std::string> color;    // "#RRGGBB" of the highest coloured role, as DCE gives it
  std::optional<std::int64_t> joined_at_ms;
  std::optional<std::vector<Snowflake>> role_ids;  // empty optional = source did not list roles
  Json extra = Json::object();
};

struct Attachment {
  Snowflake id = 0;
  std::string filename;
  std::optional<std::int64_t> size;
  std::optional<std::string> url;           // as the source gave it (remote URL or local path)
  std::optional<std::string> content_type;
  std::optional<int> width;
  std::optional<int> height;
  std::optional<std::string> sha256;        // blob holding the bytes; empty = media missing (a recorded gap)
  Json extra = Json::object();
};

// Custom emoji have an id; Unicode emoji have id 0 and the character(s) as name.
struct Emoji {
  Snowflake id = 0;
  std::string name;
  bool animated = false;
  std::optional<std::string> image_url;
  std::optional<std::string> sha256;
  // The key used to tell reactions apart: the id for custom emoji, the name for Unicode ones.
  std::string Key() const { return id ? std::to_string(id) : name; }
};

struct Reaction {
  Emoji emoji;
  int count = 0;
  std::vector<Snowflake> user_ids;  // who reacted, as far as the source knows (may be fewer than count)
  Json extra = Json::object();
};

struct Sticker {
  Snowflake id = 0;
  std::string name;
  int format = 1;  // 1 png, 2 apng, 3 lottie, 4 gif
  std::optional<std::string> url;
  std::optional<std::string> sha256;
};

struct MessageReference {
  int type = 0;  // 0 default (reply, pin, thread), 1 forward
  std::optional<Snowflake> message_id;
  std::optional<Snowflake> channel_id;
  std::optional<Snowflake> guild_id;
};

// How `content` was written by the source.
//  "raw": Discord's own syntax (<@id>, <#id>, <:name:id>, <t:…>) — API, packages, DCE --markdown false.
//  "display": DCE's default rewrite into display text (@Name, #channel, :emoji:); lossy.
//  "unknown": the source could not tell.
struct Message {
  Snowflake id = 0;
  Snowflake channel_id = 0;
  std::optional<Snowflake> guild_id;  // filled by the store from the channel on read
  std::optional<Snowflake> author_id;
  int type = 0;                         // Discord message type integer
  std::optional<std::string> content;   // exactly as written; no trimming, no newline changes
  Timestamp timestamp;
  std::optional<Timestamp> edited;      // set when the message was edited
  std::optional<bool> pinned;
  std::optional<MessageReference> reference;
  std::optional<std::vector<Attachment>> attachments;  // empty optional = source did not say
  std::optional<std::vector<Json>> embeds;             // Discord API embed objects
  std::optional<std::vector<Sticker>> stickers;
  std::optional<std::vector<Reaction>> reactions;
  std::optional<std::vector<Snowflake>> mention_user_ids;
  std::optional<std::vector<Snowflake>> mention_role_ids;
  std::optional<bool> mention_everyone;
  std::optional<bool> tts;
  int flags = 0;
  std::string content_format = "unknown";
  std::optional<std::string> nonce;     // compat API: echoed back, not persisted across restarts
  bool deleted = false;                 // deleted through the compat API (kept as a tombstone)
  Json extra = Json::object();
};

// Where a write comes from. Merge rules compare `source_time_ms`: the source that describes a later moment
// wins for things that change over time (content after an edit, reactions, pins); otherwise a write only fills
// fields that are still unknown.
struct Source {
  std::int64_t run_id = 0;          // import_runs.id; 0 for compat-API writes
  std::int64_t source_time_ms = 0;  // when the source captured the data (DCE exportedAt, package date, now)
};

// A recorded import run (provenance).
struct ImportRun {
  std::int64_t id = 0;
  std::string kind;          // "dce", "package", "crawl", ...
  std::string path;          // input path as given
  std::string sha256;        // of the input file (or of the list of file hashes for folders)
  std::int64_t size = 0;
  std::int64_t mtime = 0;
  std::string tool_version;
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;
  std::string status;        // "running", "done", "failed", "interrupted"
  std::int64_t source_time_ms = 0;
  Json counts = Json::object();
  Json notes = Json::object();  // warnings, fields this source could not know, options (e.g. markdown mode)
};

// A bot account created with `ferry bot create`.
struct Bot {
  Snowflake user_id = 0;         // the bot user (also the application id)
  std::string name;
  std::uint64_t permissions = 0; // of its managed role
  bool privileged_intents = true;
  std::int64_t created_ms = 0;
  bool revoked = false;
  std::vector<Snowflake> guild_ids;
};

}  // namespace ferry
