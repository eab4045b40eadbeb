// SQLite implementation of the Store contract (store.hpp). Internal to store/: other modules use Store.
// Methods for one area may live in their own store/sqlite_<area>.cpp; declare them here.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <map>
#include <unordered_map>
#include <memory>
#include <string>
#include <vector>

#include "store/side_search_index.hpp"
#include "store/store.hpp"
#include "store/wal_checkpointer.hpp"

namespace ferry {

// A prepared statement from the connection's cache; reset and cleared on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), owned_(o.owned_) { o.s_ = nullptr; }
  ~Stmt();

  // Binding (1-based). Snowflakes are stored as their 64-bit pattern in a signed INTEGER.
  Stmt& Bind(int i, std::int64_t v);
  Stmt& BindId(int i, std::uint64_t v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Stmt& Bind(int i, const std::string& v);
  Stmt& BindNull(int i);
  Stmt& Bind(int i, const std::optional<std::string>& v) { return v ? Bind(i, *v) : BindNull(i); }
  Stmt& BindOpt(int i, const std::optional<std::int64_t>& v) { return v ? Bind(i, *v) : BindNull(i); }
  Stmt& BindOptId(int i, const std::optional<std::uint64_t>& v) { return v ? BindId(i, *v) : BindNull(i); }
  Stmt& BindOptBool(int i, const std::optional<bool>& v) { return v ? Bind(i, std::int64_t(*v ? 1 : 0)) : BindNull(i); }

  // SQLITE_ROW → true; SQLITE_DONE → false; errors → false with *st set.
  bool Step(Status* st);
  Status Run();  // executes to completion

  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::uint64_t Id(int col) const { return static_cast<std::uint64_t>(sqlite3_column_int64(s_, col)); }
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::optional<std::int64_t> OptInt(int col) const;
  std::optional<std::uint64_t> OptId(int col) const;
  std::optional<bool> OptBool(int col) const;

  sqlite3_stmt* raw() { return s_; }
  void set_owned() { owned_ = true; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
  bool owned_ = false;  // finalize instead of returning to the cache
};

// Rows of a message's collections, read from column `c` on (the column lists LoadMessageCollections and
// LoadMessageCollectionsBatch select, after the message id in the batch form).
//   attachment: id, filename, size, url, content_type, width, height, sha256, extra
//   sticker:    sticker_id, name, format, url, sha256
//   reaction:   emoji_id, emoji_name, animated, image_url, sha256, count, extra
Attachment AttachmentFromRow(const Stmt& s, int c);
Sticker StickerFromRow(const Stmt& s, int c);
Reaction ReactionFromRow(const Stmt& s, int c);

class SqliteStore : public Store {
 public:
  static Status OpenImpl(const std::string& path, const OpenOptions& options, std::unique_ptr<Store>* out);
  ~SqliteStore() override;
  Status Close() override;

  const std::string& path() const override { return path_; }
  std::string blob_dir() const override { return path_ + ".blobs"; }
  int schema_version() const override { return version_; }

  Status Begin() override;
  Status Commit() override;
  Status Rollback() override;
  Status FlushSearchIndex(Progress* progress, std::int64_t max_messages = 0) override;

  Status BeginRun(ImportRun* run) override;
  Status FinishRun(const ImportRun& run) override;
  Status GetRun(std::int64_t id, ImportRun* out) override;
  Status FindRuns(const std::string& kind, const std::string& path, std::vector<ImportRun>* out) override;
  Status ListRuns(std::vector<ImportRun>* out) override;
  Status SetRunFile(std::int64_t run_id, const std::string& file, const std::string& sha256,
                    const std::string& status, const Json& detail) override;
  Status FindDoneFile(const std::string& sha256, std::int64_t* run_id) override;

  Status UpsertGuild(const Guild& g, const Source& src) override;
  Status UpsertChannel(const Channel& c, const Source& src) override;
  Status UpsertUser(const User& u, const Source& src) override;
  Status UpsertRole(const Role& r, const Source& src) override;
  Status UpsertMember(const Member& m, const Source& src) override;
  Status UpsertMessage(const Message& m, const Source& src) override;
  Status UpsertMessages(const std::vector<Message>& ms, const Source& src) override;  // sqlite_bulk_messages.cpp

  Status PutBlobFile(const std::string& file, std::string* sha256, std::int64_t* size) override;
  Status PutBlobBytes(const std::string& bytes, std::string* sha256) override;
  std::string BlobPath(const std::string& sha256) const override;

  Status GetGuild(Snowflake id, Guild* out) override;
  Status ListGuilds(std::vector<Guild>* out) override;
  Status GetChannel(Snowflake id, Channel* out) override;
  Status ListChannels(Snowflake guild_id, std::vector<Channel>* out) override;
  Status GetUser(Snowflake id, User* out) override;
  Status ListRoles(Snowflake guild_id, std::vector<Role>* out) override;
  Status GetRole(Snowflake id, Role* out) override;
  Status GetMember(Snowflake guild_id, Snowflake user_id, Member* out) override;
  Status ListMembers(Snowflake guild_id, Snowflake after, int limit, std::vector<Member>* out) override;
  Status GetMessage(Snowflake channel_id, Snowflake id, Message* out) override;
  Status ListMessages(const MessageQuery& q, std::vector<Message>* out) override;
  Status ForEachMessage(Snowflake channel_id, const std::function<bool(const Message&)>& fn) override;
  Status CountMessages(Snowflake channel_id, std::int64_t* out) override;
  Status ListPinned(Snowflake channel_id, std::vector<Message>* out) override;
  Status Search(const SearchQuery& q, std::vector<SearchHit>* out) override;
  Status Stats(StoreStats* out) override;
  Status ForEachUser(const std::function<bool(const User&)>& fn) override;

  Status DeleteMessage(Snowflake channel_id, Snowflake id) override;
  Status SetPinned(Snowflake channel_id, Snowflake id, bool pinned) override;
  Status AddReaction(Snowflake message_id, const Emoji& e, Snowflake user_id) override;
  Status RemoveReaction(Snowflake message_id, const std::string& emoji_key, Snowflake user_id) override;
  Status RemoveAllReactions(Snowflake message_id, const std::string& emoji_key) override;
  Status ListReactionUsers(Snowflake message_id, const std::string& emoji_key, Snowflake after, int limit,
                           std::vector<Snowflake>* out) override;
  Status PutOverwrite(Snowflake channel_id, const Overwrite& o) override;
  Status DeleteOverwrite(Snowflake channel_id, Snowflake overwrite_id) override;
  Status AddThreadMember(Snowflake thread_id, Snowflake user_id, std::int64_t joined_ms) override;
  Status RemoveThreadMember(Snowflake thread_id, Snowflake user_id) override;
  Status ListThreadMembers(Snowflake thread_id, std::vector<std::pair<Snowflake, std::int64_t>>* out) override;
  Status RemoveMember(Snowflake guild_id, Snowflake user_id) override;

  Status CreateBot(const Bot& bot, const std::string& token_hash, const std::string& token_prefix) override;
  Status FindBotByTokenHash(const std::string& token_hash, Bot* out) override;
  Status ListBots(std::vector<BotInfo>* out) override;
  Status RevokeBot(const std::string& id_or_name) override;

  Status GetMapping(const std::string& target, const std::string& key, std::string* value) override;
  Status PutMapping(const std::string& target, const std::string& key, const std::string& value) override;
  Status GetMeta(const std::string& key, std::string* value) override;
  Status PutMeta(const std::string& key, const std::string& value) override;

  // store/sqlite_compat_core.cpp
  Status FindAttachment(Snowflake attachment_id, Attachment* out, Snowflake* message_id,
                        Snowflake* channel_id) override;
  Status FindEmoji(Snowflake emoji_id, Emoji* out) override;
  Status MaxSnowflake(Snowflake* out) override;
  std::uint64_t ChangeCounter() override;
  Status ListMessageIds(const MessageQuery& q, std::vector<Snowflake>* out) override;
  Status GetMessages(const std::vector<Snowflake>& ids, std::vector<Message>* out) override;
  // Collections of a whole page in one query per collection (what LoadMessageCollections does per message).
  Status LoadMessageCollectionsBatch(std::vector<Message>* msgs);
  Status BeginRead() override;
  void EndRead() override;

  // ---- shared helpers for sqlite_*.cpp files -------------------------------------------------------
  // A cached prepared statement (prepared once per connection).
  Stmt Prepare(const char* sql, Status* st);
  // A fresh statement, finalized when the Stmt dies: for iteration that may nest other queries.
  Stmt PrepareOwned(const char* sql, Status* st);
  Status Exec(const char* sql);
  // Exec for one statement run often: prepared once (cached), then stepped.
  Status ExecCached(const char* sql);
  Status Error(const char* what) const;
  sqlite3* db() { return db_; }
  Status LoadMessageRow(Stmt& s, Message* m);        // columns as kMessageColumns
  Status LoadMessageCollections(Message* m);
  static const char* kMessageColumns;
  // Times FlushSearchIndex used a side build (side_search_index.hpp) instead of the queue; for tests.
  int side_index_copies() const { return side_copies_; }

 private:
  SqliteStore() = default;
  Status Migrate();
  // Open: a store whose unsynced import did not finish (see unsynced_import.hpp) is checked before use.
  Status CheckAfterUnsyncedImport(bool read_only);
  Status FlushFts();
  // Ends a bulk indexing pass (see FlushSearchIndex) once the queue is empty: one merge, defaults restored.
  Status FinishBulkIndex(Progress* progress, std::int64_t done);
  // First import only (see side_search_index.hpp): starts the side build when the store holds no messages.
  void MaybeStartSideIndex();
  // Copies the side build into messages_fts and empties the queue; an error leaves the queue as it was (the
  // caller then indexes it the usual way).
  Status FinishSideIndex(Progress* progress);
  // Stops using the side build (something the copy could not account for happened); the queue stands.
  void AbandonSideIndex() {
    side_.reset();
    side_changed_.clear();
    side_changed_bytes_ = 0;
  }
  // Runs `write` inside the open transaction, or inside one of its own (rolled back if it fails).
  Status InTransaction(const std::function<Status()>& write);
  Status UpsertMessageInTx(const Message& m, const Source& src);
  Status UpsertMessagesInTx(const std::vector<Message>& ms, const Source& src);
  // The collections of the messages marked in `fresh` (just inserted: nothing of theirs is stored yet).
  Status InsertNewCollections(const std::vector<Message>& ms, const std::vector<char>& fresh);
  Status WriteCollections(const Message& m, bool newer, int stored_known, bool existed);

  std::string path_;
  sqlite3* db_ = nullptr;
  int version_ = 0;
  bool in_tx_ = false;
  // store/sqlite_compat_core.cpp: read transactions and ChangeCounter().
  bool read_tx_ = false;  // a BEGIN (deferred) of BeginRead is open
  int read_depth_ = 0;    // BeginRead() calls not yet ended
  void ReopenRead();      // after a write inside a read scope
  std::uint64_t change_counter_ = 0;
  std::int64_t seen_data_version_ = -1, seen_local_changes_ = -1;
  // A new store written by a bulk import without syncs, in rollback-journal mode, until Close().
  bool unsynced_ = false;
  bool defer_fts_ = false;  // bulk load / serve: the search queue is indexed by FlushSearchIndex()
  std::unique_ptr<WalCheckpointer> checkpointer_;  // OpenOptions::checkpoint_in_background
  std::unique_ptr<SideSearchIndex> side_;
  // Messages whose content an update may have changed while the side build runs, with their content before
  // the run's first such update (what the side build indexed for them, when not empty): FinishSideIndex
  // re-indexes them from the store.
  std::unordered_map<std::int64_t, std::string> side_changed_;
  std::size_t side_changed_bytes_ = 0;
  int side_copies_ = 0;
  std::map<std::string, sqlite3_stmt*> cache_;
  std::unordered_map<const char*, std::pair<const char*, sqlite3_stmt*>> by_address_;
};

// JSON text of an `extra` object or an embed as stored (invalid UTF-8 replaced, `{}` without the serializer).
std::string JsonText(const Json& j);
// The `collections` bits of a message row: which collections the message's source described.
int KnownCollections(const Message& m);

// Merges JSON objects: keys of `incoming` override `base` when `incoming_wins`, else only fill missing keys.
void MergeExtra(Json* base, const Json& incoming, bool incoming_wins);

}  // namespace ferry
