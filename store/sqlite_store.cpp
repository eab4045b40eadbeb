#include "store/sqlite_store.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "store/bulk_rows.hpp"
#include "store/snowflake.hpp"
#include "store/unsynced_import.hpp"
#include "store/timestamp.hpp"

namespace ferry {
namespace {

struct Migration {
  int version;
  const char* sql;
};
const Migration kMigrations[] = {
#include "migrations.inc"
};

// SQLite's allocation statistics take a process-wide mutex on every malloc; nothing here reads them.
// Must run before the library initialises, hence a static object.
const struct NoMemStatus {
  NoMemStatus() { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
} kNoMemStatus;

Json ParseJsonOr(const std::string& text, Json fallback) {
  if (text.empty()) return fallback;
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

std::string IdsJson(const std::vector<Snowflake>& ids) {
  Json a = Json::array();
  for (auto id : ids) a.push_back(std::to_string(id));
  return a.dump();
}

std::vector<Snowflake> IdsFromJson(const std::string& text) {
  std::vector<Snowflake> out;
  Json a = ParseJsonOr(text, Json::array());
  if (!a.is_array()) return out;
  for (auto& v : a) {
    if (v.is_string()) {
      if (auto id = ParseSnowflake(v.get<std::string>())) out.push_back(*id);
    } else if (v.is_number_unsigned()) {
      out.push_back(v.get<std::uint64_t>());
    }
  }
  return out;
}

enum CollectionBits : int {
  kAttachments = 1, kEmbeds = 2, kStickers = 4, kReactions = 8, kUserMentions = 16, kRoleMentions = 32,
};

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(const void* p, size_t n) { EVP_DigestUpdate(ctx_, p, n); }
  std::string Hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
      out += hex[md[i] >> 4];
      out += hex[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace

std::string JsonText(const Json& j) {
  if (j.is_object() && j.empty()) return "{}";  // most rows' `extra`: skips the serializer
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

int KnownCollections(const Message& m) {
  int b = 0;
  if (m.attachments) b |= kAttachments;
  if (m.embeds) b |= kEmbeds;
  if (m.stickers) b |= kStickers;
  if (m.reactions) b |= kReactions;
  if (m.mention_user_ids) b |= kUserMentions;
  if (m.mention_role_ids) b |= kRoleMentions;
  return b;
}

// ---------------------------------------------------------------------------------------------------
// Stmt

Stmt::~Stmt() {
  if (!s_) return;
  if (owned_) {
    sqlite3_finalize(s_);
  } else {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

Stmt& Stmt::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, const std::string& v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

bool Stmt::Step(Status* st) {
  if (!s_) return false;
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE && st) *st = Status::StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return false;
}

Status Stmt::Run() {
  Status st;
  while (Step(&st)) {
  }
  return st;
}

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  if (!t) return std::string();
  return std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}
std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
std::optional<std::int64_t> Stmt::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}
std::optional<std::uint64_t> Stmt::OptId(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Id(col);
}
std::optional<bool> Stmt::OptBool(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col) != 0;
}

void MergeExtra(Json* base, const Json& incoming, bool incoming_wins) {
  if (!base->is_object()) *base = Json::object();
  if (!incoming.is_object()) return;
  for (auto it = incoming.begin(); it != incoming.end(); ++it) {
    if (incoming_wins || !base->contains(it.key())) (*base)[it.key()] = it.value();
  }
}

// ---------------------------------------------------------------------------------------------------
// Opening and migrations

Status Store::Open(const std::string& path, const OpenOptions& options, std::unique_ptr<Store>* out) {
  return SqliteStore::OpenImpl(path, options, out);
}

int Store::KnownSchemaVersion() {
  int v = 0;
  for (const auto& m : kMigrations) v = std::max(v, m.version);
  return v;
}

Status SqliteStore::OpenImpl(const std::string& path, const OpenOptions& options, std::unique_ptr<Store>* out) {
  std::unique_ptr<SqliteStore> s(new SqliteStore());
  s->path_ = path;
  std::error_code size_ec;
  bool exists = std::filesystem::exists(path);
  // A 0-byte file is what an open that failed before its first write leaves: as new as a missing one.
  bool fresh = !exists || std::filesystem::file_size(path, size_ec) == 0;
  if (!exists && !options.create_if_missing) return Status::NotFound("store " + path + " does not exist");
  if (!exists && !options.read_only) {
    auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  int flags = options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &s->db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = s->db_ ? sqlite3_errmsg(s->db_) : "out of memory";
    return Status::IoError("cannot open store " + path + ": " + msg);
  }
  sqlite3_busy_timeout(s->db_, 15000);
  if (RegisterBulkRows(s->db_) != SQLITE_OK) return Status::StoreError("cannot set up store " + path);
  sqlite3_extended_result_codes(s->db_, 1);

  // A file that is not SQLite fails here, before anything is written to it.
  int user_version = 0;
  {
    Status st;
    Stmt q = s->PrepareOwned("PRAGMA user_version", &st);
    if (!st.ok() || !q.Step(&st)) {
      return Status::StoreError("store " + path + " is not a Ferry store (not an SQLite database: " +
                                std::string(sqlite3_errmsg(s->db_)) + ")");
    }
    user_version = static_cast<int>(q.Int(0));
  }
  int known = KnownSchemaVersion();
  if (user_version > known) {
    return Status::VersionMismatch("store " + path + " has schema version " + std::to_string(user_version) +
                                   ", but this ferry knows versions up to " + std::to_string(known) +
                                   ": use a newer ferry to open it");
  }
  if (user_version == 0) {
    Status st;
    Stmt q = s->PrepareOwned("SELECT count(*) FROM sqlite_master", &st);
    if (st.ok() && q.Step(&st) && q.Int(0) > 0) {
      return Status::StoreError("store " + path +
                                " is an SQLite database but not a Ferry store (it has tables and no Ferry schema version)");
    }
  }

  if (exists && !fresh) FERRY_RETURN_IF_ERROR(s->CheckAfterUnsyncedImport(options.read_only));

  if (!options.read_only) {
    if (fresh && options.bulk_load) {
      FERRY_RETURN_IF_ERROR(UnsyncedImport::Create(path));
      s->unsynced_ = true;
    }
    // New stores use 16 KiB pages: message rows are large and written in bulk, and against 4 KiB pages this
    // cuts import CPU in SQLite by about a third (bench/sqlite_floor.sh). Only an empty file can change it.
    if (user_version == 0) FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA page_size=16384"));
    if (s->unsynced_) {
      FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode=DELETE"));
      FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA synchronous=OFF"));
    } else {
      FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode=WAL"));
      FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA synchronous=NORMAL"));
    }
  }
  FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA foreign_keys=OFF"));
  FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA temp_store=MEMORY"));
  if (options.bulk_load) {
    // 8 MiB: keeps import RSS flat and small. An import writes in message id order (importers/dce), so its
    // working set is the tail of each table: 16 MiB was no faster.
    FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA cache_size=-8192"));
    FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA wal_autocheckpoint=4000"));
  } else {
    FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA cache_size=-8192"));
  }
  s->version_ = user_version;
  if (user_version < known) {
    if (options.read_only) {
      return Status::VersionMismatch("store " + path + " has schema version " + std::to_string(user_version) +
                                     " and needs migrating to " + std::to_string(known) +
                                     ": open it once without read-only");
    }
    FERRY_RETURN_IF_ERROR(s->Migrate());
  }
  if (!options.read_only) {
    std::filesystem::create_directories(s->blob_dir());
    FERRY_RETURN_IF_ERROR(s->FlushSearchIndex(nullptr));  // a queue left by a killed process or a bulk load
    s->defer_fts_ = options.bulk_load || options.defer_search_index;
    if (options.bulk_load) s->MaybeStartSideIndex();
    if ((options.checkpoint_in_background || options.bulk_load) && !s->unsynced_) {
      // A log that a checkpoint has emptied is cut back to this size when it restarts.
      FERRY_RETURN_IF_ERROR(s->Exec("PRAGMA journal_size_limit=67108864"));
      FERRY_RETURN_IF_ERROR(
          WalCheckpointer::Start(s->db_, path, options.bulk_load ? 4000 : 1000, &s->checkpointer_));
    }
  }
  *out = std::move(s);
  return Status::Ok();
}

Status SqliteStore::Migrate() {
  for (const auto& m : kMigrations) {
    if (m.version <= version_) continue;
    FERRY_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    char* err = nullptr;
    if (sqlite3_exec(db_, m.sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      Exec("ROLLBACK");
      return Status::StoreError("migrating store " + path_ + " to schema version " + std::to_string(m.version) +
                                " failed: " + msg);
    }
    std::string pragma = "PRAGMA user_version=" + std::to_string(m.version);
    Status st = Exec(pragma.c_str());
    if (st.ok() && m.version == 1) {
      st = Exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('created_by', 'ferry " FERRY_VERSION "')");
    }
    if (!st.ok()) {
      Exec("ROLLBACK");
      return st;
    }
    FERRY_RETURN_IF_ERROR(Exec("COMMIT"));
    version_ = m.version;
  }
  return Status::Ok();
}

Status SqliteStore::CheckAfterUnsyncedImport(bool read_only) {
  if (UnsyncedImport::Check(path_) != UnsyncedImport::State::kAbandoned) return Status::Ok();
  // quick_check also rolls back the last transaction of a killed import (its hot journal) first.
  Status st;
  std::string verdict;
  {
    Stmt q = PrepareOwned("PRAGMA quick_check(1)", &st);
    if (st.ok() && q.Step(&st)) verdict = q.Text(0);
  }
  if (st.ok() && verdict == "ok") {
    // Killed, not crashed: the store is whole. Once it is synced nothing is left to check. A read-only open
    // tries too (syncing needs no write access to the file; removing the marker, to its folder), so later
    // opens do not check again; where it cannot, they will.
    Status done = UnsyncedImport::Complete(path_);
    if (!read_only) return done;
    return Status::Ok();
  }
  std::string why = st.ok() ? verdict : st.message();
  if (read_only)
    return Status::StoreError("store " + path_ + " was left by an import that did not finish and cannot be checked "
                              "read-only (" + why + "): run that import again to finish it");
  return Status::StoreError("store " + path_ + " is damaged: the import that created it was writing it without "
                            "syncing and the system stopped before it finished (quick_check: " + why +
                            "). The store held only that import: delete " + path_ + " and " +
                            UnsyncedImport::MarkerPath(path_) + " and run the import again");
}

Status SqliteStore::Close() {
  if (!unsynced_ || !db_) return Status::Ok();
  if (in_tx_) return Status::Conflict("Close inside a transaction");
  if (read_tx_) {
    ExecCached("COMMIT");
    read_tx_ = false;
  }
  side_.reset();
  // From here on the store is an ordinary one: synced commits, WAL. The marker goes last, after the sync.
  FERRY_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
  FERRY_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  FERRY_RETURN_IF_ERROR(UnsyncedImport::Complete(path_));
  unsynced_ = false;
  return Status::Ok();
}

SqliteStore::~SqliteStore() {
  Close();
  side_.reset();
  checkpointer_.reset();  // before the connection whose WAL hook it is
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  if (db_) {
    if (in_tx_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db_);
  }
}

Stmt SqliteStore::Prepare(const char* sql, Status* st) {
  // Hot path of bulk imports: look the statement up by the text's address first (callers pass literals or
  // static strings), confirming with strcmp so a reused address can never return the wrong statement.
  auto hit = by_address_.find(sql);
  if (hit != by_address_.end() && std::strcmp(hit->second.first, sql) == 0) return Stmt(db_, hit->second.second);
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    by_address_[sql] = {it->first.c_str(), it->second};
    return Stmt(db_, it->second);
  }
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    if (st) *st = Status::StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_) + " in: " + sql);
    return Stmt(db_, nullptr);
  }
  auto ins = cache_.emplace(sql, s).first;
  by_address_[sql] = {ins->first.c_str(), s};
  return Stmt(db_, s);
}

Stmt SqliteStore::PrepareOwned(const char* sql, Status* st) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
    if (st) *st = Status::StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
    if (s) sqlite3_finalize(s);
    s = nullptr;
  }
  Stmt out(db_, s);
  out.set_owned();
  return out;
}

Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Status::StoreError("sqlite: " + msg + " (" + sql + ")");
  }
  return Status::Ok();
}

Status SqliteStore::ExecCached(const char* sql) {
  // The statements every transaction runs (BEGIN, COMMIT, the search flush): sqlite3_exec would parse
  // them again each time, which is a fifth of the cost of a one-message write (POST /messages).
  Status st;
  auto s = Prepare(sql, &st);
  FERRY_RETURN_IF_ERROR(st);
  st = s.Run();
  if (!st.ok()) return Status::StoreError(st.message() + " (" + sql + ")");
  return st;
}

Status SqliteStore::Error(const char* what) const {
  return Status::StoreError(std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status SqliteStore::Begin() {
  if (in_tx_) return Status::Conflict("a transaction is already open");
  if (read_tx_) {
    // A write inside a read scope (a request that reads, then writes): the write must start from the newest
    // snapshot, so the read transaction ends here and reopens after the write (ReopenRead).
    read_tx_ = false;
    FERRY_RETURN_IF_ERROR(ExecCached("COMMIT"));
  }
  FERRY_RETURN_IF_ERROR(ExecCached("BEGIN IMMEDIATE"));
  in_tx_ = true;
  return Status::Ok();
}
void SqliteStore::ReopenRead() {
  if (read_depth_ == 0 || read_tx_ || in_tx_) return;
  if (ExecCached("BEGIN").ok()) read_tx_ = true;
}
Status SqliteStore::FlushFts() {
  // Only the pending rows are touched; an empty queue costs one index probe.
  FERRY_RETURN_IF_ERROR(ExecCached(
      // CROSS JOIN pins the queue as the outer loop: left to itself the planner scans all of messages
      // per flush, which made large imports quadratic.
      "INSERT INTO messages_fts(rowid, content) SELECT m.id, m.content FROM fts_pending p CROSS JOIN messages m"
      " ON m.id = p.id WHERE m.content IS NOT NULL AND m.content <> ''"));
  return ExecCached("DELETE FROM fts_pending");
}

Status SqliteStore::FlushSearchIndex(Progress* progress, std::int64_t max_messages) {
  if (in_tx_ || read_tx_) return Status::Conflict("FlushSearchIndex inside a transaction");
  if (side_) {
    // Whatever the outcome, the queue below is then empty or still complete.
    Status side = FinishSideIndex(progress);
    if (!side.ok() && progress)
      progress->Note("note: the search index built beside the import is not used (" + side.message() +
                     "); indexing the messages here instead");
  }
  std::int64_t total = 0, done = 0;
  if (progress || max_messages <= 0) {
    Status st;
    auto c = Prepare("SELECT count(*) FROM fts_pending", &st);
    FERRY_RETURN_IF_ERROR(st);
    if (c.Step(&st)) total = c.Int(0);
    sqlite3_reset(c.raw());
    FERRY_RETURN_IF_ERROR(st);
  }
  // Chunks bound the transaction (and the WAL) of a multi-million-message queue; the queue is
  // removed in the same transaction that indexes it, so no message is ever indexed twice. They also bound
  // memory: SQLite first copies the chunk's rows into a temporary table (in memory: temp_store=MEMORY)
  // before inserting them into the index, so 100,000 messages cost some 30 MB of RSS and 20,000 about 6.
  constexpr std::int64_t kChunk = 20000;
  // Indexing a large queue at once is mostly FTS5 merging its segments as they pile up (automerge, and
  // crisis merges at 16 segments): 2M messages took 13 s, of which 8 were merges. A bulk pass stops merging
  // while it adds segments, then merges them all once at the end (FinishBulkIndex): 8.5 s for the same index.
  // The switch is stored in the index's own config, inside the first chunk's transaction, so a pass killed
  // half-way is finished by whichever flush next finds the queue empty.
  constexpr std::int64_t kBulkIndex = 100000;
  const bool bulk = max_messages <= 0 && total >= kBulkIndex;
  std::int64_t budget = max_messages > 0 ? max_messages : -1;
  bool first = true;
  for (;;) {
    if (budget == 0) return Status::Ok();
    const std::int64_t chunk_size = budget > 0 ? std::min(kChunk, budget) : kChunk;
    if (budget > 0) budget -= chunk_size;
    Status st;
    std::int64_t last = 0;
    {
      auto q = Prepare("SELECT max(id) FROM (SELECT id FROM fts_pending ORDER BY id LIMIT ?)", &st);
      FERRY_RETURN_IF_ERROR(st);
      q.Bind(1, chunk_size);
      bool row = q.Step(&st);
      FERRY_RETURN_IF_ERROR(st);
      bool empty = !row || sqlite3_column_type(q.raw(), 0) == SQLITE_NULL;
      if (!empty) last = q.Int(0);
      sqlite3_reset(q.raw());
      if (empty) return FinishBulkIndex(progress, done);
    }
    if (progress) progress->Update("indexing for search", done, total, done);
    FERRY_RETURN_IF_ERROR(ExecCached("BEGIN IMMEDIATE"));
    auto chunk = [&]() -> Status {
      Status s2;
      if (bulk && first) {
        FERRY_RETURN_IF_ERROR(Exec("INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 0)"));
        FERRY_RETURN_IF_ERROR(Exec("INSERT INTO messages_fts(messages_fts, rank) VALUES ('crisismerge', 1000)"));
      }
      auto ins = Prepare(
          "INSERT INTO messages_fts(rowid, content) SELECT m.id, m.content FROM fts_pending p CROSS JOIN messages m"
          " ON m.id = p.id WHERE p.id <= ?1 AND m.content IS NOT NULL AND m.content <> ''",
          &s2);
      FERRY_RETURN_IF_ERROR(s2);
      FERRY_RETURN_IF_ERROR(ins.Bind(1, last).Run());
      sqlite3_reset(ins.raw());
      auto del = Prepare("DELETE FROM fts_pending WHERE id <= ?1", &s2);
      FERRY_RETURN_IF_ERROR(s2);
      FERRY_RETURN_IF_ERROR(del.Bind(1, last).Run());
      sqlite3_reset(del.raw());
      return Status::Ok();
    };
    Status cs = chunk();
    if (!cs.ok()) {
      ExecCached("ROLLBACK");
      return cs;
    }
    FERRY_RETURN_IF_ERROR(ExecCached("COMMIT"));
    first = false;
    done = std::min(total, done + chunk_size);
    if (progress) progress->Update("indexing for search", done, total, done);
  }
}

Status SqliteStore::FinishBulkIndex(Progress* progress, std::int64_t done) {
  Status st;
  bool pending = false;
  {
    auto q = Prepare("SELECT 1 FROM messages_fts_config WHERE k = 'automerge' AND v = 0", &st);
    FERRY_RETURN_IF_ERROR(st);
    pending = q.Step(&st);
    sqlite3_reset(q.raw());
    FERRY_RETURN_IF_ERROR(st);
  }
  if (!pending) return Status::Ok();
  if (progress) progress->Update("merging the search index", done, done, done);
  FERRY_RETURN_IF_ERROR(ExecCached("BEGIN IMMEDIATE"));
  // Back to FTS5's defaults (automerge 4, crisis merge at 16), so later small writes keep the index merged,
  // then merge steps until one finds nothing to do (it changes fewer than two rows). Unlike 'optimize', a
  // step only merges levels holding several segments: the pass's new ones, not the index an earlier import
  // built (300k messages added to 1.7M: 0.6 s instead of 3.2 s).
  Status ms = Exec("INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 4)");
  if (ms.ok()) ms = Exec("INSERT INTO messages_fts(messages_fts, rank) VALUES ('crisismerge', 16)");
  for (int step = 0; ms.ok() && step < 100000; ++step) {
    const auto before = sqlite3_total_changes64(db_);
    ms = Exec("INSERT INTO messages_fts(messages_fts, rank) VALUES ('merge', 20000)");
    if (sqlite3_total_changes64(db_) - before < 2) break;
  }
  if (!ms.ok()) {
    ExecCached("ROLLBACK");
    return ms;
  }
  return ExecCached("COMMIT");
}

void SqliteStore::MaybeStartSideIndex() {
  SideSearchIndex::RemoveAbandoned(path_);
  Status st;
  bool empty = false, same_options = false;
  {
    auto q = Prepare("SELECT NOT EXISTS (SELECT 1 FROM messages), (SELECT sql FROM sqlite_master WHERE name='messages_fts')", &st);
    if (!st.ok()) return;
    if (q.Step(&st)) {
      empty = q.Int(0) != 0;
      const std::string sql = q.Text(1);
      same_options = sql.find(SideSearchIndex::kTokenizeOptions) != std::string::npos &&
                     sql.find("content='messages'") != std::string::npos && sql.find("detail") == std::string::npos &&
                     sql.find("prefix") == std::string::npos;
    }
    sqlite3_reset(q.raw());
  }
  if (!st.ok() || !empty || !same_options) return;
  // Without it the import indexes its queue at the end, as any other: nothing depends on the side build.
  if (!SideSearchIndex::Start(path_, &side_).ok()) side_.reset();
}

Status SqliteStore::FinishSideIndex(Progress* progress) {
  std::unique_ptr<SideSearchIndex> side = std::move(side_);
  auto changed = std::move(side_changed_);
  AbandonSideIndex();
  if (progress) progress->Update("indexing for search", 0, 0, 0);
  std::int64_t docs = 0;
  FERRY_RETURN_IF_ERROR(side->Finish(&docs));

  // The queue must hold exactly what the side build indexed, plus messages that got their first content
  // from an update; anything else (a deletion, a writer the store does not know about) and it is not used.
  Status st;
  std::int64_t queued = 0, expected = docs;
  {
    auto q = Prepare("SELECT count(*) FROM fts_pending", &st);
    FERRY_RETURN_IF_ERROR(st);
    if (q.Step(&st)) queued = q.Int(0);
    sqlite3_reset(q.raw());
    FERRY_RETURN_IF_ERROR(st);
    auto in = Prepare("SELECT 1 FROM fts_pending WHERE id=?", &st);
    FERRY_RETURN_IF_ERROR(st);
    for (const auto& [id, before] : changed) {
      if (!before.empty()) continue;
      in.Bind(1, id);
      if (in.Step(&st)) ++expected;
      sqlite3_reset(in.raw());
      FERRY_RETURN_IF_ERROR(st);
    }
  }
  if (queued != expected)
    return Status::Conflict("search queue of " + path_ + " holds " + std::to_string(queued) + " messages, the side build " +
                            std::to_string(expected));
  if (queued == 0) return Status::Ok();

  // The copy runs on a connection of its own: FTS5 caches an index's structure per connection and notices
  // other connections' commits (data_version), not its own connection writing the shadow tables directly.
  sqlite3* db = nullptr;
  auto fail = [&](const char* what) {
    Status e = Status::StoreError("copying the search index into " + path_ + ": " + what + ": " +
                                  (db ? sqlite3_errmsg(db) : "out of memory"));
    if (db) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(db);
    }
    return e;
  };
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
    return fail("open");
  sqlite3_busy_timeout(db, 60000);
  std::string tbl = SideSearchIndex::kTable;
  const std::string copy =
      "DELETE FROM messages_fts_data;"
      "DELETE FROM messages_fts_idx;"
      "INSERT INTO messages_fts_data(id, block) SELECT id, block FROM side." + tbl + "_data;"
      "INSERT INTO messages_fts_idx(segid, term, pgno) SELECT segid, term, pgno FROM side." + tbl + "_idx;";
  {
    sqlite3_stmt* a = nullptr;
    bool ok = sqlite3_prepare_v2(db, "ATTACH DATABASE ? AS side", -1, &a, nullptr) == SQLITE_OK;
    if (ok) {
      sqlite3_bind_text(a, 1, side->path().c_str(), -1, SQLITE_TRANSIENT);
      ok = sqlite3_step(a) == SQLITE_DONE;
    }
    sqlite3_finalize(a);
    if (!ok) return fail("attach");
  }
  // The copy reads and writes each page once, in order: a small cache does.
  if (sqlite3_exec(db, "PRAGMA cache_size=-4096", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("pragma");
  // An unsynced import's store is synced once, by Close(); a sync here would flush all of it now.
  if (unsynced_ && sqlite3_exec(db, "PRAGMA synchronous=OFF", nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail("pragma");
  {
    // Checked inside the copy's transaction: nothing may have indexed a message since the run began.
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("begin");
    sqlite3_stmt* q = nullptr;
    bool idle = false;
    if (sqlite3_prepare_v2(db, "SELECT NOT EXISTS (SELECT 1 FROM messages_fts_idx)", -1, &q, nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
      idle = sqlite3_column_int(q, 0) != 0;
    sqlite3_finalize(q);
    if (!idle) return fail("the store's search index is no longer empty");
  }
  if (sqlite3_exec(db, copy.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail("copy");
  {
    sqlite3_stmt* del = nullptr;
    sqlite3_stmt* add = nullptr;
    bool ok =
        sqlite3_prepare_v2(db, "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', ?, ?)", -1,
                           &del, nullptr) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "INSERT INTO messages_fts(rowid, content) SELECT id, content FROM messages WHERE id=?"
                           " AND content IS NOT NULL AND content <> ''",
                           -1, &add, nullptr) == SQLITE_OK;
    for (auto it = changed.begin(); ok && it != changed.end(); ++it) {
      if (!it->second.empty()) {
        sqlite3_bind_int64(del, 1, it->first);
        sqlite3_bind_text(del, 2, it->second.data(), static_cast<int>(it->second.size()), SQLITE_STATIC);
        ok = sqlite3_step(del) == SQLITE_DONE;
        sqlite3_reset(del);
      }
      if (!ok) break;
      sqlite3_bind_int64(add, 1, it->first);
      ok = sqlite3_step(add) == SQLITE_DONE;
      sqlite3_reset(add);
    }
    sqlite3_finalize(del);
    sqlite3_finalize(add);
    if (!ok) return fail("re-indexing updated messages");
  }
  if (sqlite3_exec(db, "DELETE FROM fts_pending; COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  sqlite3_exec(db, "DETACH DATABASE side", nullptr, nullptr, nullptr);
  if (sqlite3_close(db) != SQLITE_OK) return Status::StoreError("closing the search index copy of " + path_);
  ++side_copies_;
  if (progress) progress->Update("indexing for search", queued, queued, queued);
  return Status::Ok();
}

Status SqliteStore::Commit() {
  if (!in_tx_) return Status::Conflict("no transaction is open");
  if (!defer_fts_) {
    Status flushed = FlushFts();
    if (!flushed.ok()) return flushed;
  }
  Status st = ExecCached("COMMIT");
  if (st.ok()) {
    in_tx_ = false;
    if (side_) side_->Commit();
    ReopenRead();
  }
  return st;
}
Status SqliteStore::Rollback() {
  if (!in_tx_) return Status::Ok();
  in_tx_ = false;
  // The rolled-back updates' entries in side_changed_ could no longer be told from real ones.
  if (side_) AbandonSideIndex();
  Status st = ExecCached("ROLLBACK");
  ReopenRead();
  return st;
}

// ---------------------------------------------------------------------------------------------------
// Provenance

namespace {
constexpr const char* kRunColumns =
    "id, kind, path, sha256, size, mtime, tool_version, started_ms, ended_ms, status, source_ms, counts, notes";
void LoadRun(Stmt& s, ImportRun* r) {
  r->id = s.Int(0);
  r->kind = s.Text(1);
  r->path = s.Text(2);
  r->sha256 = s.Text(3);
  r->size = s.Int(4);
  r->mtime = s.Int(5);
  r->tool_version = s.Text(6);
  r->started_ms = s.Int(7);
  r->ended_ms = s.OptInt(8).value_or(0);
  r->status = s.Text(9);
  r->source_time_ms = s.Int(10);
  r->counts = ParseJsonOr(s.Text(11), Json::object());
  r->notes = ParseJsonOr(s.Text(12), Json::object());
}
}  // namespace

Status SqliteStore::BeginRun(ImportRun* run) {
  Status st;
  if (run->started_ms == 0) run->started_ms = NowMs();
  if (run->tool_version.empty()) run->tool_version = "ferry " FERRY_VERSION;
  if (run->status.empty()) run->status = "running";
  auto s = Prepare(
      "INSERT INTO import_runs(kind, path, sha256, size, mtime, tool_version, started_ms, status, source_ms, counts, notes)"
      " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, run->kind).Bind(2, run->path).Bind(3, run->sha256).Bind(4, run->size).Bind(5, run->mtime);
  s.Bind(6, run->tool_version).Bind(7, run->started_ms).Bind(8, run->status).Bind(9, run->source_time_ms);
  s.Bind(10, JsonText(run->counts)).Bind(11, JsonText(run->notes));
  FERRY_RETURN_IF_ERROR(s.Run());
  run->id = sqlite3_last_insert_rowid(db_);
  return Status::Ok();
}

Status SqliteStore::FinishRun(const ImportRun& run) {
  Status st;
  auto s = Prepare(
      "UPDATE import_runs SET status=?, counts=?, notes=?, ended_ms=?, sha256=?, source_ms=?, size=?, mtime=? WHERE id=?",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, run.status).Bind(2, JsonText(run.counts)).Bind(3, JsonText(run.notes));
  s.Bind(4, run.ended_ms ? run.ended_ms : NowMs()).Bind(5, run.sha256).Bind(6, run.source_time_ms);
  s.Bind(7, run.size).Bind(8, run.mtime).Bind(9, run.id);
  FERRY_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("no import run " + std::to_string(run.id));
  return Status::Ok();
}

Status SqliteStore::GetRun(std::int64_t id, ImportRun* out) {
  Status st;
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM import_runs WHERE id=?";
  auto s = PrepareOwned(sql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("no import run " + std::to_string(id)) : st;
  LoadRun(s, out);
  return Status::Ok();
}

Status SqliteStore::FindRuns(const std::string& kind, const std::string& path, std::vector<ImportRun>* out) {
  Status st;
  out->clear();
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM import_runs WHERE kind=? AND path=? ORDER BY id DESC";
  auto s = PrepareOwned(sql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, kind).Bind(2, path);
  while (s.Step(&st)) {
    out->emplace_back();
    LoadRun(s, &out->back());
  }
  return st;
}

Status SqliteStore::ListRuns(std::vector<ImportRun>* out) {
  Status st;
  out->clear();
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM import_runs ORDER BY id";
  auto s = PrepareOwned(sql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  while (s.Step(&st)) {
    out->emplace_back();
    LoadRun(s, &out->back());
  }
  return st;
}

Status SqliteStore::SetRunFile(std::int64_t run_id, const std::string& file, const std::string& sha256,
                               const std::string& status, const Json& detail) {
  Status st;
  auto s = Prepare(
      "INSERT INTO run_files(run_id, file, sha256, status, detail) VALUES (?,?,?,?,?)"
      " ON CONFLICT(run_id, file) DO UPDATE SET sha256=excluded.sha256, status=excluded.status, detail=excluded.detail",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, run_id).Bind(2, file).Bind(3, sha256).Bind(4, status).Bind(5, JsonText(detail));
  return s.Run();
}

Status SqliteStore::FindDoneFile(const std::string& sha256, std::int64_t* run_id) {
  Status st;
  auto s = Prepare("SELECT run_id FROM run_files WHERE sha256=? AND status='done' ORDER BY run_id LIMIT 1", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, sha256);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("no finished import of " + sha256) : st;
  *run_id = s.Int(0);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------
// Merge writes. Each upsert reads the stored row's source time and extra, then writes every column as
//   newer ? coalesce(new, old) : coalesce(old, new)
// which is the merge rule of store.hpp in one expression per column (parameter 1 is the `newer` flag).

namespace {
// Returns "col = CASE WHEN ?1 THEN coalesce(?N, col) ELSE coalesce(col, ?N) END".
std::string MergeSet(const char* col, int n) {
  std::string c(col), p = "?" + std::to_string(n);
  return c + "=CASE WHEN ?1 THEN coalesce(" + p + "," + c + ") ELSE coalesce(" + c + "," + p + ") END";
}

std::string BuildMergeUpdate(const char* table, const std::vector<const char*>& cols, const char* where) {
  // ?1 newer flag, ?2..?k columns, then extra, source_run, source_ms, then where params.
  std::string sql = std::string("UPDATE ") + table + " SET ";
  int n = 2;
  for (auto* c : cols) {
    sql += MergeSet(c, n++);
    sql += ", ";
  }
  sql += "extra=?" + std::to_string(n++);
  sql += ", source_run=CASE WHEN ?1 THEN ?" + std::to_string(n) + " ELSE source_run END";
  n++;
  sql += ", source_ms=CASE WHEN ?1 THEN ?" + std::to_string(n) + " ELSE source_ms END";
  n++;
  sql += std::string(" WHERE ") + where;
  return sql;
}

std::string BuildInsert(const char* table, const std::vector<const char*>& cols, const std::vector<const char*>& keys) {
  // keys first, then cols, then extra, source_run, source_ms.
  std::string names, qs;
  int n = 0;
  for (auto* k : keys) {
    names += std::string(n ? "," : "") + k;
    qs += std::string(n ? "," : "") + "?";
    n++;
  }
  for (auto* c : cols) {
    names += std::string(",") + c;
    qs += ",?";
  }
  names += ",extra,source_run,source_ms";
  qs += ",?,?,?";
  return std::string("INSERT INTO ") + table + "(" + names + ") VALUES (" + qs + ")";
}

// Binds column values starting at `first` via a callback (so insert and update share the value list).
using ColumnBinder = std::function<void(Stmt&, int first)>;

}  // namespace

// Generic two-step upsert used by all entity kinds.
static Status MergeUpsert(SqliteStore* store, const char* table, const std::vector<const char*>& keys,
                          const std::vector<std::uint64_t>& key_values, const std::vector<const char*>& cols,
                          const ColumnBinder& bind_cols, const Json& extra, const Source& src, bool* newer_out,
                          bool* existed_out, std::int64_t* stored_extra_known = nullptr) {
  Status st;
  std::string where;
  for (size_t i = 0; i < keys.size(); ++i) where += std::string(i ? " AND " : "") + keys[i] + "=?";
  // Statement texts are built once per (table) and cached by SQLite's statement cache keyed on text.
  static thread_local std::map<std::string, std::string> sel_sql, ins_sql, upd_sql;
  std::string tkey(table);
  if (!sel_sql.count(tkey)) {
    sel_sql[tkey] = std::string("SELECT source_ms, extra FROM ") + table + " WHERE " + where;
    ins_sql[tkey] = BuildInsert(table, cols, keys);
    // Update: where params come after ?1 + cols + 3.
    std::string w;
    int n = static_cast<int>(cols.size()) + 5;
    for (size_t i = 0; i < keys.size(); ++i) w += std::string(i ? " AND " : "") + keys[i] + "=?" + std::to_string(n++);
    upd_sql[tkey] = BuildMergeUpdate(table, cols, w.c_str());
  }
  auto sel = store->Prepare(sel_sql[tkey].c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  for (size_t i = 0; i < key_values.size(); ++i) sel.BindId(static_cast<int>(i + 1), key_values[i]);
  bool existed = sel.Step(&st);
  FERRY_RETURN_IF_ERROR(st);
  if (!existed) {
    auto ins = store->Prepare(ins_sql[tkey].c_str(), &st);
    FERRY_RETURN_IF_ERROR(st);
    int n = 1;
    for (auto v : key_values) ins.BindId(n++, v);
    bind_cols(ins, n);
    n += static_cast<int>(cols.size());
    ins.Bind(n++, JsonText(extra.is_object() ? extra : Json::object()));
    ins.Bind(n, src.run_id).Bind(n + 1, src.source_time_ms);
    FERRY_RETURN_IF_ERROR(ins.Run());
    if (newer_out) *newer_out = true;
    if (existed_out) *existed_out = false;
    return Status::Ok();
  }
  std::int64_t stored_ms = sel.Int(0);
  bool newer = src.source_time_ms >= stored_ms;
  Json merged = ParseJsonOr(sel.Text(1), Json::object());
  MergeExtra(&merged, extra, newer);
  auto upd = store->Prepare(upd_sql[tkey].c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  upd.Bind(1, std::int64_t(newer ? 1 : 0));
  bind_cols(upd, 2);
  int n = 2 + static_cast<int>(cols.size());
  upd.Bind(n++, JsonText(merged));
  upd.Bind(n, src.run_id).Bind(n + 1, src.source_time_ms);
  n += 2;
  for (auto v : key_values) upd.BindId(n++, v);
  FERRY_RETURN_IF_ERROR(upd.Run());
  if (newer_out) *newer_out = newer;
  if (existed_out) *existed_out = true;
  (void)stored_extra_known;
  return Status::Ok();
}

Status SqliteStore::UpsertGuild(const Guild& g, const Source& src) {
  return MergeUpsert(
      this, "guilds", {"id"}, {g.id}, {"name", "icon_url", "icon_sha256", "owner_id"},
      [&](Stmt& s, int i) { s.Bind(i, g.name).Bind(i + 1, g.icon_url).Bind(i + 2, g.icon_sha256).BindOptId(i + 3, g.owner_id); },
      g.extra, src, nullptr, nullptr);
}

Status SqliteStore::UpsertChannel(const Channel& c, const Source& src) {
  std::optional<std::string> recipients;
  if (!c.recipient_ids.empty()) recipients = IdsJson(c.recipient_ids);
  std::optional<std::int64_t> pos, rl;
  if (c.position) pos = *c.position;
  if (c.rate_limit_per_user) rl = *c.rate_limit_per_user;
  bool newer = false;
  FERRY_RETURN_IF_ERROR(MergeUpsert(
      this, "channels", {"id"}, {c.id},
      {"type", "guild_id", "parent_id", "name", "topic", "position", "nsfw", "rate_limit_per_user", "owner_id",
       "archived", "locked", "icon_url", "recipients"},
      [&](Stmt& s, int i) {
        s.Bind(i, std::int64_t(c.type)).BindOptId(i + 1, c.guild_id).BindOptId(i + 2, c.parent_id).Bind(i + 3, c.name);
        s.Bind(i + 4, c.topic).BindOpt(i + 5, pos).BindOptBool(i + 6, c.nsfw).BindOpt(i + 7, rl);
        s.BindOptId(i + 8, c.owner_id).BindOptBool(i + 9, c.archived).BindOptBool(i + 10, c.locked);
        s.Bind(i + 11, c.icon_url).Bind(i + 12, recipients);
      },
      c.extra, src, &newer, nullptr));
  if (c.overwrites) {
    Status st;
    auto known = Prepare("SELECT overwrites_known FROM channels WHERE id=?", &st);
    FERRY_RETURN_IF_ERROR(st);
    known.BindId(1, c.id);
    bool was_known = known.Step(&st) && known.Int(0) != 0;
    if (newer || !was_known) {
      auto del = Prepare("DELETE FROM overwrites WHERE channel_id=?", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(del.BindId(1, c.id).Run());
      for (const auto& o : *c.overwrites) FERRY_RETURN_IF_ERROR(PutOverwrite(c.id, o));
      auto mark = Prepare("UPDATE channels SET overwrites_known=1 WHERE id=?", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(mark.BindId(1, c.id).Run());
    }
  }
  return Status::Ok();
}

Status SqliteStore::UpsertUser(const User& u, const Source& src) {
  return MergeUpsert(
      this, "users", {"id"}, {u.id}, {"username", "global_name", "discriminator", "avatar_url", "avatar_sha256", "bot"},
      [&](Stmt& s, int i) {
        s.Bind(i, u.username).Bind(i + 1, u.global_name).Bind(i + 2, u.discriminator).Bind(i + 3, u.avatar_url);
        s.Bind(i + 4, u.avatar_sha256).BindOptBool(i + 5, u.bot);
      },
      u.extra, src, nullptr, nullptr);
}

Status SqliteStore::UpsertRole(const Role& r, const Source& src) {
  std::optional<std::int64_t> color, pos, perms;
  if (r.color) color = *r.color;
  if (r.position) pos = *r.position;
  if (r.permissions) perms = static_cast<std::int64_t>(*r.permissions);
  return MergeUpsert(
      this, "roles", {"id"}, {r.id},
      {"guild_id", "name", "color", "position", "permissions", "hoist", "managed", "mentionable"},
      [&](Stmt& s, int i) {
        s.BindId(i, r.guild_id).Bind(i + 1, r.name).BindOpt(i + 2, color).BindOpt(i + 3, pos).BindOpt(i + 4, perms);
        s.BindOptBool(i + 5, r.hoist).BindOptBool(i + 6, r.managed).BindOptBool(i + 7, r.mentionable);
      },
      r.extra, src, nullptr, nullptr);
}

Status SqliteStore::UpsertMember(const Member& m, const Source& src) {
  bool newer = false;
  FERRY_RETURN_IF_ERROR(MergeUpsert(
      this, "members", {"guild_id", "user_id"}, {m.guild_id, m.user_id}, {"nick", "color", "joined_ms"},
      [&](Stmt& s, int i) { s.Bind(i, m.nick).Bind(i + 1, m.color).BindOpt(i + 2, m.joined_at_ms); },
      m.extra, src, &newer, nullptr));
  if (m.role_ids) {
    Status st;
    auto known = Prepare("SELECT roles_known FROM members WHERE guild_id=? AND user_id=?", &st);
    FERRY_RETURN_IF_ERROR(st);
    known.BindId(1, m.guild_id).BindId(2, m.user_id);
    bool was_known = known.Step(&st) && known.Int(0) != 0;
    if (newer || !was_known) {
      auto del = Prepare("DELETE FROM member_roles WHERE guild_id=? AND user_id=?", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(del.BindId(1, m.guild_id).BindId(2, m.user_id).Run());
      auto ins = Prepare("INSERT OR IGNORE INTO member_roles(guild_id, user_id, role_id) VALUES (?,?,?)", &st);
      FERRY_RETURN_IF_ERROR(st);
      for (auto r : *m.role_ids) {
        FERRY_RETURN_IF_ERROR(ins.BindId(1, m.guild_id).BindId(2, m.user_id).BindId(3, r).Run());
        sqlite3_reset(ins.raw());
      }
      auto mark = Prepare("UPDATE members SET roles_known=1 WHERE guild_id=? AND user_id=?", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(mark.BindId(1, m.guild_id).BindId(2, m.user_id).Run());
    }
  }
  return Status::Ok();
}

Status SqliteStore::InTransaction(const std::function<Status()>& write) {
  if (in_tx_) return write();
  FERRY_RETURN_IF_ERROR(Begin());
  Status st = write();
  if (!st.ok()) {
    Rollback();
    return st;
  }
  return Commit();
}

Status SqliteStore::UpsertMessage(const Message& m, const Source& src) {
  // One transaction, so the message and its search entry appear together.
  return InTransaction([&] { return UpsertMessageInTx(m, src); });
}

Status SqliteStore::UpsertMessageInTx(const Message& m, const Source& src) {
  Status st;
  int incoming_known = KnownCollections(m);
  std::optional<std::int64_t> ref_type, edited_ms;
  std::optional<std::uint64_t> ref_msg, ref_ch, ref_g;
  if (m.reference) {
    ref_type = m.reference->type;
    ref_msg = m.reference->message_id;
    ref_ch = m.reference->channel_id;
    ref_g = m.reference->guild_id;
  }
  std::optional<std::string> edited_text;
  if (m.edited) {
    edited_ms = m.edited->ms;
    edited_text = m.edited->text;
  }
  {
    // Most messages of an import are new: insert first and merge only when the id is already there,
    // which saves a lookup per message on a first import.
    auto ins = Prepare(
        "INSERT INTO messages(id, channel_id, author_id, type, content, ts_ms, ts_text, edited_ms, edited_text, pinned,"
        " ref_type, ref_message_id, ref_channel_id, ref_guild_id, mention_everyone, tts, flags, content_format,"
        " collections, deleted, extra, source_run, source_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(id) DO NOTHING",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    ins.BindId(1, m.id).BindId(2, m.channel_id).BindOptId(3, m.author_id).Bind(4, std::int64_t(m.type));
    ins.Bind(5, m.content).Bind(6, m.timestamp.ms).Bind(7, m.timestamp.text).BindOpt(8, edited_ms).Bind(9, edited_text);
    ins.BindOptBool(10, m.pinned).BindOpt(11, ref_type).BindOptId(12, ref_msg).BindOptId(13, ref_ch).BindOptId(14, ref_g);
    ins.BindOptBool(15, m.mention_everyone).BindOptBool(16, m.tts).Bind(17, std::int64_t(m.flags));
    ins.Bind(18, m.content_format).Bind(19, std::int64_t(incoming_known)).Bind(20, std::int64_t(m.deleted ? 1 : 0));
    ins.Bind(21, JsonText(m.extra.is_object() ? m.extra : Json::object())).Bind(22, src.run_id).Bind(23, src.source_time_ms);
    FERRY_RETURN_IF_ERROR(ins.Run());
    sqlite3_reset(ins.raw());
    if (sqlite3_changes(db_) == 1) {
      if (m.content && !m.content->empty()) {
        // Queued for search in the same transaction (schemas/0004: no insert trigger does this).
        auto q = Prepare("INSERT OR IGNORE INTO fts_pending(id) VALUES (?)", &st);
        FERRY_RETURN_IF_ERROR(st);
        FERRY_RETURN_IF_ERROR(q.BindId(1, m.id).Run());
        if (side_) side_->Add(static_cast<std::int64_t>(m.id), *m.content);
      }
      return WriteCollections(m, true, 0, false);
    }
  }
  auto sel = Prepare("SELECT source_ms, extra, collections, content FROM messages WHERE id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  sel.BindId(1, m.id);
  bool existed = sel.Step(&st);
  FERRY_RETURN_IF_ERROR(st);
  if (!existed) return Status::StoreError("message " + std::to_string(m.id) + " neither inserted nor found");
  std::int64_t stored_ms = sel.Int(0);
  Json merged = ParseJsonOr(sel.Text(1), Json::object());
  int stored_known = static_cast<int>(sel.Int(2));
  if (side_ && m.content && side_changed_.find(static_cast<std::int64_t>(m.id)) == side_changed_.end()) {
    // The content the side build indexed for it (its first in this run), for FinishSideIndex.
    std::string before = sel.Text(3);
    side_changed_bytes_ += before.size() + 64;
    side_changed_.emplace(static_cast<std::int64_t>(m.id), std::move(before));
    // Overlapping exports with many edits: past this the side build's savings are gone anyway.
    if (side_changed_bytes_ > (16u << 20)) AbandonSideIndex();
  }
  sqlite3_reset(sel.raw());
  bool newer = src.source_time_ms >= stored_ms;
  MergeExtra(&merged, m.extra, newer);
  std::optional<std::string> fmt;
  if (m.content_format != "unknown") fmt = m.content_format;
  std::string sql = "UPDATE messages SET " + MergeSet("channel_id", 2) + "," + MergeSet("author_id", 3) + "," +
                    MergeSet("content", 4) + "," + MergeSet("edited_ms", 5) + "," + MergeSet("edited_text", 6) + "," +
                    MergeSet("pinned", 7) + "," + MergeSet("ref_type", 8) + "," + MergeSet("ref_message_id", 9) + "," +
                    MergeSet("ref_channel_id", 10) + "," + MergeSet("ref_guild_id", 11) + "," +
                    MergeSet("mention_everyone", 12) + "," + MergeSet("tts", 13) + "," + MergeSet("content_format", 14) +
                    ", type=CASE WHEN ?1 THEN ?15 ELSE type END"
                    ", flags=CASE WHEN ?1 THEN ?16 ELSE flags END"
                    ", ts_text=CASE WHEN ts_text='' OR ?1 THEN ?17 ELSE ts_text END"
                    ", collections=collections | ?18, extra=?19"
                    ", source_run=CASE WHEN ?1 THEN ?20 ELSE source_run END"
                    ", source_ms=CASE WHEN ?1 THEN ?21 ELSE source_ms END"
                    ", deleted=CASE WHEN ?22 THEN 1 ELSE deleted END"
                    " WHERE id=?23";
  static const std::string kUpdate = sql;
  auto upd = Prepare(kUpdate.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  upd.Bind(1, std::int64_t(newer ? 1 : 0)).BindId(2, m.channel_id).BindOptId(3, m.author_id).Bind(4, m.content);
  upd.BindOpt(5, edited_ms).Bind(6, edited_text).BindOptBool(7, m.pinned).BindOpt(8, ref_type).BindOptId(9, ref_msg);
  upd.BindOptId(10, ref_ch).BindOptId(11, ref_g).BindOptBool(12, m.mention_everyone).BindOptBool(13, m.tts);
  upd.Bind(14, fmt).Bind(15, std::int64_t(m.type)).Bind(16, std::int64_t(m.flags)).Bind(17, m.timestamp.text);
  upd.Bind(18, std::int64_t(incoming_known)).Bind(19, JsonText(merged)).Bind(20, src.run_id).Bind(21, src.source_time_ms);
  upd.Bind(22, std::int64_t(m.deleted ? 1 : 0)).BindId(23, m.id);
  FERRY_RETURN_IF_ERROR(upd.Run());
  return WriteCollections(m, newer, stored_known, true);
}

Status SqliteStore::WriteCollections(const Message& m, bool newer, int stored_known, bool existed) {
  Status st;
  // A collection is written when this source knows it and either it is the newer source (replace) or the
  // stored row never knew it (fill the gap).
  auto should = [&](bool incoming, int bit) { return incoming && (newer || !(stored_known & bit)); };

  if (should(m.attachments.has_value(), kAttachments)) {
    // Per attachment id, fields merge (a later export without the media keeps the blob an earlier one had).
    auto up = Prepare(
        "INSERT INTO attachments(id, message_id, idx, filename, size, url, content_type, width, height, sha256, extra)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) ON CONFLICT(id) DO UPDATE SET message_id=?2, idx=?3,"
        " filename=?4, size=coalesce(?5,size), url=coalesce(?6,url), content_type=coalesce(?7,content_type),"
        " width=coalesce(?8,width), height=coalesce(?9,height), sha256=coalesce(?10,sha256),"
        " extra=json_patch(extra, ?11)",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    Json keep = Json::array();
    int idx = 0;
    for (const auto& a : *m.attachments) {
      std::optional<std::int64_t> w, h;
      if (a.width) w = *a.width;
      if (a.height) h = *a.height;
      up.BindId(1, a.id).BindId(2, m.id).Bind(3, std::int64_t(idx++)).Bind(4, a.filename).BindOpt(5, a.size);
      up.Bind(6, a.url).Bind(7, a.content_type).BindOpt(8, w).BindOpt(9, h).Bind(10, a.sha256);
      up.Bind(11, JsonText(a.extra.is_object() ? a.extra : Json::object()));
      FERRY_RETURN_IF_ERROR(up.Run());
      sqlite3_reset(up.raw());
      keep.push_back(static_cast<std::int64_t>(a.id));
    }
    if (existed && newer) {
      auto del = Prepare("DELETE FROM attachments WHERE message_id=? AND id NOT IN (SELECT value FROM json_each(?))", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(del.BindId(1, m.id).Bind(2, keep.dump()).Run());
    }
  }

  if (should(m.embeds.has_value(), kEmbeds)) {
    if (existed) {
      auto del = Prepare("DELETE FROM embeds WHERE message_id=?", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(del.BindId(1, m.id).Run());
    }
    auto ins = Prepare("INSERT INTO embeds(message_id, idx, json) VALUES (?,?,?)", &st);
    FERRY_RETURN_IF_ERROR(st);
    int idx = 0;
    for (const auto& e : *m.embeds) {
      FERRY_RETURN_IF_ERROR(ins.BindId(1, m.id).Bind(2, std::int64_t(idx++)).Bind(3, JsonText(e)).Run());
      sqlite3_reset(ins.raw());
    }
  }

  if (should(m.stickers.has_value(), kStickers)) {
    if (existed) {
      auto del = Prepare("DELETE FROM message_stickers WHERE message_id=?", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(del.BindId(1, m.id).Run());
    }
    auto ins = Prepare(
        "INSERT INTO message_stickers(message_id, idx, sticker_id, name, format, url, sha256) VALUES (?,?,?,?,?,?,?)", &st);
    FERRY_RETURN_IF_ERROR(st);
    int idx = 0;
    for (const auto& s : *m.stickers) {
      ins.BindId(1, m.id).Bind(2, std::int64_t(idx++)).BindId(3, s.id).Bind(4, s.name).Bind(5, std::int64_t(s.format));
      ins.Bind(6, s.url).Bind(7, s.sha256);
      FERRY_RETURN_IF_ERROR(ins.Run());
      sqlite3_reset(ins.raw());
    }
  }

  if (should(m.reactions.has_value(), kReactions)) {
    if (existed) {
      auto del = Prepare("DELETE FROM reactions WHERE message_id=?", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(del.BindId(1, m.id).Run());
      auto delu = Prepare("DELETE FROM reaction_users WHERE message_id=?", &st);
      FERRY_RETURN_IF_ERROR(st);
      FERRY_RETURN_IF_ERROR(delu.BindId(1, m.id).Run());
    }
    auto ins = Prepare(
        "INSERT OR REPLACE INTO reactions(message_id, emoji_key, idx, emoji_id, emoji_name, animated, image_url, sha256,"
        " count, extra) VALUES (?,?,?,?,?,?,?,?,?,?)",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    auto insu = Prepare("INSERT OR IGNORE INTO reaction_users(message_id, emoji_key, user_id) VALUES (?,?,?)", &st);
    FERRY_RETURN_IF_ERROR(st);
    int idx = 0;
    for (const auto& r : *m.reactions) {
      std::string key = r.emoji.Key();
      ins.BindId(1, m.id).Bind(2, key).Bind(3, std::int64_t(idx++)).BindId(4, r.emoji.id).Bind(5, r.emoji.name);
      ins.Bind(6, std::int64_t(r.emoji.animated ? 1 : 0)).Bind(7, r.emoji.image_url).Bind(8, r.emoji.sha256);
      ins.Bind(9, std::int64_t(r.count)).Bind(10, JsonText(r.extra.is_object() ? r.extra : Json::object()));
      FERRY_RETURN_IF_ERROR(ins.Run());
      sqlite3_reset(ins.raw());
      for (auto u : r.user_ids) {
        FERRY_RETURN_IF_ERROR(insu.BindId(1, m.id).Bind(2, key).BindId(3, u).Run());
        sqlite3_reset(insu.raw());
      }
    }
  }

  auto write_mentions = [&](const std::optional<std::vector<Snowflake>>& ids, int kind, int bit) -> Status {
    if (!should(ids.has_value(), bit)) return Status::Ok();
    Status s2;
    if (existed) {
      auto del = Prepare("DELETE FROM mentions WHERE message_id=? AND kind=?", &s2);
      FERRY_RETURN_IF_ERROR(s2);
      FERRY_RETURN_IF_ERROR(del.BindId(1, m.id).Bind(2, std::int64_t(kind)).Run());
    }
    auto ins = Prepare("INSERT OR IGNORE INTO mentions(message_id, kind, target_id) VALUES (?,?,?)", &s2);
    FERRY_RETURN_IF_ERROR(s2);
    for (auto id : *ids) {
      FERRY_RETURN_IF_ERROR(ins.BindId(1, m.id).Bind(2, std::int64_t(kind)).BindId(3, id).Run());
      sqlite3_reset(ins.raw());
    }
    return Status::Ok();
  };
  FERRY_RETURN_IF_ERROR(write_mentions(m.mention_user_ids, 0, kUserMentions));
  FERRY_RETURN_IF_ERROR(write_mentions(m.mention_role_ids, 1, kRoleMentions));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------
// Blobs

std::string SqliteStore::BlobPath(const std::string& sha256) const {
  if (sha256.size() != 64) return std::string();
  std::string p = blob_dir() + "/" + sha256.substr(0, 2) + "/" + sha256;
  struct stat sb;
  if (::stat(p.c_str(), &sb) != 0) return std::string();
  return p;
}

static Status FinishBlob(SqliteStore* s, const std::string& tmp, const std::string& sha, std::int64_t size) {
  std::string dir = s->blob_dir() + "/" + sha.substr(0, 2);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string final_path = dir + "/" + sha;
  if (std::filesystem::exists(final_path)) {
    std::filesystem::remove(tmp, ec);
  } else if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    std::filesystem::remove(tmp, ec);
    return Status::IoError("cannot move blob into " + final_path + ": " + std::strerror(errno));
  }
  Status st;
  auto ins = s->Prepare("INSERT OR IGNORE INTO blobs(sha256, size) VALUES (?,?)", &st);
  FERRY_RETURN_IF_ERROR(st);
  return ins.Bind(1, sha).Bind(2, size).Run();
}

Status SqliteStore::PutBlobFile(const std::string& file, std::string* sha256, std::int64_t* size) {
  FILE* in = std::fopen(file.c_str(), "rb");
  if (!in) {
    if (errno == ENOENT) return Status::NotFound("media file " + file + " does not exist");
    return Status::IoError("cannot read media file " + file + ": " + std::strerror(errno));
  }
  std::string tmp = blob_dir() + "/tmp-" + std::to_string(::getpid()) + "-" + std::to_string(NowMs()) + "-" +
                    std::to_string(reinterpret_cast<std::uintptr_t>(&tmp) & 0xffff);
  FILE* out = std::fopen(tmp.c_str(), "wb");
  if (!out) {
    std::fclose(in);
    return Status::IoError("cannot write to blob directory " + blob_dir() + ": " + std::strerror(errno));
  }
  Sha256 h;
  std::int64_t total = 0;
  char buf[1 << 16];
  size_t n;
  bool write_ok = true;
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) {
    h.Update(buf, n);
    total += static_cast<std::int64_t>(n);
    if (std::fwrite(buf, 1, n, out) != n) {
      write_ok = false;
      break;
    }
  }
  bool read_err = std::ferror(in);
  std::fclose(in);
  if (std::fclose(out) != 0) write_ok = false;
  if (!write_ok || read_err) {
    std::remove(tmp.c_str());
    return Status::IoError(std::string(read_err ? "reading " + file : "writing blob") + " failed: " + std::strerror(errno));
  }
  *sha256 = h.Hex();
  if (size) *size = total;
  return FinishBlob(this, tmp, *sha256, total);
}

Status SqliteStore::PutBlobBytes(const std::string& bytes, std::string* sha256) {
  Sha256 h;
  h.Update(bytes.data(), bytes.size());
  *sha256 = h.Hex();
  if (!BlobPath(*sha256).empty()) {
    Status st;
    auto ins = Prepare("INSERT OR IGNORE INTO blobs(sha256, size) VALUES (?,?)", &st);
    FERRY_RETURN_IF_ERROR(st);
    return ins.Bind(1, *sha256).Bind(2, static_cast<std::int64_t>(bytes.size())).Run();
  }
  std::string tmp = blob_dir() + "/tmp-" + std::to_string(::getpid()) + "-" + *sha256;
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::IoError("cannot write to blob directory " + blob_dir());
  }
  return FinishBlob(this, tmp, *sha256, static_cast<std::int64_t>(bytes.size()));
}

// ---------------------------------------------------------------------------------------------------
// Reads

Status SqliteStore::GetGuild(Snowflake id, Guild* out) {
  Status st;
  auto s = Prepare("SELECT id, name, icon_url, icon_sha256, owner_id, extra FROM guilds WHERE id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown guild " + std::to_string(id)) : st;
  out->id = s.Id(0);
  out->name = s.OptText(1);
  out->icon_url = s.OptText(2);
  out->icon_sha256 = s.OptText(3);
  out->owner_id = s.OptId(4);
  out->extra = ParseJsonOr(s.Text(5), Json::object());
  return Status::Ok();
}

Status SqliteStore::ListGuilds(std::vector<Guild>* out) {
  Status st;
  out->clear();
  std::vector<Snowflake> ids;
  {
    auto s = PrepareOwned("SELECT id FROM guilds ORDER BY id", &st);
    FERRY_RETURN_IF_ERROR(st);
    while (s.Step(&st)) ids.push_back(s.Id(0));
    FERRY_RETURN_IF_ERROR(st);
  }
  for (auto id : ids) {
    out->emplace_back();
    FERRY_RETURN_IF_ERROR(GetGuild(id, &out->back()));
  }
  return Status::Ok();
}

namespace {
constexpr const char* kChannelColumns =
    "id, type, guild_id, parent_id, name, topic, position, nsfw, rate_limit_per_user, owner_id, archived, locked,"
    " icon_url, recipients, overwrites_known, extra";
}

static void LoadChannelRow(Stmt& s, Channel* c) {
  c->id = s.Id(0);
  c->type = static_cast<int>(s.Int(1));
  c->guild_id = s.OptId(2);
  c->parent_id = s.OptId(3);
  c->name = s.OptText(4);
  c->topic = s.OptText(5);
  if (auto p = s.OptInt(6)) c->position = static_cast<int>(*p);
  c->nsfw = s.OptBool(7);
  if (auto r = s.OptInt(8)) c->rate_limit_per_user = static_cast<int>(*r);
  c->owner_id = s.OptId(9);
  c->archived = s.OptBool(10);
  c->locked = s.OptBool(11);
  c->icon_url = s.OptText(12);
  c->recipient_ids = IdsFromJson(s.Text(13));
  if (s.Int(14)) c->overwrites = std::vector<Overwrite>();
  c->extra = ParseJsonOr(s.Text(15), Json::object());
}

static Status LoadOverwrites(SqliteStore* store, Channel* c) {
  Status st;
  auto s = store->Prepare("SELECT target_id, type, allow, deny FROM overwrites WHERE channel_id=? ORDER BY target_id", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, c->id);
  std::vector<Overwrite> ows;
  while (s.Step(&st)) {
    Overwrite o;
    o.id = s.Id(0);
    o.type = static_cast<int>(s.Int(1));
    o.allow = s.Id(2);
    o.deny = s.Id(3);
    ows.push_back(o);
  }
  FERRY_RETURN_IF_ERROR(st);
  if (!ows.empty() || c->overwrites) c->overwrites = std::move(ows);
  return Status::Ok();
}

Status SqliteStore::GetChannel(Snowflake id, Channel* out) {
  Status st;
  std::string sql = std::string("SELECT ") + kChannelColumns + " FROM channels WHERE id=?";
  static const std::string kSql = sql;
  auto s = Prepare(kSql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown channel " + std::to_string(id)) : st;
  *out = Channel();
  LoadChannelRow(s, out);
  sqlite3_reset(s.raw());
  return LoadOverwrites(this, out);
}

Status SqliteStore::ListChannels(Snowflake guild_id, std::vector<Channel>* out) {
  Status st;
  out->clear();
  std::string sql = std::string("SELECT ") + kChannelColumns +
                    (guild_id ? " FROM channels WHERE guild_id=? ORDER BY coalesce(position, 0), id"
                              : " FROM channels WHERE guild_id IS NULL ORDER BY id");
  auto s = PrepareOwned(sql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  if (guild_id) s.BindId(1, guild_id);
  while (s.Step(&st)) {
    out->emplace_back();
    LoadChannelRow(s, &out->back());
  }
  FERRY_RETURN_IF_ERROR(st);
  for (auto& c : *out) FERRY_RETURN_IF_ERROR(LoadOverwrites(this, &c));
  return Status::Ok();
}

static void LoadUserRow(Stmt& s, User* u) {
  u->id = s.Id(0);
  u->username = s.OptText(1);
  u->global_name = s.OptText(2);
  u->discriminator = s.OptText(3);
  u->avatar_url = s.OptText(4);
  u->avatar_sha256 = s.OptText(5);
  u->bot = s.OptBool(6);
  u->extra = ParseJsonOr(s.Text(7), Json::object());
}

Status SqliteStore::GetUser(Snowflake id, User* out) {
  Status st;
  auto s = Prepare("SELECT id, username, global_name, discriminator, avatar_url, avatar_sha256, bot, extra FROM users WHERE id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown user " + std::to_string(id)) : st;
  *out = User();
  LoadUserRow(s, out);
  return Status::Ok();
}

Status SqliteStore::ForEachUser(const std::function<bool(const User&)>& fn) {
  Status st;
  auto s = PrepareOwned("SELECT id, username, global_name, discriminator, avatar_url, avatar_sha256, bot, extra FROM users ORDER BY id", &st);
  FERRY_RETURN_IF_ERROR(st);
  while (s.Step(&st)) {
    User u;
    LoadUserRow(s, &u);
    if (!fn(u)) break;
  }
  return st;
}

static void LoadRoleRow(Stmt& s, Role* r) {
  r->id = s.Id(0);
  r->guild_id = s.Id(1);
  r->name = s.OptText(2);
  if (auto c = s.OptInt(3)) r->color = static_cast<std::uint32_t>(*c);
  if (auto p = s.OptInt(4)) r->position = static_cast<int>(*p);
  if (auto p = s.OptId(5)) r->permissions = *p;
  r->hoist = s.OptBool(6);
  r->managed = s.OptBool(7);
  r->mentionable = s.OptBool(8);
  r->extra = ParseJsonOr(s.Text(9), Json::object());
}

Status SqliteStore::ListRoles(Snowflake guild_id, std::vector<Role>* out) {
  Status st;
  out->clear();
  // Cached (every permission check lists the guild's roles); the loop runs no other query.
  auto s = Prepare(
      "SELECT id, guild_id, name, color, position, permissions, hoist, managed, mentionable, extra FROM roles"
      " WHERE guild_id=? ORDER BY coalesce(position, 0), id",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, guild_id);
  while (s.Step(&st)) {
    out->emplace_back();
    LoadRoleRow(s, &out->back());
  }
  return st;
}

Status SqliteStore::GetRole(Snowflake id, Role* out) {
  Status st;
  auto s = Prepare(
      "SELECT id, guild_id, name, color, position, permissions, hoist, managed, mentionable, extra FROM roles WHERE id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown role " + std::to_string(id)) : st;
  *out = Role();
  LoadRoleRow(s, out);
  return Status::Ok();
}

static Status LoadMemberRoles(SqliteStore* store, Member* m, bool known) {
  if (!known) return Status::Ok();
  Status st;
  auto s = store->Prepare("SELECT role_id FROM member_roles WHERE guild_id=? AND user_id=? ORDER BY role_id", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, m->guild_id).BindId(2, m->user_id);
  std::vector<Snowflake> ids;
  while (s.Step(&st)) ids.push_back(s.Id(0));
  m->role_ids = std::move(ids);
  return st;
}

Status SqliteStore::GetMember(Snowflake guild_id, Snowflake user_id, Member* out) {
  Status st;
  auto s = Prepare("SELECT guild_id, user_id, nick, color, joined_ms, roles_known, extra FROM members WHERE guild_id=? AND user_id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, guild_id).BindId(2, user_id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown member " + std::to_string(user_id)) : st;
  *out = Member();
  out->guild_id = s.Id(0);
  out->user_id = s.Id(1);
  out->nick = s.OptText(2);
  out->color = s.OptText(3);
  out->joined_at_ms = s.OptInt(4);
  bool known = s.Int(5) != 0;
  out->extra = ParseJsonOr(s.Text(6), Json::object());
  sqlite3_reset(s.raw());
  return LoadMemberRoles(this, out, known);
}

Status SqliteStore::ListMembers(Snowflake guild_id, Snowflake after, int limit, std::vector<Member>* out) {
  Status st;
  out->clear();
  auto s = PrepareOwned(
      "SELECT guild_id, user_id, nick, color, joined_ms, roles_known, extra FROM members WHERE guild_id=? AND user_id>?"
      " ORDER BY user_id LIMIT ?",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, guild_id).BindId(2, after).Bind(3, std::int64_t(limit));
  std::vector<bool> known;
  while (s.Step(&st)) {
    Member m;
    m.guild_id = s.Id(0);
    m.user_id = s.Id(1);
    m.nick = s.OptText(2);
    m.color = s.OptText(3);
    m.joined_at_ms = s.OptInt(4);
    known.push_back(s.Int(5) != 0);
    m.extra = ParseJsonOr(s.Text(6), Json::object());
    out->push_back(std::move(m));
  }
  FERRY_RETURN_IF_ERROR(st);
  for (size_t i = 0; i < out->size(); ++i) FERRY_RETURN_IF_ERROR(LoadMemberRoles(this, &(*out)[i], known[i]));
  return Status::Ok();
}

const char* SqliteStore::kMessageColumns =
    "m.id, m.channel_id, m.author_id, m.type, m.content, m.ts_ms, m.ts_text, m.edited_ms, m.edited_text, m.pinned,"
    " m.ref_type, m.ref_message_id, m.ref_channel_id, m.ref_guild_id, m.mention_everyone, m.tts, m.flags,"
    " m.content_format, m.collections, m.deleted, m.extra, c.guild_id";

Status SqliteStore::LoadMessageRow(Stmt& s, Message* m) {
  *m = Message();
  m->id = s.Id(0);
  m->channel_id = s.Id(1);
  m->author_id = s.OptId(2);
  m->type = static_cast<int>(s.Int(3));
  m->content = s.OptText(4);
  m->timestamp.ms = s.Int(5);
  m->timestamp.text = s.Text(6);
  if (auto e = s.OptInt(7)) m->edited = Timestamp{*e, s.OptText(8).value_or("")};
  m->pinned = s.OptBool(9);
  if (!s.IsNull(10) || !s.IsNull(11) || !s.IsNull(12)) {
    MessageReference r;
    r.type = static_cast<int>(s.OptInt(10).value_or(0));
    r.message_id = s.OptId(11);
    r.channel_id = s.OptId(12);
    r.guild_id = s.OptId(13);
    m->reference = r;
  }
  m->mention_everyone = s.OptBool(14);
  m->tts = s.OptBool(15);
  m->flags = static_cast<int>(s.Int(16));
  m->content_format = s.Text(17);
  int known = static_cast<int>(s.Int(18));
  m->deleted = s.Int(19) != 0;
  m->extra = ParseJsonOr(s.Text(20), Json::object());
  m->guild_id = s.OptId(21);
  // Mark known collections as present-but-empty; LoadMessageCollections fills them.
  if (known & kAttachments) m->attachments.emplace();
  if (known & kEmbeds) m->embeds.emplace();
  if (known & kStickers) m->stickers.emplace();
  if (known & kReactions) m->reactions.emplace();
  if (known & kUserMentions) m->mention_user_ids.emplace();
  if (known & kRoleMentions) m->mention_role_ids.emplace();
  return Status::Ok();
}

Attachment AttachmentFromRow(const Stmt& s, int c) {
  Attachment a;
  a.id = s.Id(c);
  a.filename = s.Text(c + 1);
  a.size = s.OptInt(c + 2);
  a.url = s.OptText(c + 3);
  a.content_type = s.OptText(c + 4);
  if (auto w = s.OptInt(c + 5)) a.width = static_cast<int>(*w);
  if (auto h = s.OptInt(c + 6)) a.height = static_cast<int>(*h);
  a.sha256 = s.OptText(c + 7);
  a.extra = ParseJsonOr(s.Text(c + 8), Json::object());
  return a;
}

Sticker StickerFromRow(const Stmt& s, int c) {
  Sticker k;
  k.id = s.Id(c);
  k.name = s.Text(c + 1);
  k.format = static_cast<int>(s.Int(c + 2));
  k.url = s.OptText(c + 3);
  k.sha256 = s.OptText(c + 4);
  return k;
}

Reaction ReactionFromRow(const Stmt& s, int c) {
  Reaction r;
  r.emoji.id = s.Id(c);
  r.emoji.name = s.Text(c + 1);
  r.emoji.animated = s.Int(c + 2) != 0;
  r.emoji.image_url = s.OptText(c + 3);
  r.emoji.sha256 = s.OptText(c + 4);
  r.count = static_cast<int>(s.Int(c + 5));
  r.extra = ParseJsonOr(s.Text(c + 6), Json::object());
  return r;
}

Status SqliteStore::LoadMessageCollections(Message* m) {
  Status st;
  {
    auto s = Prepare(
        "SELECT id, filename, size, url, content_type, width, height, sha256, extra FROM attachments WHERE message_id=?"
        " ORDER BY idx",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    s.BindId(1, m->id);
    while (s.Step(&st)) {
      if (!m->attachments) m->attachments.emplace();
      m->attachments->push_back(AttachmentFromRow(s, 0));
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  {
    auto s = Prepare("SELECT json FROM embeds WHERE message_id=? ORDER BY idx", &st);
    FERRY_RETURN_IF_ERROR(st);
    s.BindId(1, m->id);
    while (s.Step(&st)) {
      if (!m->embeds) m->embeds.emplace();
      m->embeds->push_back(ParseJsonOr(s.Text(0), Json::object()));
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  {
    auto s = Prepare("SELECT sticker_id, name, format, url, sha256 FROM message_stickers WHERE message_id=? ORDER BY idx", &st);
    FERRY_RETURN_IF_ERROR(st);
    s.BindId(1, m->id);
    while (s.Step(&st)) {
      if (!m->stickers) m->stickers.emplace();
      m->stickers->push_back(StickerFromRow(s, 0));
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  {
    auto s = Prepare(
        "SELECT emoji_key, emoji_id, emoji_name, animated, image_url, sha256, count, extra FROM reactions WHERE message_id=?"
        " ORDER BY idx",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    s.BindId(1, m->id);
    std::vector<std::string> keys;
    while (s.Step(&st)) {
      if (!m->reactions) m->reactions.emplace();
      keys.push_back(s.Text(0));
      m->reactions->push_back(ReactionFromRow(s, 1));
    }
    FERRY_RETURN_IF_ERROR(st);
    sqlite3_reset(s.raw());
    if (!keys.empty()) {
      auto u = Prepare("SELECT user_id FROM reaction_users WHERE message_id=? AND emoji_key=? ORDER BY rowid", &st);
      FERRY_RETURN_IF_ERROR(st);
      for (size_t i = 0; i < keys.size(); ++i) {
        u.BindId(1, m->id).Bind(2, keys[i]);
        while (u.Step(&st)) (*m->reactions)[i].user_ids.push_back(u.Id(0));
        FERRY_RETURN_IF_ERROR(st);
        sqlite3_reset(u.raw());
      }
    }
  }
  {
    auto s = Prepare("SELECT kind, target_id FROM mentions WHERE message_id=? ORDER BY kind, rowid", &st);
    FERRY_RETURN_IF_ERROR(st);
    s.BindId(1, m->id);
    while (s.Step(&st)) {
      auto& list = s.Int(0) == 0 ? m->mention_user_ids : m->mention_role_ids;
      if (!list) list.emplace();
      list->push_back(s.Id(1));
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

Status SqliteStore::GetMessage(Snowflake channel_id, Snowflake id, Message* out) {
  Status st;
  static const std::string sql = std::string("SELECT ") + kMessageColumns +
                                 " FROM messages m LEFT JOIN channels c ON c.id=m.channel_id WHERE m.id=?"
                                 " AND (?=0 OR m.channel_id=?) AND m.deleted=0";
  auto s = Prepare(sql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, id).BindId(2, channel_id).BindId(3, channel_id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown message " + std::to_string(id)) : st;
  LoadMessageRow(s, out);
  sqlite3_reset(s.raw());
  return LoadMessageCollections(out);
}

Status SqliteStore::ListMessages(const MessageQuery& q, std::vector<Message>* out) {
  Status st;
  out->clear();
  int limit = std::max(1, q.limit);
  std::string base = std::string("SELECT ") + kMessageColumns +
                     " FROM messages m LEFT JOIN channels c ON c.id=m.channel_id WHERE m.channel_id=?1" +
                     (q.include_deleted ? "" : " AND m.deleted=0");
  auto collect = [&](const std::string& sql, std::uint64_t anchor, int n) -> Status {
    Status s2;
    auto s = Prepare(sql.c_str(), &s2);  // one of four texts: cached, not parsed per page
    FERRY_RETURN_IF_ERROR(s2);
    s.BindId(1, q.channel_id).BindId(2, anchor).Bind(3, std::int64_t(n));
    while (s.Step(&s2)) {
      out->emplace_back();
      LoadMessageRow(s, &out->back());
    }
    return s2;
  };
  FERRY_RETURN_IF_ERROR(BeginRead());
  struct EndOnReturn {
    SqliteStore* s;
    ~EndOnReturn() { s->EndRead(); }
  } end_read{this};
  if (q.around) {
    int newer = limit - limit / 2, older = limit / 2;
    FERRY_RETURN_IF_ERROR(collect(base + " AND m.id>=?2 ORDER BY m.id ASC LIMIT ?3", *q.around, newer));
    FERRY_RETURN_IF_ERROR(collect(base + " AND m.id<?2 ORDER BY m.id DESC LIMIT ?3", *q.around, older));
  } else if (q.after) {
    FERRY_RETURN_IF_ERROR(collect(base + " AND m.id>?2 ORDER BY m.id ASC LIMIT ?3", *q.after, limit));
  } else if (q.before) {
    FERRY_RETURN_IF_ERROR(collect(base + " AND m.id<?2 ORDER BY m.id DESC LIMIT ?3", *q.before, limit));
  } else {
    FERRY_RETURN_IF_ERROR(collect(base + " AND ?2=?2 ORDER BY m.id DESC LIMIT ?3", 0, limit));
  }
  std::sort(out->begin(), out->end(), [](const Message& a, const Message& b) { return a.id > b.id; });
  return LoadMessageCollectionsBatch(out);
}

Status SqliteStore::ForEachMessage(Snowflake channel_id, const std::function<bool(const Message&)>& fn) {
  Status st;
  std::string sql = std::string("SELECT ") + kMessageColumns +
                    " FROM messages m LEFT JOIN channels c ON c.id=m.channel_id WHERE m.channel_id=? AND m.deleted=0"
                    " ORDER BY m.id";
  auto s = PrepareOwned(sql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, channel_id);
  while (s.Step(&st)) {
    Message m;
    LoadMessageRow(s, &m);
    FERRY_RETURN_IF_ERROR(LoadMessageCollections(&m));
    if (!fn(m)) break;
  }
  return st;
}

Status SqliteStore::CountMessages(Snowflake channel_id, std::int64_t* out) {
  Status st;
  auto s = Prepare("SELECT count(*) FROM messages WHERE channel_id=? AND deleted=0", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, channel_id);
  if (!s.Step(&st)) return st;
  *out = s.Int(0);
  return Status::Ok();
}

Status SqliteStore::ListPinned(Snowflake channel_id, std::vector<Message>* out) {
  Status st;
  out->clear();
  std::string sql = std::string("SELECT ") + kMessageColumns +
                    " FROM messages m LEFT JOIN channels c ON c.id=m.channel_id WHERE m.channel_id=? AND m.deleted=0"
                    " AND m.pinned=1 ORDER BY m.id DESC";
  FERRY_RETURN_IF_ERROR(BeginRead());
  struct EndOnReturn {
    SqliteStore* s;
    ~EndOnReturn() { s->EndRead(); }
  } end_read{this};
  auto s = PrepareOwned(sql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, channel_id);
  while (s.Step(&st)) {
    out->emplace_back();
    LoadMessageRow(s, &out->back());
  }
  FERRY_RETURN_IF_ERROR(st);
  return LoadMessageCollectionsBatch(out);
}

// Turns user text into an FTS5 query: every word becomes a quoted token (so punctuation and FTS operators
// in the text are searched for, not interpreted); a trailing * keeps prefix search.
static std::string FtsQuery(const std::string& text) {
  std::string out, word;
  auto flush = [&]() {
    if (word.empty()) return;
    bool prefix = word.size() > 1 && word.back() == '*';
    if (prefix) word.pop_back();
    std::string q = "\"";
    for (char c : word) {
      if (c == '"') q += "\"\"";
      else q += c;
    }
    q += "\"";
    if (prefix) q += "*";
    if (!out.empty()) out += " ";
    out += q;
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') flush();
    else word += c;
  }
  flush();
  return out;
}

Status SqliteStore::Search(const SearchQuery& q, std::vector<SearchHit>* out) {
  Status st;
  out->clear();
  std::string fts = FtsQuery(q.text);
  if (fts.empty()) return Status::InvalidInput("empty search query");
  std::string sql = std::string("SELECT ") + kMessageColumns +
                    ", snippet(messages_fts, 0, '[', ']', '…', 16) FROM messages_fts f"
                    " JOIN messages m ON m.id=f.rowid LEFT JOIN channels c ON c.id=m.channel_id"
                    " WHERE messages_fts MATCH ?1 AND m.deleted=0"
                    " AND (?2 IS NULL OR c.guild_id=?2) AND (?3 IS NULL OR m.channel_id=?3)"
                    " AND (?4 IS NULL OR m.author_id=?4) ORDER BY f.rowid DESC LIMIT ?5 OFFSET ?6";
  auto s = PrepareOwned(sql.c_str(), &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, fts).BindOptId(2, q.guild_id).BindOptId(3, q.channel_id).BindOptId(4, q.author_id);
  s.Bind(5, std::int64_t(q.limit)).Bind(6, std::int64_t(q.offset));
  while (s.Step(&st)) {
    SearchHit h;
    LoadMessageRow(s, &h.message);
    h.snippet = s.Text(22);
    out->push_back(std::move(h));
  }
  FERRY_RETURN_IF_ERROR(st);
  for (auto& h : *out) FERRY_RETURN_IF_ERROR(LoadMessageCollections(&h.message));
  return Status::Ok();
}

Status SqliteStore::Stats(StoreStats* out) {
  Status st;
  auto count = [&](const char* sql, std::int64_t* v) -> Status {
    Status s2;
    auto s = PrepareOwned(sql, &s2);
    FERRY_RETURN_IF_ERROR(s2);
    if (s.Step(&s2)) *v = s.Int(0);
    return s2;
  };
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM guilds", &out->guilds));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM channels WHERE type NOT IN (10,11,12)", &out->channels));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM channels WHERE type IN (10,11,12)", &out->threads));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM users", &out->users));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM members", &out->members));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM roles", &out->roles));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM messages WHERE deleted=0", &out->messages));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM attachments", &out->attachments));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM attachments WHERE sha256 IS NULL", &out->attachments_missing));
  FERRY_RETURN_IF_ERROR(count("SELECT coalesce(sum(count),0) FROM reactions", &out->reactions));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM embeds", &out->embeds));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM message_stickers", &out->stickers));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM blobs", &out->blobs));
  FERRY_RETURN_IF_ERROR(count("SELECT coalesce(sum(size),0) FROM blobs", &out->blob_bytes));
  FERRY_RETURN_IF_ERROR(count("SELECT count(*) FROM import_runs", &out->import_runs));
  std::vector<ImportRun> runs;
  FERRY_RETURN_IF_ERROR(ListRuns(&runs));
  out->runs = Json::array();
  for (const auto& r : runs) {
    out->runs.push_back({{"id", r.id}, {"kind", r.kind}, {"path", r.path}, {"sha256", r.sha256},
                         {"status", r.status}, {"tool_version", r.tool_version}, {"started_ms", r.started_ms},
                         {"ended_ms", r.ended_ms}, {"source_time_ms", r.source_time_ms}, {"counts", r.counts}});
  }
  out->messages_by_source = Json::object();
  auto s = PrepareOwned(
      "SELECT coalesce(r.kind, 'api'), count(*) FROM messages m LEFT JOIN import_runs r ON r.id=m.source_run"
      " WHERE m.deleted=0 GROUP BY 1 ORDER BY 1",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  while (s.Step(&st)) out->messages_by_source[s.Text(0)] = s.Int(1);
  return st;
}

// ---------------------------------------------------------------------------------------------------
// Compat-API writes

Status SqliteStore::DeleteMessage(Snowflake channel_id, Snowflake id) {
  Status st;
  auto s = Prepare("UPDATE messages SET deleted=1, source_ms=max(source_ms, ?3) WHERE id=?1 AND channel_id=?2 AND deleted=0", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(s.BindId(1, id).BindId(2, channel_id).Bind(3, NowMs()).Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("unknown message " + std::to_string(id));
  return Status::Ok();
}

Status SqliteStore::SetPinned(Snowflake channel_id, Snowflake id, bool pinned) {
  Status st;
  auto s = Prepare("UPDATE messages SET pinned=? WHERE id=? AND channel_id=? AND deleted=0", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(s.Bind(1, std::int64_t(pinned ? 1 : 0)).BindId(2, id).BindId(3, channel_id).Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("unknown message " + std::to_string(id));
  return Status::Ok();
}

Status SqliteStore::AddReaction(Snowflake message_id, const Emoji& e, Snowflake user_id) {
  Status st;
  std::string key = e.Key();
  auto ins = Prepare("INSERT OR IGNORE INTO reaction_users(message_id, emoji_key, user_id) VALUES (?,?,?)", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(ins.BindId(1, message_id).Bind(2, key).BindId(3, user_id).Run());
  if (sqlite3_changes(db_) == 0) return Status::Conflict("reaction already present");
  auto up = Prepare(
      "INSERT INTO reactions(message_id, emoji_key, idx, emoji_id, emoji_name, animated, count)"
      " VALUES (?1, ?2, (SELECT coalesce(max(idx)+1, 0) FROM reactions WHERE message_id=?1), ?3, ?4, ?5, 1)"
      " ON CONFLICT(message_id, emoji_key) DO UPDATE SET count=count+1",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  up.BindId(1, message_id).Bind(2, key).BindId(3, e.id).Bind(4, e.name).Bind(5, std::int64_t(e.animated ? 1 : 0));
  FERRY_RETURN_IF_ERROR(up.Run());
  auto mark = Prepare("UPDATE messages SET collections=collections|8 WHERE id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  return mark.BindId(1, message_id).Run();
}

Status SqliteStore::RemoveReaction(Snowflake message_id, const std::string& emoji_key, Snowflake user_id) {
  Status st;
  auto del = Prepare("DELETE FROM reaction_users WHERE message_id=? AND emoji_key=? AND user_id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(del.BindId(1, message_id).Bind(2, emoji_key).BindId(3, user_id).Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("no such reaction");
  auto dec = Prepare("UPDATE reactions SET count=count-1 WHERE message_id=? AND emoji_key=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(dec.BindId(1, message_id).Bind(2, emoji_key).Run());
  auto gc = Prepare("DELETE FROM reactions WHERE message_id=? AND emoji_key=? AND count<=0", &st);
  FERRY_RETURN_IF_ERROR(st);
  return gc.BindId(1, message_id).Bind(2, emoji_key).Run();
}

Status SqliteStore::RemoveAllReactions(Snowflake message_id, const std::string& emoji_key) {
  Status st;
  auto d1 = Prepare("DELETE FROM reactions WHERE message_id=?1 AND (?2='' OR emoji_key=?2)", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(d1.BindId(1, message_id).Bind(2, emoji_key).Run());
  auto d2 = Prepare("DELETE FROM reaction_users WHERE message_id=?1 AND (?2='' OR emoji_key=?2)", &st);
  FERRY_RETURN_IF_ERROR(st);
  return d2.BindId(1, message_id).Bind(2, emoji_key).Run();
}

Status SqliteStore::ListReactionUsers(Snowflake message_id, const std::string& emoji_key, Snowflake after, int limit,
                                     std::vector<Snowflake>* out) {
  Status st;
  out->clear();
  auto s = Prepare(
      "SELECT user_id FROM reaction_users WHERE message_id=? AND emoji_key=? AND user_id>? ORDER BY user_id LIMIT ?", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, message_id).Bind(2, emoji_key).BindId(3, after).Bind(4, std::int64_t(limit));
  while (s.Step(&st)) out->push_back(s.Id(0));
  return st;
}

Status SqliteStore::PutOverwrite(Snowflake channel_id, const Overwrite& o) {
  Status st;
  auto s = Prepare("INSERT OR REPLACE INTO overwrites(channel_id, target_id, type, allow, deny) VALUES (?,?,?,?,?)", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, channel_id).BindId(2, o.id).Bind(3, std::int64_t(o.type)).BindId(4, o.allow).BindId(5, o.deny);
  FERRY_RETURN_IF_ERROR(s.Run());
  auto mark = Prepare("UPDATE channels SET overwrites_known=1 WHERE id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  return mark.BindId(1, channel_id).Run();
}

Status SqliteStore::DeleteOverwrite(Snowflake channel_id, Snowflake overwrite_id) {
  Status st;
  auto s = Prepare("DELETE FROM overwrites WHERE channel_id=? AND target_id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(s.BindId(1, channel_id).BindId(2, overwrite_id).Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("unknown overwrite " + std::to_string(overwrite_id));
  return Status::Ok();
}

Status SqliteStore::AddThreadMember(Snowflake thread_id, Snowflake user_id, std::int64_t joined_ms) {
  Status st;
  auto s = Prepare("INSERT OR IGNORE INTO thread_members(thread_id, user_id, joined_ms) VALUES (?,?,?)", &st);
  FERRY_RETURN_IF_ERROR(st);
  return s.BindId(1, thread_id).BindId(2, user_id).Bind(3, joined_ms).Run();
}

Status SqliteStore::RemoveThreadMember(Snowflake thread_id, Snowflake user_id) {
  Status st;
  auto s = Prepare("DELETE FROM thread_members WHERE thread_id=? AND user_id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(s.BindId(1, thread_id).BindId(2, user_id).Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("not a thread member");
  return Status::Ok();
}

Status SqliteStore::ListThreadMembers(Snowflake thread_id, std::vector<std::pair<Snowflake, std::int64_t>>* out) {
  Status st;
  out->clear();
  auto s = Prepare("SELECT user_id, joined_ms FROM thread_members WHERE thread_id=? ORDER BY user_id", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, thread_id);
  while (s.Step(&st)) out->emplace_back(s.Id(0), s.Int(1));
  return st;
}

Status SqliteStore::RemoveMember(Snowflake guild_id, Snowflake user_id) {
  Status st;
  auto s = Prepare("DELETE FROM members WHERE guild_id=? AND user_id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(s.BindId(1, guild_id).BindId(2, user_id).Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("unknown member " + std::to_string(user_id));
  auto r = Prepare("DELETE FROM member_roles WHERE guild_id=? AND user_id=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  return r.BindId(1, guild_id).BindId(2, user_id).Run();
}

// ---------------------------------------------------------------------------------------------------
// Bots

static void LoadBot(Stmt& s, Bot* b) {
  b->user_id = s.Id(0);
  b->name = s.Text(1);
  b->permissions = s.Id(2);
  b->privileged_intents = s.Int(3) != 0;
  b->created_ms = s.Int(4);
  b->revoked = s.Int(5) != 0;
  b->guild_ids = IdsFromJson(s.Text(6));
}

Status SqliteStore::CreateBot(const Bot& bot, const std::string& token_hash, const std::string& token_prefix) {
  Status st;
  auto s = Prepare(
      "INSERT INTO bots(user_id, name, token_hash, token_prefix, permissions, privileged_intents, created_ms, guilds)"
      " VALUES (?,?,?,?,?,?,?,?)",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, bot.user_id).Bind(2, bot.name).Bind(3, token_hash).Bind(4, token_prefix).BindId(5, bot.permissions);
  s.Bind(6, std::int64_t(bot.privileged_intents ? 1 : 0)).Bind(7, bot.created_ms ? bot.created_ms : NowMs());
  s.Bind(8, IdsJson(bot.guild_ids));
  Status r = s.Run();
  if (!r.ok()) return Status::Conflict("cannot create bot " + bot.name + ": " + r.message());
  return Status::Ok();
}

Status SqliteStore::FindBotByTokenHash(const std::string& token_hash, Bot* out) {
  Status st;
  auto s = Prepare(
      "SELECT user_id, name, permissions, privileged_intents, created_ms, revoked, guilds FROM bots"
      " WHERE token_hash=? AND revoked=0",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, token_hash);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown token") : st;
  LoadBot(s, out);
  return Status::Ok();
}

Status SqliteStore::ListBots(std::vector<BotInfo>* out) {
  Status st;
  out->clear();
  auto s = PrepareOwned(
      "SELECT user_id, name, permissions, privileged_intents, created_ms, revoked, guilds, token_prefix FROM bots"
      " ORDER BY user_id",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  while (s.Step(&st)) {
    BotInfo b;
    LoadBot(s, &b.bot);
    b.token_prefix = s.Text(7);
    out->push_back(std::move(b));
  }
  return st;
}

Status SqliteStore::RevokeBot(const std::string& id_or_name) {
  Status st;
  auto id = ParseSnowflake(id_or_name);
  auto s = Prepare("UPDATE bots SET revoked=1 WHERE (user_id=?1 OR name=?2) AND revoked=0", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindOptId(1, id).Bind(2, id_or_name);
  FERRY_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("no active bot " + id_or_name);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------
// Mappings and meta

Status SqliteStore::GetMapping(const std::string& target, const std::string& key, std::string* value) {
  Status st;
  auto s = Prepare("SELECT value FROM export_mappings WHERE target=? AND key=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, target).Bind(2, key);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("no mapping for " + key) : st;
  *value = s.Text(0);
  return Status::Ok();
}

Status SqliteStore::PutMapping(const std::string& target, const std::string& key, const std::string& value) {
  Status st;
  auto s = Prepare("INSERT OR REPLACE INTO export_mappings(target, key, value) VALUES (?,?,?)", &st);
  FERRY_RETURN_IF_ERROR(st);
  return s.Bind(1, target).Bind(2, key).Bind(3, value).Run();
}

Status SqliteStore::GetMeta(const std::string& key, std::string* value) {
  Status st;
  auto s = Prepare("SELECT value FROM meta WHERE key=?", &st);
  FERRY_RETURN_IF_ERROR(st);
  s.Bind(1, key);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("no meta " + key) : st;
  *value = s.Text(0);
  return Status::Ok();
}

Status SqliteStore::PutMeta(const std::string& key, const std::string& value) {
  Status st;
  auto s = Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)", &st);
  FERRY_RETURN_IF_ERROR(st);
  return s.Bind(1, key).Bind(2, value).Run();
}

}  // namespace ferry
