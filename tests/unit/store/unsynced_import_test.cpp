// A new store filled by a bulk import is written without syncs (store/unsynced_import.hpp): these tests hold
// the promises that make that safe — it ends synced and in WAL, a killed import leaves a store that opens
// whole, and a store damaged by a crash is refused with a message that says what to do.
#include "store/unsynced_import.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/store.hpp"
#include "tests/unit/temp_dir_test.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class UnsyncedImportTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = (dir_ / "s.db").string();
  }

  static Status Open(const std::string& path, bool bulk, std::unique_ptr<Store>* out) {
    OpenOptions o;
    o.bulk_load = bulk;
    return Store::Open(path, o, out);
  }
  static Message Msg(Snowflake id) {
    Message m;
    m.id = id;
    m.channel_id = 10;
    m.author_id = 100;
    // Large enough that a transaction of a few thousand spills out of the page cache into the file.
    m.content = "message " + std::to_string(id) + " " + std::string(2000, 'x');
    m.timestamp = {1717243200000 + static_cast<std::int64_t>(id), "2024-06-01T12:00:00+00:00"};
    return m;
  }
  static void Write(Store* s, Snowflake from, Snowflake to) {
    ASSERT_TRUE(s->Begin().ok());
    for (Snowflake id = from; id < to; ++id) ASSERT_TRUE(s->UpsertMessage(Msg(id), {1, 1000}).ok());
    ASSERT_TRUE(s->Commit().ok());
  }
  // Read straight from the file, as another program would.
  std::string Pragma(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    std::string v;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
      v = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
  }
  bool Marker() const { return fs::exists(UnsyncedImport::MarkerPath(path_)); }

  std::string path_;
};

TEST_F(UnsyncedImportTest, NewStoreIsWrittenWithoutSyncsAndEndsSyncedInWal) {
  std::unique_ptr<Store> s;
  ASSERT_TRUE(Open(path_, true, &s).ok());
  EXPECT_TRUE(Marker());
  EXPECT_EQ(UnsyncedImport::Check(path_), UnsyncedImport::State::kRunning);  // ours, alive
  Write(s.get(), 1, 500);
  EXPECT_EQ(Pragma("PRAGMA journal_mode"), "delete");
  ASSERT_TRUE(s->Close().ok());
  EXPECT_FALSE(Marker());
  EXPECT_EQ(Pragma("PRAGMA journal_mode"), "wal");
  ASSERT_TRUE(s->Close().ok());  // idempotent
  // Still usable after Close, now as an ordinary store.
  Write(s.get(), 500, 600);
  ASSERT_TRUE(s->FlushSearchIndex(nullptr).ok());
  s.reset();
  EXPECT_FALSE(fs::exists(path_ + "-journal"));
  ASSERT_TRUE(Open(path_, false, &s).ok());
  std::int64_t n = 0;
  ASSERT_TRUE(s->CountMessages(10, &n).ok());
  EXPECT_EQ(n, 599);
  std::vector<SearchHit> hits;
  ASSERT_TRUE(s->Search({"message"}, &hits).ok());
  EXPECT_EQ(hits.size(), 25u);
}

TEST_F(UnsyncedImportTest, StoresThatExistAlreadyAreNeverWrittenUnsynced) {
  std::unique_ptr<Store> s;
  ASSERT_TRUE(Open(path_, false, &s).ok());
  s.reset();
  ASSERT_TRUE(Open(path_, true, &s).ok());
  EXPECT_FALSE(Marker());
  Write(s.get(), 1, 10);
  EXPECT_EQ(Pragma("PRAGMA journal_mode"), "wal");
}

TEST_F(UnsyncedImportTest, DestructorFinishesWhatCloseWouldHave) {
  {
    std::unique_ptr<Store> s;
    ASSERT_TRUE(Open(path_, true, &s).ok());
    Write(s.get(), 1, 50);
  }
  EXPECT_FALSE(Marker());
  EXPECT_EQ(Pragma("PRAGMA journal_mode"), "wal");
}

TEST_F(UnsyncedImportTest, ImportKilledMidTransactionLeavesAWholeStoreAtItsLastCommit) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The import: one committed batch, then a transaction big enough to overwrite pages in the file
    // (journaled first), killed before it commits.
    std::unique_ptr<Store> s;
    if (!Open(path_, true, &s).ok()) ::_exit(2);
    for (Snowflake id = 1; id < 2001; ++id) {
      if (id == 1 && !s->Begin().ok()) ::_exit(3);
      if (!s->UpsertMessage(Msg(id), {1, 1000}).ok()) ::_exit(4);
    }
    if (!s->Commit().ok()) ::_exit(5);
    if (!s->Begin().ok()) ::_exit(6);
    for (Snowflake id = 2001; id < 12001; ++id)
      if (!s->UpsertMessage(Msg(id), {1, 1000}).ok()) ::_exit(7);
    ::kill(::getpid(), SIGKILL);
    ::_exit(8);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << WEXITSTATUS(status);
  EXPECT_TRUE(Marker());
  EXPECT_EQ(UnsyncedImport::Check(path_), UnsyncedImport::State::kAbandoned);
  EXPECT_TRUE(fs::exists(path_ + "-journal"));  // the killed transaction's: rolled back by the next open

  std::unique_ptr<Store> s;
  Status st = Open(path_, true, &s);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(Marker());  // checked, synced, and now an ordinary store
  std::int64_t n = 0;
  ASSERT_TRUE(s->CountMessages(10, &n).ok());
  EXPECT_EQ(n, 2000);
  Write(s.get(), 2001, 2100);  // the rerun goes on from there
  s.reset();
  EXPECT_EQ(Pragma("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Pragma("PRAGMA journal_mode"), "wal");
}

TEST_F(UnsyncedImportTest, StoreDamagedByACrashIsRefusedSayingWhatToDo) {
  {
    std::unique_ptr<Store> s;
    ASSERT_TRUE(Open(path_, true, &s).ok());
    Write(s.get(), 1, 3000);
  }
  // What a power loss can leave: pages that never reached the disk, and the marker of an import from an
  // earlier boot.
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    std::string junk(16384 * 20, '\x5a');
    f.seekp(16384 * 3);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  { std::ofstream(UnsyncedImport::MarkerPath(path_)) << "4242 00000000-dead-boot-0000-000000000000\n"; }
  EXPECT_EQ(UnsyncedImport::Check(path_), UnsyncedImport::State::kAbandoned);

  std::unique_ptr<Store> s;
  Status st = Open(path_, false, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kStoreError);
  EXPECT_NE(st.message().find("damaged"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("delete " + path_), std::string::npos) << st.message();
  EXPECT_TRUE(Marker());  // still damaged: the next open says so again
}

TEST_F(UnsyncedImportTest, MarkerOfAnImportStillRunningIsLeftAlone) {
  { std::ofstream(UnsyncedImport::MarkerPath(path_)) << "1 " << "no-such-boot\n"; }
  EXPECT_EQ(UnsyncedImport::Check(path_), UnsyncedImport::State::kAbandoned);  // another boot: abandoned
  std::string boot;
  std::ifstream("/proc/sys/kernel/random/boot_id") >> boot;
  { std::ofstream(UnsyncedImport::MarkerPath(path_)) << "1 " << boot << "\n"; }  // init: alive
  EXPECT_EQ(UnsyncedImport::Check(path_), UnsyncedImport::State::kRunning);
  { std::ofstream(UnsyncedImport::MarkerPath(path_)) << "1 " << boot << " 123456789\n"; }  // pid reused
  EXPECT_EQ(UnsyncedImport::Check(path_), UnsyncedImport::State::kAbandoned);
  // An importer killed but not yet reaped by its parent is a zombie: as dead as a reaped one.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);  // exited, not reaped
  { std::ofstream(UnsyncedImport::MarkerPath(path_)) << child << " " << boot << "\n"; }
  EXPECT_EQ(UnsyncedImport::Check(path_), UnsyncedImport::State::kAbandoned);
  ::waitpid(child, nullptr, 0);
  fs::remove(UnsyncedImport::MarkerPath(path_));
  EXPECT_EQ(UnsyncedImport::Check(path_), UnsyncedImport::State::kNone);
}

}  // namespace
}  // namespace ferry
