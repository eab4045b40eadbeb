// The search index of a first bulk import, built on the side (store/side_search_index.hpp) and copied into
// the store: it must give exactly the index the queue would have given, whatever the import did meanwhile.
#include "store/side_search_index.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "store/sqlite_store.hpp"
#include "tests/unit/temp_dir_test.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class SideSearchIndexTest : public TempDirTest {
 protected:

  // The store as `ferry import` opens it.
  std::unique_ptr<Store> OpenBulk(const std::string& path) {
    std::unique_ptr<Store> s;
    OpenOptions o;
    o.bulk_load = true;
    Status st = Store::Open(path, o, &s);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }

  static Message Msg(Snowflake id, std::optional<std::string> content) {
    Message m;
    m.id = id;
    m.channel_id = 10;
    m.author_id = 100;
    m.content = std::move(content);
    m.timestamp = {1717243200000 + static_cast<std::int64_t>(id), "2024-06-01T12:00:00+00:00"};
    return m;
  }

  // What an import with overlapping exports writes: new messages in batches, then a later export that
  // edits some of them (one to empty), gives content to one that had none, and repeats others unchanged.
  static void Import(Store* s) {
    for (Snowflake base = 1; base <= 6000; base += 2000) {
      ASSERT_TRUE(s->Begin().ok());
      for (Snowflake id = base; id < base + 2000; ++id) {
        std::optional<std::string> c = "word" + std::to_string(id % 13) + " shared text " + std::to_string(id);
        if (id % 1000 == 7) c = "";            // no content: not indexed
        if (id % 1000 == 8) c = std::nullopt;  // content unknown
        ASSERT_TRUE(s->UpsertMessage(Msg(id, c), {1, 1000}).ok());
      }
      ASSERT_TRUE(s->Commit().ok());
    }
    ASSERT_TRUE(s->Begin().ok());
    ASSERT_TRUE(s->UpsertMessage(Msg(5, std::string("edited later zebra")), {2, 2000}).ok());
    ASSERT_TRUE(s->UpsertMessage(Msg(5, std::string("edited twice giraffe")), {3, 3000}).ok());
    ASSERT_TRUE(s->UpsertMessage(Msg(6, std::string("")), {2, 2000}).ok());                 // emptied
    ASSERT_TRUE(s->UpsertMessage(Msg(1007, std::string("now has words okapi")), {2, 2000}).ok());
    ASSERT_TRUE(s->UpsertMessage(Msg(2008, std::string("content at last okapi")), {2, 2000}).ok());
    ASSERT_TRUE(s->UpsertMessage(Msg(9, std::string("older export ignored")), {0, 10}).ok());  // older: no change
    ASSERT_TRUE(s->UpsertMessage(Msg(10, "word10 shared text 10"), {2, 2000}).ok());          // same content
    ASSERT_TRUE(s->UpsertMessage(Msg(7000, std::string("brand new okapi")), {2, 2000}).ok());
    ASSERT_TRUE(s->Commit().ok());
  }

  static std::set<Snowflake> Hits(Store* s, const std::string& text) {
    SearchQuery q;
    q.text = text;
    q.limit = 100000;
    std::vector<SearchHit> hits;
    EXPECT_TRUE(s->Search(q, &hits).ok()) << text;
    std::set<Snowflake> ids;
    for (const auto& h : hits) ids.insert(h.message.id);
    return ids;
  }

  static std::string One(const std::string& path, const char* sql) {
    sqlite3* db;
    std::string v = "?";
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return v;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK) {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) v = sqlite3_column_text(s, 0) ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0)) : "";
      else if (rc == SQLITE_DONE) v = "ok";
      else v = sqlite3_errmsg(db);
    } else {
      v = sqlite3_errmsg(db);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
  }

  static std::vector<fs::path> Scratch(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().find(".search-build.") != std::string::npos) out.push_back(e.path());
    return out;
  }

};

const char* kQueries[] = {"word3", "shared", "text", "zebra", "giraffe", "okapi", "edited", "word6",
                          "ignored", "\"shared text 10\"", "word10", "brand"};

TEST_F(SideSearchIndexTest, FirstBulkImportGivesTheIndexTheQueueGives) {
  // Reference: the same writes through an ordinary store (indexed at each commit).
  std::unique_ptr<Store> ref;
  ASSERT_TRUE(Store::Open((dir_ / "ref.db").string(), {}, &ref).ok());
  Import(ref.get());

  const std::string path = (dir_ / "s.db").string();
  std::unique_ptr<Store> s = OpenBulk(path);
  ASSERT_TRUE(s);
  ASSERT_EQ(Scratch(dir_).size(), 1u);  // the build runs beside the store while the import writes
  Import(s.get());
  ASSERT_TRUE(s->FlushSearchIndex(nullptr).ok());
  EXPECT_EQ(dynamic_cast<SqliteStore*>(s.get())->side_index_copies(), 1);
  EXPECT_TRUE(Scratch(dir_).empty());
  EXPECT_EQ(One(path, "SELECT count(*) FROM fts_pending"), "0");

  for (const char* q : kQueries) EXPECT_EQ(Hits(s.get(), q), Hits(ref.get(), q)) << q;
  EXPECT_EQ(Hits(s.get(), "zebra").size(), 0u);  // the first edit's words left the index with the second
  EXPECT_EQ(Hits(s.get(), "giraffe"), std::set<Snowflake>{5});
  EXPECT_EQ(Hits(s.get(), "okapi"), (std::set<Snowflake>{1007, 2008, 7000}));
  EXPECT_EQ(Hits(s.get(), "word6").count(6), 0u);
  EXPECT_EQ(Hits(s.get(), "shared").size(), 6000u - 6 - 6 - 2);  // not the empty, the unknown, 5 and 6
  s.reset();
  // FTS5's own check of the copied index against the messages it indexes (external content).
  EXPECT_EQ(One(path, "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"), "ok");
  EXPECT_EQ(One(path, "PRAGMA integrity_check"), "ok");

  // Later writes keep the copied index up to date like any other.
  std::unique_ptr<Store> again;
  ASSERT_TRUE(Store::Open(path, {}, &again).ok());
  ASSERT_TRUE(again->UpsertMessage(Msg(3, std::string("rewritten quokka")), {9, 9000}).ok());
  EXPECT_EQ(Hits(again.get(), "quokka"), std::set<Snowflake>{3});
  EXPECT_EQ(Hits(again.get(), "word3").count(3), 0u);
  again.reset();
  EXPECT_EQ(One(path, "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"), "ok");
}

TEST_F(SideSearchIndexTest, StoreWithMessagesIndexesItsQueueAsBefore) {
  const std::string path = (dir_ / "s.db").string();
  std::unique_ptr<Store> s;
  ASSERT_TRUE(Store::Open(path, {}, &s).ok());
  ASSERT_TRUE(s->UpsertMessage(Msg(90000, std::string("already here")), {}).ok());
  s = OpenBulk(path);
  ASSERT_TRUE(s);
  EXPECT_TRUE(Scratch(dir_).empty());
  Import(s.get());
  ASSERT_TRUE(s->FlushSearchIndex(nullptr).ok());
  EXPECT_EQ(dynamic_cast<SqliteStore*>(s.get())->side_index_copies(), 0);
  EXPECT_EQ(Hits(s.get(), "okapi"), (std::set<Snowflake>{1007, 2008, 7000}));
  EXPECT_EQ(Hits(s.get(), "already"), std::set<Snowflake>{90000});
}

TEST_F(SideSearchIndexTest, RolledBackBatchFallsBackToTheQueue) {
  const std::string path = (dir_ / "s.db").string();
  std::unique_ptr<Store> s = OpenBulk(path);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->Begin().ok());
  ASSERT_TRUE(s->UpsertMessage(Msg(1, std::string("kept aardvark")), {1, 1000}).ok());
  ASSERT_TRUE(s->Commit().ok());
  ASSERT_TRUE(s->Begin().ok());
  ASSERT_TRUE(s->UpsertMessage(Msg(2, std::string("rolled back aardvark")), {1, 1000}).ok());
  ASSERT_TRUE(s->Rollback().ok());
  EXPECT_TRUE(Scratch(dir_).empty());
  ASSERT_TRUE(s->Begin().ok());
  ASSERT_TRUE(s->UpsertMessage(Msg(3, std::string("after aardvark")), {1, 1000}).ok());
  ASSERT_TRUE(s->Commit().ok());
  ASSERT_TRUE(s->FlushSearchIndex(nullptr).ok());
  EXPECT_EQ(dynamic_cast<SqliteStore*>(s.get())->side_index_copies(), 0);
  EXPECT_EQ(Hits(s.get(), "aardvark"), (std::set<Snowflake>{1, 3}));
}

TEST_F(SideSearchIndexTest, ImportStoppedBeforeTheEndLeavesTheQueueForTheNextOpen) {
  const std::string path = (dir_ / "s.db").string();
  {
    std::unique_ptr<Store> s = OpenBulk(path);
    ASSERT_TRUE(s);
    Import(s.get());
  }  // closed without FlushSearchIndex, as an interrupted import
  EXPECT_TRUE(Scratch(dir_).empty());
  EXPECT_NE(One(path, "SELECT count(*) FROM fts_pending"), "0");
  std::unique_ptr<Store> s;
  ASSERT_TRUE(Store::Open(path, {}, &s).ok());
  EXPECT_EQ(Hits(s.get(), "okapi"), (std::set<Snowflake>{1007, 2008, 7000}));
  EXPECT_EQ(One(path, "SELECT count(*) FROM fts_pending"), "0");
}

TEST_F(SideSearchIndexTest, ScratchFilesOfDeadProcessesAreRemovedByTheNextBulkOpen) {
  const std::string path = (dir_ / "s.db").string();
  // A pid above Linux's largest possible one (2^22) belongs to no process; our own pid's file is live.
  const fs::path dead = dir_ / "s.db.search-build.4194999";
  const fs::path other = dir_ / "other.db.search-build.4194999";
  std::ofstream(dead) << "left by a killed import";
  std::ofstream(other) << "another store's";
  SideSearchIndex::RemoveAbandoned(path);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(other));
  const fs::path live = dir_ / ("s.db.search-build." + std::to_string(::getpid()));
  std::ofstream(live) << "ours";
  SideSearchIndex::RemoveAbandoned(path);
  EXPECT_TRUE(fs::exists(live));
}

}  // namespace
}  // namespace ferry
