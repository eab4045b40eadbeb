#include "store/wal_checkpointer.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>

namespace ferry {

Status WalCheckpointer::Start(sqlite3* writer, const std::string& path, int threshold_pages,
                              std::unique_ptr<WalCheckpointer>* out) {
  sqlite3* own = nullptr;
  if (sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = own ? sqlite3_errmsg(own) : "out of memory";
    if (own) sqlite3_close_v2(own);
    return Status::IoError("cannot open " + path + " for checkpoints: " + msg);
  }
  // A connection learns that the database is in WAL mode when it first reads it; until then checkpoints
  // report "not WAL" and do nothing.
  if (sqlite3_exec(own, "PRAGMA schema_version", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(own);
    sqlite3_close_v2(own);
    return Status::IoError("cannot read " + path + " for checkpoints: " + msg);
  }
  out->reset(new WalCheckpointer(writer, own, threshold_pages));
  return Status::Ok();
}

WalCheckpointer::WalCheckpointer(sqlite3* writer, sqlite3* own, int threshold_pages)
    : writer_(writer), db_(own), threshold_(threshold_pages > 0 ? threshold_pages : 1000) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ferry-checkpt");
    Loop();
  });
  sqlite3_wal_hook(writer_, &WalCheckpointer::OnCommit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  sqlite3_close_v2(db_);
}

int WalCheckpointer::checkpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoints_;
}

int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int log_pages) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (log_pages < c->threshold_) return SQLITE_OK;
  bool finish_here = false, must_finish = false;
  {
    std::lock_guard<std::mutex> lock(c->mu_);
    if (log_pages < c->copied_) c->copied_ = 0;  // the log restarted since: nothing of it is copied yet
    if (log_pages >= 8 * c->threshold_) {
      // It cannot keep up at all (starved of CPU, or a reader held it back): the writer checkpoints in
      // full, waiting for the thread's pass to end if one is running, so the log cannot grow without bound.
      must_finish = true;
    } else if (c->running_) {
      return SQLITE_OK;  // still copying (a checkpoint of our own would only find its lock taken)
    } else if (log_pages - c->copied_ <= std::max(kFinishPages, c->threshold_ / 4)) {
      // The thread has copied all but the last few frames. Under back-to-back commits a passive
      // checkpoint on another connection never catches the newest frames, and the log only restarts
      // once every frame is copied: the writer copies those few itself (a millisecond), and its next
      // commit starts the log over.
      finish_here = true;
    } else {
      c->wanted_ = true;
    }
  }
  if (finish_here || must_finish) {
    std::unique_lock<std::mutex> one_at_a_time(c->checkpoint_mu_, std::defer_lock);
    if (must_finish) one_at_a_time.lock();
    else if (!one_at_a_time.try_lock()) return SQLITE_OK;  // the thread just started a pass
    int log = 0, copied = 0;
    if (sqlite3_wal_checkpoint_v2(c->writer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK) {
      std::lock_guard<std::mutex> lock(c->mu_);
      c->copied_ = copied;
    }
  } else {
    c->cv_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return wanted_ || stop_; });
      if (stop_) break;
      wanted_ = false;
      running_ = true;
    }
    // Passes until the log is copied entirely (bounded, with a pause between): when the writes stop, the
    // log is caught up at once instead of at the next commit, which would otherwise find a large backlog
    // and copy it itself (an 80 ms stall on the first POST after a burst).
    for (int pass = 0; pass < 50 && CheckpointOnce(); ++pass) {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(2), [&] { return stop_; })) break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
  }
  CheckpointOnce();
}

bool WalCheckpointer::CheckpointOnce() {
  std::lock_guard<std::mutex> one_at_a_time(checkpoint_mu_);
  int log = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  // BUSY: another checkpoint (e.g. a `ferry import` beside the server) is running; the next commit retries.
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) std::fprintf(stderr, "store checkpoint failed: %s\n", sqlite3_errmsg(db_));
  std::lock_guard<std::mutex> lock(mu_);
  ++checkpoints_;
  if (rc == SQLITE_OK) copied_ = copied;
  return rc == SQLITE_OK && copied < log;
}

}  // namespace ferry
