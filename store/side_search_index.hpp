// SideSearchIndex: builds the search index of a first import on a thread of its own, in a scratch file.
//
// A bulk import's writer thread is its bottleneck, and indexing its messages for search afterwards ran
// another 8-9 s on that same thread for 2M messages while the second core sat idle. When the store holds no
// messages yet, the writer hands each new message's (id, content) to this object instead, whose thread adds
// them to a contentless FTS5 table in `<store>.search-build.<pid>` (same tokenizer and options as the
// store's messages_fts, so its shadow tables have the same format). When the input ends the store copies
// those tables into its own index in one transaction (SqliteStore::FinishSideIndex): 2M messages, 26.4 s
// -> 21.3 s on 2 cores.
//
// The scratch file is never the source of truth: every new message is still queued in fts_pending in its own
// transaction, so a process killed at any point leaves a queue that the next open indexes the usual way,
// and the abandoned file is removed by the next bulk open (its pid is gone).
//
// Thread-safety: Add/Commit/Discard/Finish from one thread (the store's writer); the build runs on its own.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/status.hpp"

namespace ferry {

class SideSearchIndex {
 public:
  // The FTS5 options both tables must share; SqliteStore only builds on the side when the store's
  // messages_fts was created with exactly these (see schemas/0004).
  static constexpr const char* kTokenizeOptions = "tokenize='unicode61 remove_diacritics 2', columnsize=0";
  // Name of the scratch table inside the side file.
  static constexpr const char* kTable = "side_fts";

  // Creates the scratch file for `store_path` and starts the thread.
  static Status Start(const std::string& store_path, std::unique_ptr<SideSearchIndex>* out);
  // Removes scratch files of `store_path` left by processes that no longer exist.
  static void RemoveAbandoned(const std::string& store_path);

  // Stops the thread (if running) and deletes the scratch file.
  ~SideSearchIndex();
  SideSearchIndex(const SideSearchIndex&) = delete;
  SideSearchIndex& operator=(const SideSearchIndex&) = delete;

  // Buffers one document of the store's open transaction.
  void Add(std::int64_t id, const std::string& content);
  // The store's transaction committed: its documents go to the thread. Blocks while the thread is more than
  // a few thousand documents behind (one transaction's always gets in), so memory stays bounded.
  void Commit();
  // The store's transaction rolled back: its documents are dropped.
  void Discard() { pending_ = Docs(); }

  // Waits for the thread to index everything committed; *docs = documents indexed. Afterwards the
  // file at path() holds table kTable, closed and complete. An error means the side index is unusable.
  Status Finish(std::int64_t* docs);
  const std::string& path() const { return path_; }

 private:
  // One transaction's documents: their texts back to back in one buffer (a message's content is ~50 bytes,
  // so a string each would double the memory a large transaction's documents take).
  struct Docs {
    struct Doc {
      std::int64_t id;
      std::size_t offset, size;
    };
    std::vector<Doc> docs;
    std::string text;
    bool empty() const { return docs.empty(); }
    std::size_t size() const { return docs.size(); }
  };
  SideSearchIndex(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  void Loop();
  Status IndexBatch(const Docs& docs);

  std::string path_;
  sqlite3* db_;
  sqlite3_stmt* insert_ = nullptr;
  Docs pending_;  // the open transaction's documents (writer thread only)

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Docs> queue_;
  std::size_t queued_docs_ = 0;
  bool closing_ = false, done_ = false, abandon_ = false;
  Status error_;
  std::int64_t docs_ = 0;
  std::thread thread_;
};

}  // namespace ferry
