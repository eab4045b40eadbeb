#include "store/side_search_index.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace ferry {
namespace {

constexpr const char* kSuffix = ".search-build.";
// Documents per scratch transaction. The scratch file has no journal, so a commit costs little; FTS5 flushes
// its in-memory terms to a new segment at each one, so very small transactions would only add merging.
constexpr std::int64_t kDocsPerCommit = 200000;
// Documents the thread may fall behind before the writer waits (one transaction's worth always gets in).
constexpr std::size_t kMaxQueuedDocs = 8192;

Status SqlError(sqlite3* db, const std::string& path, const char* what) {
  return Status::StoreError(std::string("search index build ") + path + ": " + what + ": " + sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const std::string& path, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Status::StoreError("search index build " + path + ": " + msg);
  }
  return Status::Ok();
}

}  // namespace

void SideSearchIndex::RemoveAbandoned(const std::string& store_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path store(store_path);
  fs::path dir = store.has_parent_path() ? store.parent_path() : fs::path(".");
  const std::string prefix = store.filename().string() + kSuffix;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    char* stop = nullptr;
    long pid = std::strtol(name.c_str() + prefix.size(), &stop, 10);
    if (pid <= 0 || !stop || *stop != '\0') continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // its process still runs
    fs::remove(it->path(), ec);
  }
}

Status SideSearchIndex::Start(const std::string& store_path, std::unique_ptr<SideSearchIndex>* out) {
  std::string path = store_path + kSuffix + std::to_string(getpid());
  std::error_code ec;
  std::filesystem::remove(path, ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Status st = SqlError(db, path, "open");
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<SideSearchIndex> s(new SideSearchIndex(path, db));
  // A scratch file: no journal, no syncs. Whatever happens to it, the store's fts_pending queue stands.
  Status st = Exec(db, path,
                   "PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                   " PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-2048; PRAGMA temp_store=MEMORY;");
  if (st.ok())
    st = Exec(db, path,
              std::string("CREATE VIRTUAL TABLE ") + kTable + " USING fts5(content, content=''," + " " +
                  kTokenizeOptions + ")");
  // FTS5 merges a level once it holds `automerge` segments. At its default of 4 the merges re-wrote the
  // index's data about once more than at 8: a fifth of this thread's CPU for 2M messages, 4-12% of the
  // import's time. 8 leaves 21 segments instead of 17, and `ferry search` still answers in 10 ms. The setting
  // stays in the scratch file: the store's own index keeps FTS5's default for later writes.
  if (st.ok())
    st = Exec(db, path, std::string("INSERT INTO ") + kTable + "(" + kTable + ", rank) VALUES ('automerge', 8)");
  if (st.ok()) {
    std::string sql = std::string("INSERT INTO ") + kTable + "(rowid, content) VALUES (?, ?)";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s->insert_, nullptr) != SQLITE_OK) st = SqlError(db, path, "prepare");
  }
  if (!st.ok()) return st;  // the destructor closes and removes the file
  s->thread_ = std::thread([p = s.get()] {
    pthread_setname_np(pthread_self(), "ferry-search");
    p->Loop();
  });
  *out = std::move(s);
  return Status::Ok();
}

SideSearchIndex::~SideSearchIndex() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = abandon_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (insert_) sqlite3_finalize(insert_);
  if (db_) sqlite3_close(db_);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void SideSearchIndex::Add(std::int64_t id, const std::string& content) {
  pending_.docs.push_back({id, pending_.text.size(), content.size()});
  pending_.text += content;
}

void SideSearchIndex::Commit() {
  if (pending_.empty()) return;
  // FTS5 starts a new segment whenever a rowid is lower than the one before: a transaction that wrote
  // several files' messages of the same stretch of time, file after file, would cut many small segments
  // (and cost their merging). Within a transaction the order is free.
  auto by_id = [](const Docs::Doc& a, const Docs::Doc& b) { return a.id < b.id; };
  if (!std::is_sorted(pending_.docs.begin(), pending_.docs.end(), by_id))
    std::sort(pending_.docs.begin(), pending_.docs.end(), by_id);
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return queued_docs_ == 0 || queued_docs_ + pending_.size() <= kMaxQueuedDocs || done_; });
  if (done_) {  // the thread stopped on an error: Finish reports it
    pending_ = Docs();
    return;
  }
  queued_docs_ += pending_.size();
  queue_.push_back(std::move(pending_));
  pending_ = Docs();
  l.unlock();
  cv_.notify_all();
}

Status SideSearchIndex::IndexBatch(const Docs& docs) {
  for (const auto& d : docs.docs) {
    if (docs_ % kDocsPerCommit == 0) {
      if (docs_ > 0) FERRY_RETURN_IF_ERROR(Exec(db_, path_, "COMMIT"));
      FERRY_RETURN_IF_ERROR(Exec(db_, path_, "BEGIN"));
    }
    sqlite3_bind_int64(insert_, 1, d.id);
    sqlite3_bind_text(insert_, 2, docs.text.data() + d.offset, static_cast<int>(d.size), SQLITE_STATIC);
    int rc = sqlite3_step(insert_);
    sqlite3_reset(insert_);
    if (rc != SQLITE_DONE) return SqlError(db_, path_, "insert");
    ++docs_;
  }
  return Status::Ok();
}

void SideSearchIndex::Loop() {
  Status st;
  for (;;) {
    Docs docs;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) break;  // closing, and everything handed over is indexed
      docs = std::move(queue_.front());
      queue_.pop_front();
      queued_docs_ -= docs.size();
    }
    cv_.notify_all();
    st = IndexBatch(docs);
    if (!st.ok()) break;
  }
  bool abandoned;
  {
    std::lock_guard<std::mutex> l(mu_);
    abandoned = abandon_;
  }
  // FTS5's own automerge kept the segments few while they were written (17 for 2M messages): a final
  // merge pass would cost 2-3 s here, with the writer already done, for no measurable search speed.
  if (st.ok() && !abandoned && docs_ > 0) st = Exec(db_, path_, "COMMIT");
  if (insert_) {
    sqlite3_finalize(insert_);
    insert_ = nullptr;
  }
  if (sqlite3_close(db_) == SQLITE_OK) db_ = nullptr;
  else if (st.ok()) st = Status::StoreError("search index build " + path_ + ": close failed");
  std::lock_guard<std::mutex> l(mu_);
  if (!st.ok()) error_ = st;
  done_ = true;
  cv_.notify_all();
}

Status SideSearchIndex::Finish(std::int64_t* docs) {
  Commit();
  {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  *docs = docs_;
  return error_;
}

}  // namespace ferry
