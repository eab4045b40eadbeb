// WalCheckpointer: copies a WAL-mode store's log back into its database file on a thread of its own.
//
// Without it SQLite checkpoints inside the commit that makes the log cross wal_autocheckpoint pages: that
// one commit (one POST /messages of a served bot) then waits for a few MB of copying and an fsync. With it,
// the writer's commits only append to the log and wake this thread, which runs PASSIVE checkpoints on its
// own connection: they never take the writer's lock and never wait for readers, so nothing on the serving
// thread blocks on them. The log is restarted from its beginning by the next commit after a checkpoint has
// copied everything (and is then truncated to the connection's journal_size_limit). Under back-to-back
// commits the thread never catches the newest frames, so once it has copied all but a quarter of the
// threshold, the committing writer copies the rest itself (a few milliseconds at most) and the log restarts; should the thread fall far behind (eight times
// the threshold), the writer checkpoints in full, so the log stays bounded under any load.
//
// Thread-safety: Notify() may be called from the writer's thread (it is the WAL hook's body); the rest from
// the owner. The owning store must destroy this before closing its own connection.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/status.hpp"

namespace ferry {

class WalCheckpointer {
 public:
  // Opens a second connection to `path` and installs itself as `writer`'s WAL hook (which replaces
  // SQLite's automatic checkpoints on that connection). Checkpoints start once the log holds
  // `threshold_pages` pages.
  static Status Start(sqlite3* writer, const std::string& path, int threshold_pages,
                      std::unique_ptr<WalCheckpointer>* out);
  // Removes the hook, runs one last passive checkpoint, stops the thread, closes its connection.
  ~WalCheckpointer();

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Figures for tests: checkpoints run, and the frames the last one copied.
  int checkpoints() const;

 private:
  WalCheckpointer(sqlite3* writer, sqlite3* own, int threshold_pages);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int log_pages);
  void Loop();
  bool CheckpointOnce();  // true when frames were left uncopied (the writer appended meanwhile)

  sqlite3* writer_;
  sqlite3* db_;
  const int threshold_;
  mutable std::mutex mu_;
  std::mutex checkpoint_mu_;  // held through any checkpoint, the thread's or the writer's
  std::condition_variable cv_;
  static constexpr int kFinishPages = 64;
  bool wanted_ = false;
  bool running_ = false;  // the thread is inside a checkpoint
  int copied_ = 0;        // frames of the log the last checkpoint had copied
  bool stop_ = false;
  int checkpoints_ = 0;
  std::thread thread_;
};

}  // namespace ferry
