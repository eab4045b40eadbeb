// DCE JSON records → the neutral model (store/model.hpp). No store access here: the mapper fills Batches that
// the importer's writer thread hands to the Store, so parsing and SQLite writes run side by side.
//
// What goes where (formats.md §2):
//  - guild "0" is DCE's pseudo-guild for DMs: no guild row, the channel has no guild_id.
//  - channel.categoryId/category: the category of a channel, or the parent channel of a thread/forum post.
//    A category is written as a GuildCategory channel; a thread's parent, whose type the file does not tell,
//    is written with source time 0 so any export of the parent itself overrides the guess.
//  - users: author, mentions, reaction users, interaction user. In a guild, DCE's `nickname` (guild nick →
//    display name → username) becomes the member nick when it differs from the username; in DMs it is the
//    user's global name. `roles` (when present) become roles + the member's role list.
//  - message type names and channel type names map to Discord's integers; numeric strings are kept as numbers.
//  - content is kept byte for byte; content_format is decided from evidence (raw <@id>/<#id>/<:e:id>/<t:…>
//    syntax → "raw"; display forms of the message's own mentions/emoji → "display"), else the file's mode so
//    far, else "unknown".
//  - embeds are converted to Discord API embed objects (DCE-only fields kept under dce_* keys);
//    everything without a column of its own lands in `extra`.
//  - media: each url/avatarUrl/iconUrl/imageUrl/sourceUrl that is a local path (relative to the JSON file's
//    folder, `\` or `/`, or absolute) and exists is hashed and queued for the blob store; remote URLs and
//    missing files are recorded gaps (no sha256), counted, never errors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "store/model.hpp"

namespace ferry::dce {

// ---- enumerations --------------------------------------------------------------------------------------
// -1 when the text is neither a known DCE name nor a decimal number.
int ChannelTypeFromDce(std::string_view s);
int MessageTypeFromDce(std::string_view s);
int StickerFormatFromDce(std::string_view s);  // 0 when unknown
std::optional<std::uint32_t> ParseHexColor(std::string_view s);  // "#E67E22" → 0xE67E22

// "raw", "display", or "" (no evidence either way).
std::string_view ContentEvidence(std::string_view content, const std::vector<std::string_view>& mention_names,
                                 const std::vector<std::string_view>& emoji_names);

// True for http(s)/data URLs (media DCE did not download).
bool IsRemoteUrl(std::string_view url);

// Converts one DCE embed object to a Discord API embed object.
Json ConvertEmbed(simdjson::dom::element embed);
Json ToJson(simdjson::dom::element e);

// ---- a small open-addressing map for per-run caches (ids → fingerprints) --------------------------------
class U64Map {
 public:
  // Returns the slot value for `key` (0 if new); key 0 is never stored.
  std::uint64_t* Find(std::uint64_t key);
  void Put(std::uint64_t key, std::uint64_t value);
  std::size_t size() const { return size_; }
  void Clear();

 private:
  void Grow();
  std::vector<std::uint64_t> keys_, values_;
  std::size_t size_ = 0;
};

// ---- batches -------------------------------------------------------------------------------------------
struct BlobCopy {
  std::string path;    // local file
  std::string sha256;  // what the mapper computed (the store recomputes it while copying)
};

struct RunFileUpdate {
  std::string file, sha256, status;
  Json detail = Json::object();
};

// One transaction's worth of writes.
struct Batch {
  Source src;
  std::vector<std::pair<Guild, Source>> guilds;
  std::vector<std::pair<Channel, Source>> channels;
  std::vector<Role> roles;
  std::vector<User> users;
  std::vector<Member> members;
  std::vector<Message> messages;
  std::vector<BlobCopy> blobs;
  std::vector<RunFileUpdate> run_files;
  std::vector<std::pair<std::string, std::string>> meta;
  std::int64_t bytes_done = 0;  // input offset reached when the batch was cut
};

struct MapCounters {
  std::int64_t attachments = 0, attachments_missing = 0, media_local = 0, media_missing = 0, media_remote = 0,
               blobs_queued = 0;
};

// Per-file facts the mapper needs.
struct FileContext {
  std::string file;                     // as shown in messages
  std::string dir;                      // the JSON file's folder (relative media paths start here)
  std::vector<std::string> media_dirs;  // fallback folders for a media file name (own and base _Files/)
  Snowflake guild_id = 0;               // 0: DMs
  Snowflake channel_id = 0;
  Source src;
};

// What the mappers of one import run share: counts and caches that span files (a run may map several
// files side by side, one Mapper each).
struct MapperRunState {
  MapCounters counters;
  U64Map seen_users;   // distinct user ids
  U64Map queued_blob;  // sha256 prefix → 1
  std::unordered_map<std::string, std::optional<std::string>> media_cache;  // resolved path → sha256
};

class Mapper {
 public:
  Mapper();  // with a run state of its own
  explicit Mapper(std::shared_ptr<MapperRunState> run);
  ~Mapper();

  void BeginFile(const FileContext& ctx);
  // Maps the header's guild and channel (parents, DM pseudo-guild). Errors name the file.
  bool MapHeader(simdjson::dom::element guild, simdjson::dom::element channel, Batch* b, std::string* error);
  // Maps one message. Returns false (and a warning naming file/position) when it has to be skipped.
  bool MapMessage(simdjson::dom::element msg, std::uint64_t offset, std::int64_t index, Batch* b,
                  std::string* warning);
  // Warnings that are not about one message (unknown type names, …), drained by the importer.
  std::vector<std::string> TakeNotes();

  const FileContext& ctx() const { return ctx_; }
  std::int64_t distinct_users() const { return static_cast<std::int64_t>(run_->seen_users.size()); }
  // "raw", "display", "mixed" or "unknown" for the current file.
  std::string FileContentFormat() const;
  // Remembers which blobs the writer already copied in this run (so each is queued once).
  void ForgetQueuedBlobs();

 private:
  struct MediaResult {
    std::optional<std::string> sha256;
    bool local = false;
  };
  MediaResult Media(std::string_view url, Batch* b);
  std::optional<std::string> ResolveLocal(std::string_view url) const;
  Snowflake MapUser(simdjson::dom::element u, Batch* b, bool* ok);
  void Note(std::string s);

  FileContext ctx_;
  std::shared_ptr<MapperRunState> run_;
  U64Map user_fp_;       // per file: user id → fingerprint of what was last queued
  U64Map member_fp_;     // per file: user id → fingerprint (nick/color)
  U64Map member_roles_;  // per file: user id → fingerprint of the role list
  U64Map role_fp_;       // per file: role id → fingerprint
  U64Map missing_seen_;  // per file: hash of missing/remote url
  std::vector<std::string> notes_;
  U64Map noted_;
  int raw_msgs_ = 0, display_msgs_ = 0;
  std::string file_mode_;  // first evidence seen in this file
};

}  // namespace ferry::dce
