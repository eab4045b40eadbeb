#include "store/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "store/timestamp.hpp"

namespace ferry {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-store-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "s.db").string();
    ASSERT_TRUE(Store::Open(path_, {}, &store_).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Message Msg(Snowflake id, const std::string& content) {
    Message m;
    m.id = id;
    m.channel_id = 10;
    m.author_id = 100;
    m.content = content;
    m.timestamp = {1717243200000 + static_cast<std::int64_t>(id), "2024-06-01T12:00:00+00:00"};
    return m;
  }
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, FreshStoreIsAtTheKnownSchemaVersion) {
  EXPECT_EQ(store_->schema_version(), Store::KnownSchemaVersion());
  EXPECT_GE(Store::KnownSchemaVersion(), 1);
}

TEST_F(StoreTest, RefusesAStoreFromANewerFerryNamingBothVersions) {
  store_.reset();
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  std::string sql = "PRAGMA user_version=" + std::to_string(Store::KnownSchemaVersion() + 7);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Status st = Store::Open(path_, {}, &store_);
  ASSERT_EQ(st.code(), Status::Code::kVersionMismatch);
  EXPECT_NE(st.message().find(std::to_string(Store::KnownSchemaVersion() + 7)), std::string::npos);
  EXPECT_NE(st.message().find(std::to_string(Store::KnownSchemaVersion())), std::string::npos);
}

TEST_F(StoreTest, RefusesFilesThatAreNotFerryStores) {
  store_.reset();
  std::string garbage = (dir_ / "garbage.db").string();
  std::ofstream(garbage) << "this is not sqlite at all, just some text that is long enough to be a header......";
  Status st = Store::Open(garbage, {}, &store_);
  EXPECT_EQ(st.code(), Status::Code::kStoreError);
  EXPECT_NE(st.message().find("garbage.db"), std::string::npos);

  std::string other = (dir_ / "other.db").string();
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  st = Store::Open(other, {}, &store_);
  EXPECT_EQ(st.code(), Status::Code::kStoreError);
}

TEST_F(StoreTest, SnowflakesAboveTwoToThe63RoundTrip) {
  User u;
  u.id = 18446744073709551615ULL;
  u.username = "max";
  ASSERT_TRUE(store_->UpsertUser(u, {}).ok());
  User back;
  ASSERT_TRUE(store_->GetUser(u.id, &back).ok());
  EXPECT_EQ(back.id, u.id);
  EXPECT_EQ(back.username, "max");
}

TEST_F(StoreTest, ContentIsStoredByteForByte) {
  std::string content = "  leading spaces\r\nCRLF\nLF\ttab \xF0\x9F\x91\x8D trailing  \n";
  ASSERT_TRUE(store_->UpsertMessage(Msg(1, content), {1, 100}).ok());
  Message back;
  Status st = store_->GetMessage(10, 1, &back);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(back.content, content);
}

TEST_F(StoreTest, LaterSourceWinsWhateverTheOrderOfWrites) {
  for (int order = 0; order < 2; ++order) {
    Message older = Msg(5 + order, "first version");
    older.pinned = false;
    older.reactions = std::vector<Reaction>{{Emoji{0, "👍"}, 1, {100}}};
    older.extra = {{"only_old", 1}, {"shared", "old"}};
    Message newer = Msg(5 + order, "edited version");
    newer.pinned = true;
    newer.edited = Timestamp{1717243300000, "2024-06-01T12:01:40+00:00"};
    newer.reactions = std::vector<Reaction>{{Emoji{0, "🎉"}, 2, {100, 101}}};
    newer.extra = {{"shared", "new"}};
    if (order == 0) {
      ASSERT_TRUE(store_->UpsertMessage(older, {1, 1000}).ok());
      ASSERT_TRUE(store_->UpsertMessage(newer, {2, 2000}).ok());
    } else {
      ASSERT_TRUE(store_->UpsertMessage(newer, {2, 2000}).ok());
      ASSERT_TRUE(store_->UpsertMessage(older, {1, 1000}).ok());
    }
    Message back;
    ASSERT_TRUE(store_->GetMessage(10, 5 + order, &back).ok());
    EXPECT_EQ(back.content, "edited version") << "order " << order;
    EXPECT_EQ(back.pinned, true);
    ASSERT_TRUE(back.edited);
    EXPECT_EQ(back.edited->ms, 1717243300000);
    ASSERT_TRUE(back.reactions);
    ASSERT_EQ(back.reactions->size(), 1u);
    EXPECT_EQ(back.reactions->front().emoji.name, "🎉");
    EXPECT_EQ(back.reactions->front().user_ids, (std::vector<Snowflake>{100, 101}));
    EXPECT_EQ(back.extra["shared"], "new");
    EXPECT_EQ(back.extra["only_old"], 1);  // nothing an input said is thrown away
  }
}

TEST_F(StoreTest, OlderSourceFillsGapsButNeverErases) {
  Message newer = Msg(7, "text");
  newer.author_id.reset();  // this source did not know the author
  ASSERT_TRUE(store_->UpsertMessage(newer, {2, 2000}).ok());
  Message older = Msg(7, "older text");
  older.attachments = std::vector<Attachment>{{}};
  older.attachments->front().id = 77;
  older.attachments->front().filename = "cat.png";
  older.attachments->front().sha256 = std::string(64, 'a');
  ASSERT_TRUE(store_->UpsertMessage(older, {1, 1000}).ok());
  Message back;
  ASSERT_TRUE(store_->GetMessage(10, 7, &back).ok());
  EXPECT_EQ(back.content, "text");
  EXPECT_EQ(back.author_id, 100u);
  ASSERT_TRUE(back.attachments);
  ASSERT_EQ(back.attachments->size(), 1u);

  // A newer export whose media download failed keeps the blob the older one had.
  Message later = Msg(7, "text");
  later.attachments = std::vector<Attachment>{{}};
  later.attachments->front().id = 77;
  later.attachments->front().filename = "cat.png";
  later.attachments->front().url = "https://cdn.discordapp.com/attachments/10/77/cat.png";
  ASSERT_TRUE(store_->UpsertMessage(later, {3, 3000}).ok());
  ASSERT_TRUE(store_->GetMessage(10, 7, &back).ok());
  ASSERT_EQ(back.attachments->size(), 1u);
  EXPECT_EQ(back.attachments->front().sha256, std::string(64, 'a'));
  EXPECT_EQ(back.attachments->front().url, later.attachments->front().url);
}

TEST_F(StoreTest, KnownEmptyCollectionsAreNotRefilledByOlderSources) {
  Message newer = Msg(8, "x");
  newer.reactions = std::vector<Reaction>{};
  ASSERT_TRUE(store_->UpsertMessage(newer, {2, 2000}).ok());
  Message older = Msg(8, "x");
  older.reactions = std::vector<Reaction>{{Emoji{0, "👍"}, 1, {100}}};
  ASSERT_TRUE(store_->UpsertMessage(older, {1, 1000}).ok());
  Message back;
  ASSERT_TRUE(store_->GetMessage(10, 8, &back).ok());
  ASSERT_TRUE(back.reactions);
  EXPECT_TRUE(back.reactions->empty());
}

TEST_F(StoreTest, PagingIsNewestFirstLikeDiscord) {
  for (Snowflake id = 1; id <= 20; ++id) ASSERT_TRUE(store_->UpsertMessage(Msg(id, "m" + std::to_string(id)), {}).ok());
  auto ids = [&](MessageQuery q) {
    q.channel_id = 10;
    std::vector<Message> out;
    EXPECT_TRUE(store_->ListMessages(q, &out).ok());
    std::vector<Snowflake> r;
    for (auto& m : out) r.push_back(m.id);
    return r;
  };
  MessageQuery q;
  q.limit = 3;
  EXPECT_EQ(ids(q), (std::vector<Snowflake>{20, 19, 18}));
  q.before = 10;
  EXPECT_EQ(ids(q), (std::vector<Snowflake>{9, 8, 7}));
  q.before.reset();
  q.after = 10;
  EXPECT_EQ(ids(q), (std::vector<Snowflake>{13, 12, 11}));
  q.after.reset();
  q.around = 10;
  q.limit = 5;
  EXPECT_EQ(ids(q), (std::vector<Snowflake>{12, 11, 10, 9, 8}));
  ASSERT_TRUE(store_->DeleteMessage(10, 20).ok());
  q = MessageQuery();
  q.limit = 1;
  EXPECT_EQ(ids(q), (std::vector<Snowflake>{19}));
}

TEST_F(StoreTest, SearchFindsWordsAndTreatsOperatorsAsText) {
  ASSERT_TRUE(store_->UpsertMessage(Msg(1, "the release planning meeting"), {}).ok());
  ASSERT_TRUE(store_->UpsertMessage(Msg(2, "cats AND dogs (NOT birds)"), {}).ok());
  std::vector<SearchHit> hits;
  SearchQuery q;
  q.text = "planning";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].message.id, 1u);
  EXPECT_NE(hits[0].snippet.find("[planning]"), std::string::npos);
  q.text = "(NOT";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].message.id, 2u);
  q.text = "plan*";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  EXPECT_EQ(hits.size(), 1u);
  // Edits keep the index in step.
  Message edited = Msg(1, "nothing here");
  ASSERT_TRUE(store_->UpsertMessage(edited, {0, NowMs()}).ok());
  q.text = "planning";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  EXPECT_TRUE(hits.empty());
}

TEST_F(StoreTest, BlobsAreContentAddressedAndStoredOnce) {
  std::string f1 = (dir_ / "a.bin").string(), f2 = (dir_ / "b.bin").string();
  std::ofstream(f1) << "hello";
  std::ofstream(f2) << "hello";
  std::string h1, h2;
  std::int64_t size = 0;
  ASSERT_TRUE(store_->PutBlobFile(f1, &h1, &size).ok());
  ASSERT_TRUE(store_->PutBlobFile(f2, &h2, nullptr).ok());
  EXPECT_EQ(h1, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(h1, h2);
  EXPECT_EQ(size, 5);
  EXPECT_FALSE(store_->BlobPath(h1).empty());
  StoreStats stats;
  ASSERT_TRUE(store_->Stats(&stats).ok());
  EXPECT_EQ(stats.blobs, 1);
  EXPECT_TRUE(store_->PutBlobFile((dir_ / "missing").string(), &h1, nullptr).IsNotFound());
}

TEST_F(StoreTest, RunsAndRunFilesRecordProvenance) {
  ImportRun run;
  run.kind = "dce";
  run.path = "/x";
  ASSERT_TRUE(store_->BeginRun(&run).ok());
  EXPECT_GT(run.id, 0);
  ASSERT_TRUE(store_->SetRunFile(run.id, "/x/a.json", "abc", "running", {}).ok());
  std::int64_t found = 0;
  EXPECT_TRUE(store_->FindDoneFile("abc", &found).IsNotFound());
  ASSERT_TRUE(store_->SetRunFile(run.id, "/x/a.json", "abc", "done", {{"messages", 3}}).ok());
  ASSERT_TRUE(store_->FindDoneFile("abc", &found).ok());
  EXPECT_EQ(found, run.id);
  run.status = "done";
  run.counts = {{"messages", 3}};
  ASSERT_TRUE(store_->FinishRun(run).ok());
  ImportRun back;
  ASSERT_TRUE(store_->GetRun(run.id, &back).ok());
  EXPECT_EQ(back.status, "done");
  EXPECT_EQ(back.counts["messages"], 3);
  EXPECT_GT(back.ended_ms, 0);
}

TEST_F(StoreTest, RollbackLeavesNothingBehind) {
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->UpsertMessage(Msg(1, "gone"), {}).ok());
  ASSERT_TRUE(store_->Rollback().ok());
  Message m;
  EXPECT_TRUE(store_->GetMessage(10, 1, &m).IsNotFound());
}

TEST_F(StoreTest, ReactionsThroughTheApiKeepCountsInStep) {
  ASSERT_TRUE(store_->UpsertMessage(Msg(1, "x"), {}).ok());
  Emoji e{0, "👍"};
  ASSERT_TRUE(store_->AddReaction(1, e, 100).ok());
  EXPECT_EQ(store_->AddReaction(1, e, 100).code(), Status::Code::kConflict);
  ASSERT_TRUE(store_->AddReaction(1, e, 101).ok());
  Message m;
  ASSERT_TRUE(store_->GetMessage(10, 1, &m).ok());
  ASSERT_TRUE(m.reactions && m.reactions->size() == 1);
  EXPECT_EQ(m.reactions->front().count, 2);
  ASSERT_TRUE(store_->RemoveReaction(1, e.Key(), 100).ok());
  ASSERT_TRUE(store_->RemoveReaction(1, e.Key(), 101).ok());
  ASSERT_TRUE(store_->GetMessage(10, 1, &m).ok());
  EXPECT_TRUE(m.reactions->empty());
}


TEST_F(StoreTest, SearchIndexQueuedByAKilledWriterIsBuiltOnOpen) {
  // What a process killed between writing a message and indexing it leaves behind: the row and its queue entry.
  store_.reset();
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO messages(id, channel_id, content, ts_ms) VALUES (42, 10, 'orphaned words', 0);"
                         "INSERT OR IGNORE INTO fts_pending(id) VALUES (42);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ASSERT_TRUE(Store::Open(path_, {}, &store_).ok());
  std::vector<SearchHit> hits;
  SearchQuery q;
  q.text = "orphaned";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].message.id, 42u);
}

TEST_F(StoreTest, MessagesWrittenInOneTransactionAreSearchableAfterCommit) {
  ASSERT_TRUE(store_->Begin().ok());
  for (Snowflake id = 1; id <= 50; ++id) ASSERT_TRUE(store_->UpsertMessage(Msg(id, "batch word" + std::to_string(id)), {}).ok());
  Message edited = Msg(7, "changed inside the group");
  ASSERT_TRUE(store_->UpsertMessage(edited, {0, 1}).ok());
  ASSERT_TRUE(store_->Commit().ok());
  std::vector<SearchHit> hits;
  SearchQuery q;
  q.text = "batch";
  q.limit = 100;
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  EXPECT_EQ(hits.size(), 49u);
  q.text = "changed";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].message.id, 7u);
}

TEST_F(StoreTest, ReadScopesNestShareASnapshotAndLetWritesThrough) {
  ASSERT_TRUE(store_->UpsertMessage(Msg(1, "before"), {1, 100}).ok());
  std::unique_ptr<Store> other;
  ASSERT_TRUE(Store::Open(path_, {}, &other).ok());
  Message m;
  ASSERT_TRUE(store_->BeginRead().ok());
  ASSERT_TRUE(store_->GetMessage(10, 1, &m).ok());  // the snapshot starts with the first read
  ASSERT_TRUE(store_->BeginRead().ok());            // nested (a store call that opens its own scope)
  store_->EndRead();
  // Another process commits: invisible inside the scope, even after the inner scope ended...
  ASSERT_TRUE(other->UpsertMessage(Msg(2, "from another process"), {1, 100}).ok());
  EXPECT_TRUE(store_->GetMessage(10, 2, &m).IsNotFound());
  // ...and a write inside the scope starts from the newest data, then reads see both.
  ASSERT_TRUE(store_->UpsertMessage(Msg(3, "written in the scope"), {1, 100}).ok());
  ASSERT_TRUE(store_->GetMessage(10, 3, &m).ok());
  EXPECT_EQ(*m.content, "written in the scope");
  EXPECT_TRUE(store_->GetMessage(10, 2, &m).ok());
  // Explicit transactions inside a scope work as outside one.
  ASSERT_TRUE(store_->Begin().ok());
  ASSERT_TRUE(store_->UpsertMessage(Msg(4, "rolled back"), {1, 100}).ok());
  ASSERT_TRUE(store_->Rollback().ok());
  EXPECT_TRUE(store_->GetMessage(10, 4, &m).IsNotFound());
  store_->EndRead();
  // The scope is closed: the other process can write and we see it at once.
  ASSERT_TRUE(other->UpsertMessage(Msg(5, "after"), {1, 100}).ok());
  EXPECT_TRUE(store_->GetMessage(10, 5, &m).ok());
  EXPECT_TRUE(other->GetMessage(10, 3, &m).ok());
}

// FTS5's automerge/crisismerge settings, as the index stores them ("" when never set: the defaults).
std::string FtsConfig(const std::string& path, const char* key) {
  sqlite3* db;
  std::string v;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "open failed";
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT v FROM messages_fts_config WHERE k = ?", -1, &s, nullptr);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW) v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

int FtsSegments(const std::string& path) {
  sqlite3* db;
  int n = -1;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return -1;
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(DISTINCT segid) FROM messages_fts_idx", -1, &s, nullptr);
  if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

TEST_F(StoreTest, BulkIndexingMergesOnceAndRestoresTheMergeSettings) {
  // 120,000 queued messages (above the bulk threshold), indexed in 20,000-message transactions: without
  // the bulk pass every chunk leaves segments that FTS5 merges over and over. The store already holds a
  // message, so the import indexes its queue (a first import builds its index on the side instead).
  ASSERT_TRUE(store_->UpsertMessage(Msg(500000, "an earlier import"), {}).ok());
  store_.reset();
  OpenOptions o;
  o.bulk_load = true;
  ASSERT_TRUE(Store::Open(path_, o, &store_).ok());
  ASSERT_TRUE(store_->Begin().ok());
  for (Snowflake id = 1; id <= 120000; ++id)
    ASSERT_TRUE(store_->UpsertMessage(Msg(id, "bulk word" + std::to_string(id % 97) + " common"), {1, 100}).ok());
  ASSERT_TRUE(store_->Commit().ok());
  ASSERT_TRUE(store_->FlushSearchIndex(nullptr).ok());
  EXPECT_EQ(FtsConfig(path_, "automerge"), "4");
  EXPECT_EQ(FtsConfig(path_, "crisismerge"), "16");
  EXPECT_EQ(FtsSegments(path_), 1);  // merged into one segment at the end
  std::vector<SearchHit> hits;
  SearchQuery q;
  q.text = "word13";
  q.limit = 5000;
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  ASSERT_EQ(hits.size(), 1237u);  // ids 13, 110, 207, ..., 119905
  // Newest first, and the first page of a common word comes straight off the index's rowid order.
  EXPECT_EQ(hits.front().message.id, 119905u);
  EXPECT_EQ(hits.back().message.id, 13u);
  q.text = "common";
  q.limit = 3;
  q.offset = 2;
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].message.id, 119998u);
  EXPECT_EQ(hits[2].message.id, 119996u);
}

TEST_F(StoreTest, BulkIndexingPassKilledHalfWayIsFinishedByTheNextFlush) {
  // What a bulk pass killed after some chunks leaves: merging switched off in the index's config.
  ASSERT_TRUE(store_->UpsertMessage(Msg(1, "indexed before the kill"), {}).ok());
  store_.reset();
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 0);"
                         "INSERT INTO messages_fts(messages_fts, rank) VALUES ('crisismerge', 1000);"
                         "INSERT INTO messages(id, channel_id, content, ts_ms) VALUES (2, 10, 'still queued', 0);"
                         "INSERT OR IGNORE INTO fts_pending(id) VALUES (2);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  OpenOptions o;
  o.defer_search_index = true;  // as `ferry serve` opens it: small steps, then the end of the pass
  ASSERT_TRUE(Store::Open(path_, o, &store_).ok());
  ASSERT_TRUE(store_->FlushSearchIndex(nullptr, 2000).ok());
  EXPECT_EQ(FtsConfig(path_, "automerge"), "4");
  EXPECT_EQ(FtsConfig(path_, "crisismerge"), "16");
  std::vector<SearchHit> hits;
  SearchQuery q;
  q.text = "queued";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  q.text = "kill";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  ASSERT_EQ(hits.size(), 1u);
  // The segment indexed before the pass and the pass's own: finishing merges what the pass added, and
  // leaves an earlier import's index as it was (fewer than automerge's 4 segments on a level).
  EXPECT_EQ(FtsSegments(path_), 2);
}

TEST_F(StoreTest, ServedStoreIndexesOnFlushAndCheckpointsInTheBackground) {
  store_.reset();
  OpenOptions o;
  o.defer_search_index = true;
  o.checkpoint_in_background = true;
  ASSERT_TRUE(Store::Open(path_, o, &store_).ok());
  // Enough one-message commits to cross the checkpoint threshold (1,000 log pages) several times.
  const std::string text(3000, 'x');
  for (Snowflake id = 1; id <= 3000; ++id)
    ASSERT_TRUE(store_->UpsertMessage(Msg(id, "served " + text + std::to_string(id)), {0, 1}).ok());
  std::vector<SearchHit> hits;
  SearchQuery q;
  q.text = "served";
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  EXPECT_TRUE(hits.empty());  // queued, not indexed yet
  q.limit = 5000;
  ASSERT_TRUE(store_->FlushSearchIndex(nullptr, 120).ok());  // a bounded step, as the server takes them
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  EXPECT_EQ(hits.size(), 120u);
  ASSERT_TRUE(store_->FlushSearchIndex(nullptr).ok());
  ASSERT_TRUE(store_->Search(q, &hits).ok());
  EXPECT_EQ(hits.size(), 3000u);
  // Under back-to-back commits the log stays bounded (the writer steps in at 8x the 1,000-page threshold),
  // well below the 3,000 commits' worth of pages it would hold if nothing checkpointed it...
  auto page = 16384u;
  auto wal = std::filesystem::file_size(path_ + "-wal");
  EXPECT_LT(wal, 9000u * page) << "WAL of " << wal << " bytes";
  // ...and once the writes pause, the thread copies everything, and the log starts over: a few frames.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(store_->UpsertMessage(Msg(5000, "one more"), {0, 1}).ok());
  ASSERT_TRUE(store_->UpsertMessage(Msg(5001, "and another"), {0, 1}).ok());
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA schema_version", nullptr, nullptr, nullptr), SQLITE_OK);
  int log = -1, copied = -1;
  ASSERT_EQ(sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_GE(log, 1);
  EXPECT_LT(log, 50) << "the log did not restart";
  store_.reset();
  // Everything committed is in the database after close.
  ASSERT_TRUE(Store::Open(path_, {}, &store_).ok());
  Message m;
  EXPECT_TRUE(store_->GetMessage(10, 3000, &m).ok());
}

}  // namespace
}  // namespace ferry
