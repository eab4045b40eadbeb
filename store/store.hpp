// The store: the one contract importers, exporters and the compat API share. No SQL outside store/.
//
// Promises (see ../shared/DESIGN.md):
//  - Snowflakes are primary keys exactly as given.
//  - Lossless: input fields without a column land in `extra` (a JSON object; keys merge, never removed).
//  - Merge by snowflake: writing an entity that exists merges it. Fields the write leaves empty (std::nullopt)
//    keep their stored value. For a field that is set on both sides:
//      * if the write's Source.source_time_ms >= the stored row's source time, the write wins;
//      * otherwise the stored value stays (an older export never overwrites a newer one).
//    Collections that change over time (a message's reactions, attachments, embeds, stickers, mentions) are
//    replaced as a whole by the newer source and left alone by an older one. The row records the run that last
//    set it (`source_run`) and the time of that source.
//  - Atomic: writes happen inside Begin()/Commit(); a killed process loses at most the open transaction.
//  - Versioned: Open() applies the numbered migrations in schemas/ in order and refuses a store whose
//    PRAGMA user_version is newer than this binary knows, saying both numbers.
//  - Blobs live in a content-addressed directory beside the database (<db>.blobs/ab/abcdef…); rows point at
//    them by sha256. A missing blob is a recorded gap, not an error.
//
// Threading: a Store object is used by one thread at a time. Several processes may open the same file
// (SQLite WAL); writers are serialised by SQLite with a busy timeout.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/model.hpp"
#include "store/progress.hpp"
#include "store/status.hpp"

namespace ferry {

struct OpenOptions {
  bool create_if_missing = true;
  bool read_only = false;
  // Import-time tuning: larger page cache, fewer fsyncs. Safe against process death (WAL), which is what
  // kill -9 tests; only a power loss can lose the last committed batches. When the store file does not exist
  // yet, it is written without syncs in rollback-journal mode until Close() (store/unsynced_import.hpp):
  // still safe against process death; a power loss before Close() is detected at the next open.
  // Search indexing is deferred to
  // FlushSearchIndex() (indexing a whole import at once costs about half of indexing it batch by batch).
  bool bulk_load = false;
  // Serving many small writes (`ferry serve`):
  //  - defer_search_index: new messages are queued for search and indexed by FlushSearchIndex() (the server
  //    calls it every 100 ms) instead of at each commit, which halves the pages a one-message write touches.
  //  - checkpoint_in_background: the WAL is copied back into the database by a thread of the store with its
  //    own connection (passive checkpoints, which never block the writer) instead of inside the commit that
  //    crossed the threshold, whose caller would wait for the copy and its fsync (the p99 of POST /messages).
  //    bulk_load implies it (a 2M-message import: 33 s -> 31 s, the copying moves to the idle core).
  bool defer_search_index = false;
  bool checkpoint_in_background = false;
};

// Paging through a channel's messages, the way Discord's GET /channels/{id}/messages does.
struct MessageQuery {
  Snowflake channel_id = 0;
  std::optional<Snowflake> before;
  std::optional<Snowflake> after;
  std::optional<Snowflake> around;
  int limit = 50;                 // 1..100 in the API; any positive value here
  bool include_deleted = false;
};

struct SearchQuery {
  std::string text;                    // FTS5 query text; plain words are matched as a phrase-safe AND
  std::optional<Snowflake> guild_id;
  std::optional<Snowflake> channel_id;
  std::optional<Snowflake> author_id;
  int limit = 25;
  int offset = 0;
};

struct SearchHit {
  Message message;
  std::string snippet;  // content with the matches marked [like this]
};

struct StoreStats {
  std::int64_t guilds = 0, channels = 0, threads = 0, users = 0, members = 0, roles = 0, messages = 0,
               attachments = 0, attachments_missing = 0, reactions = 0, embeds = 0, stickers = 0, blobs = 0,
               blob_bytes = 0, import_runs = 0;
  Json runs = Json::array();                   // one object per run: id, kind, path, status, counts, ...
  Json messages_by_source = Json::object();    // run kind -> messages last set by that kind of source
};

// One row of `ferry bot list`.
struct BotInfo {
  Bot bot;
  std::string token_prefix;  // first characters of the token, for telling tokens apart
};

class Store {
 public:
  // Opens (and creates/migrates) the store at `path`. Errors: kVersionMismatch for a newer store,
  // kStoreError for a file that is not a Ferry store or is corrupt, kIoError when it cannot be created.
  static Status Open(const std::string& path, const OpenOptions& options, std::unique_ptr<Store>* out);

  // The schema version this binary writes (the highest migration in schemas/).
  static int KnownSchemaVersion();

  virtual ~Store() = default;
  virtual const std::string& path() const = 0;
  virtual std::string blob_dir() const = 0;
  virtual int schema_version() const = 0;

  // Makes everything a bulk import committed durable: a new store it filled without syncs (see
  // store/unsynced_import.hpp) is synced and switched to WAL here, so an importer calls this before it reports
  // success. Nothing to do for other stores. Idempotent; the destructor calls it and drops its error.
  virtual Status Close() { return Status::Ok(); }

  // ---- transactions --------------------------------------------------------------------------------
  // Nested Begin() calls are not supported; every write outside Begin/Commit is its own transaction.
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;

  // A read scope: the reads until the matching EndRead() share one snapshot and one lock round-trip
  // instead of one each (a compat-API request makes a dozen). Scopes nest. A Begin() inside one ends the
  // read transaction first (a write starts from the newest data) and it reopens after Commit()/Rollback(),
  // so a request may read, write, then read what it wrote. Keep scopes short: an open read transaction
  // holds back checkpoints. The default does nothing.
  virtual Status BeginRead() { return Status::Ok(); }
  virtual void EndRead() {}

  // Makes every committed message searchable. Without bulk_load each Commit() does this itself; a bulk-load
  // store queues messages for search and the importer calls this when its run ends. Works in chunks, each
  // its own transaction, so an interrupted flush loses nothing: the rest is indexed by the next call or
  // when the store is next opened for writing. Must not be called inside Begin/Commit. `progress` may be null.
  // `max_messages` > 0 stops after about that many (in whole chunks of at most that size), for callers that
  // must not hold the store for long: the server indexes a little at a time, so a queue filled by an import
  // running beside it never stalls the requests.
  virtual Status FlushSearchIndex(Progress* progress, std::int64_t max_messages = 0) = 0;

  // ---- provenance ----------------------------------------------------------------------------------
  // Records a new run with status "running"; fills run->id and run->started_ms.
  virtual Status BeginRun(ImportRun* run) = 0;
  // Sets status, counts, notes and ended_ms of a run.
  virtual Status FinishRun(const ImportRun& run) = 0;
  virtual Status GetRun(std::int64_t id, ImportRun* out) = 0;
  // Runs for one input, newest first. `kind` and `path` must match exactly.
  virtual Status FindRuns(const std::string& kind, const std::string& path, std::vector<ImportRun>* out) = 0;
  virtual Status ListRuns(std::vector<ImportRun>* out) = 0;

  // Per-input-file progress inside a run, so an interrupted import can tell what it finished.
  // status: "running", "done", "failed", "skipped".
  virtual Status SetRunFile(std::int64_t run_id, const std::string& file, const std::string& sha256,
                            const std::string& status, const Json& detail) = 0;
  // Status of a file in any run; NotFound if never seen. Lets a re-import skip identical finished inputs.
  virtual Status FindDoneFile(const std::string& sha256, std::int64_t* run_id) = 0;

  // ---- merge writes (see merge rules above) --------------------------------------------------------
  virtual Status UpsertGuild(const Guild& g, const Source& src) = 0;
  virtual Status UpsertChannel(const Channel& c, const Source& src) = 0;
  virtual Status UpsertUser(const User& u, const Source& src) = 0;
  virtual Status UpsertRole(const Role& r, const Source& src) = 0;
  virtual Status UpsertMember(const Member& m, const Source& src) = 0;
  // Writes the message and its attachments, embeds, stickers, reactions and mentions. Users referenced
  // (author, mentions, reactors) must be upserted separately by the caller.
  virtual Status UpsertMessage(const Message& m, const Source& src) = 0;
  // UpsertMessage for each message, in order (an importer's batch, inside Begin/Commit): the same result, in
  // fewer statements where the store can.
  virtual Status UpsertMessages(const std::vector<Message>& ms, const Source& src) {
    for (const auto& m : ms) FERRY_RETURN_IF_ERROR(UpsertMessage(m, src));
    return Status::Ok();
  }

  // ---- blobs ---------------------------------------------------------------------------------------
  // Copies a local file into the blob directory (atomically: temp file + rename) and returns its sha256.
  // Identical content is stored once. NotFound if the file does not exist.
  virtual Status PutBlobFile(const std::string& file, std::string* sha256, std::int64_t* size) = 0;
  virtual Status PutBlobBytes(const std::string& bytes, std::string* sha256) = 0;
  // Path of a blob's bytes; empty if the blob is not present.
  virtual std::string BlobPath(const std::string& sha256) const = 0;

  // ---- reads ---------------------------------------------------------------------------------------
  virtual Status GetGuild(Snowflake id, Guild* out) = 0;
  virtual Status ListGuilds(std::vector<Guild>* out) = 0;
  virtual Status GetChannel(Snowflake id, Channel* out) = 0;
  // Channels (and threads) of a guild, ordered by position then id. guild 0 lists DMs and group DMs.
  virtual Status ListChannels(Snowflake guild_id, std::vector<Channel>* out) = 0;
  virtual Status GetUser(Snowflake id, User* out) = 0;
  virtual Status ListRoles(Snowflake guild_id, std::vector<Role>* out) = 0;
  virtual Status GetRole(Snowflake id, Role* out) = 0;
  virtual Status GetMember(Snowflake guild_id, Snowflake user_id, Member* out) = 0;
  // Members ordered by user id, starting after `after`, at most `limit`.
  virtual Status ListMembers(Snowflake guild_id, Snowflake after, int limit, std::vector<Member>* out) = 0;
  virtual Status GetMessage(Snowflake channel_id, Snowflake id, Message* out) = 0;
  // Discord's paging: newest first in every page. `after` returns the `limit` messages right after the
  // anchor; `around` centres the page on the anchor; none of the three returns the newest messages.
  virtual Status ListMessages(const MessageQuery& q, std::vector<Message>* out) = 0;
  // Streams every message of a channel oldest first, in constant memory. Stop early by returning false.
  virtual Status ForEachMessage(Snowflake channel_id,
                                const std::function<bool(const Message&)>& fn) = 0;
  virtual Status CountMessages(Snowflake channel_id, std::int64_t* out) = 0;
  virtual Status ListPinned(Snowflake channel_id, std::vector<Message>* out) = 0;
  virtual Status Search(const SearchQuery& q, std::vector<SearchHit>* out) = 0;
  virtual Status Stats(StoreStats* out) = 0;
  // Every user id seen anywhere (authors, members, mentions, reactors), ascending, streamed.
  virtual Status ForEachUser(const std::function<bool(const User&)>& fn) = 0;

  // ---- compat-API writes (each its own transaction unless inside Begin/Commit) ---------------------
  // Marks a message deleted (kept as a tombstone, hidden from reads unless asked).
  virtual Status DeleteMessage(Snowflake channel_id, Snowflake id) = 0;
  virtual Status SetPinned(Snowflake channel_id, Snowflake id, bool pinned) = 0;
  // Adds `user_id`'s reaction; kConflict if it is already there. Count follows the user list.
  virtual Status AddReaction(Snowflake message_id, const Emoji& e, Snowflake user_id) = 0;
  // Removes one user's reaction; NotFound if absent.
  virtual Status RemoveReaction(Snowflake message_id, const std::string& emoji_key, Snowflake user_id) = 0;
  // Removes all reactions, or all of one emoji when emoji_key is non-empty.
  virtual Status RemoveAllReactions(Snowflake message_id, const std::string& emoji_key) = 0;
  virtual Status ListReactionUsers(Snowflake message_id, const std::string& emoji_key, Snowflake after,
                                   int limit, std::vector<Snowflake>* out) = 0;
  virtual Status PutOverwrite(Snowflake channel_id, const Overwrite& o) = 0;
  virtual Status DeleteOverwrite(Snowflake channel_id, Snowflake overwrite_id) = 0;
  virtual Status AddThreadMember(Snowflake thread_id, Snowflake user_id, std::int64_t joined_ms) = 0;
  virtual Status RemoveThreadMember(Snowflake thread_id, Snowflake user_id) = 0;
  virtual Status ListThreadMembers(Snowflake thread_id, std::vector<std::pair<Snowflake, std::int64_t>>* out) = 0;
  virtual Status RemoveMember(Snowflake guild_id, Snowflake user_id) = 0;

  // ---- bots (tokens are stored as sha256 hashes only) ----------------------------------------------
  virtual Status CreateBot(const Bot& bot, const std::string& token_hash, const std::string& token_prefix) = 0;
  // NotFound for an unknown or revoked token.
  virtual Status FindBotByTokenHash(const std::string& token_hash, Bot* out) = 0;
  virtual Status ListBots(std::vector<BotInfo>* out) = 0;
  // Revokes by user id or by name; NotFound if no such bot.
  virtual Status RevokeBot(const std::string& id_or_name) = 0;

  // ---- exporter state (e.g. Discord id -> Matrix event id), so exports resume and never repeat ------
  virtual Status GetMapping(const std::string& target, const std::string& key, std::string* value) = 0;
  virtual Status PutMapping(const std::string& target, const std::string& key, const std::string& value) = 0;

  // ---- compat-API lookups (CDN, id floor); not pure so other Store implementations keep compiling ----
  // An attachment by id, with its message and channel (CDN: /attachments/{channel}/{id}/{name}). NotFound
  // if unknown.
  virtual Status FindAttachment(Snowflake attachment_id, Attachment* out, Snowflake* message_id,
                                Snowflake* channel_id) {
    return Status::NotFound("attachment lookup not supported by this store");
  }
  // A custom emoji seen in reactions, by id (CDN: /emojis/{id}.png). NotFound if unknown.
  virtual Status FindEmoji(Snowflake emoji_id, Emoji* out) {
    return Status::NotFound("emoji lookup not supported by this store");
  }
  // The highest snowflake of any guild, channel, user, role, message or attachment; 0 for an empty store.
  // New ids are generated above it.
  virtual Status MaxSnowflake(Snowflake* out) {
    *out = 0;
    return Status::Ok();
  }
  // A number that changes whenever the store's content may have changed since the previous call: a write
  // through this object or a commit by any other process (e.g. `ferry import` beside `ferry serve`). Cheap
  // enough to call per request; lets callers keep caches of rendered objects. The default always changes.
  virtual std::uint64_t ChangeCounter() {
    static std::uint64_t n = 0;
    return ++n;
  }
  // The ids ListMessages(q) returns, in its order, without loading the messages (for callers that keep
  // rendered messages and need only the page's composition).
  virtual Status ListMessageIds(const MessageQuery& q, std::vector<Snowflake>* out) {
    std::vector<Message> page;
    Status st = ListMessages(q, &page);
    out->clear();
    for (const auto& m : page) out->push_back(m.id);
    return st;
  }
  // The (not deleted) messages with these ids, in the order given; unknown and deleted ids are left out.
  virtual Status GetMessages(const std::vector<Snowflake>& ids, std::vector<Message>* out) {
    out->clear();
    for (Snowflake id : ids) {
      Message m;
      Status st = GetMessage(0, id, &m);
      if (st.IsNotFound()) continue;
      if (!st.ok()) return st;
      if (!m.deleted) out->push_back(std::move(m));
    }
    return Status::Ok();
  }

  // ---- key/value settings of the store (e.g. snowflake worker id) ---------------------------------
  virtual Status GetMeta(const std::string& key, std::string* value) = 0;
  virtual Status PutMeta(const std::string& key, const std::string& value) = 0;
};

}  // namespace ferry
