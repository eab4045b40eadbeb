// UpsertMessages (one INSERT … SELECT per table for new messages, merges one by one) must leave exactly the
// store that UpsertMessage called for each message in order leaves: same rows in every table, same order of
// listed users and mentions within a message, same search hits.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "store/store.hpp"
#include "tests/unit/temp_dir_test.hpp"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class BulkMessagesTest : public TempDirTest {
 protected:

  // A batch with every kind of field and collection, ids repeating inside the batch and across batches.
  static std::vector<Message> Batch(std::uint32_t seed, Snowflake first, int count, const std::string& tag) {
    std::mt19937 rnd(seed);
    auto pick = [&](int n) { return static_cast<int>(rnd() % static_cast<unsigned>(n)); };
    std::vector<Message> out;
    for (int i = 0; i < count; ++i) {
      Message m;
      m.id = first + static_cast<Snowflake>(pick(count));  // repeats: the same message twice in a batch
      m.channel_id = 10 + static_cast<Snowflake>(m.id % 3);
      if (pick(9)) m.author_id = 100 + static_cast<Snowflake>(pick(5));
      m.type = pick(6) == 0 ? 19 : 0;
      switch (pick(6)) {
        case 0: break;  // content unknown
        case 1: m.content = ""; break;
        case 2: m.content = std::string("nul\0inside ", 11) + tag; break;
        default: m.content = "ferry " + tag + " message " + std::to_string(m.id) + " café 🎉\r\n" + std::to_string(i);
      }
      m.timestamp = {1717243200000 + static_cast<std::int64_t>(m.id), "2024-06-01T12:00:00+02:00"};
      if (pick(4) == 0) m.edited = Timestamp{1717243300000 + i, "2024-06-01T12:01:40+00:00"};
      if (pick(3)) m.pinned = pick(2) == 0;
      if (pick(5) == 0) m.reference = MessageReference{0, first + 1, m.channel_id, std::nullopt};
      if (pick(4)) m.mention_everyone = false;
      m.flags = pick(3);
      m.content_format = pick(2) ? "raw" : "unknown";
      if (pick(3) == 0) m.extra["callEndedTimestamp"] = tag;
      if (pick(2)) {
        m.attachments.emplace();
        for (int k = pick(3); k > 0; --k) {
          Attachment a;
          // Attachment ids are Discord's: one message's own, repeated when that message is exported again.
          // (Were one id listed by two messages, which of them ends up holding it could differ.)
          a.id = 5000000 + m.id * 4 + static_cast<Snowflake>(k);
          a.filename = "f" + std::to_string(k) + ".png";
          if (pick(2)) a.size = 100 * k;
          a.url = "https://cdn/" + tag;
          if (pick(3) == 0) a.sha256 = std::string(64, 'a' + static_cast<char>(k));
          if (pick(2)) a.width = 10;
          a.extra["proxyUrl"] = tag;
          m.attachments->push_back(a);
        }
      }
      if (pick(3) == 0) m.embeds = std::vector<Json>{Json{{"title", tag}, {"n", i}}, Json::object()};
      if (pick(6) == 0) m.stickers = std::vector<Sticker>{Sticker{77, "wave", 1, std::string("u"), std::nullopt}};
      if (pick(2)) {
        m.reactions.emplace();
        for (int k = pick(4); k > 0; --k) {
          Reaction r;
          r.emoji.id = pick(2) ? 0 : 900 + static_cast<Snowflake>(pick(2));
          r.emoji.name = r.emoji.id ? "blob" : (pick(2) ? "👍" : "❤️");  // a key may repeat within a message
          r.count = 1 + pick(4);
          for (int u = r.count; u > 0; --u) r.user_ids.push_back(100 + static_cast<Snowflake>(pick(6)));
          if (pick(2)) r.extra["code"] = tag;
          m.reactions->push_back(r);
        }
      }
      if (pick(2)) m.mention_user_ids = std::vector<Snowflake>{103, 101, 103, 102};
      if (pick(3) == 0) m.mention_role_ids = std::vector<Snowflake>{600};
      out.push_back(std::move(m));
    }
    return out;
  }

  // Every row of every message table; listed users and mentions in their order within each message.
  static std::map<std::string, std::vector<std::string>> Dump(const std::string& path) {
    static const char* kQueries[][2] = {
        {"messages", "SELECT * FROM messages ORDER BY id"},
        {"attachments", "SELECT * FROM attachments ORDER BY id"},
        {"embeds", "SELECT * FROM embeds ORDER BY message_id, idx"},
        {"message_stickers", "SELECT * FROM message_stickers ORDER BY message_id, idx"},
        {"reactions", "SELECT * FROM reactions ORDER BY message_id, emoji_key"},
        {"reaction_users", "SELECT message_id, emoji_key, user_id FROM reaction_users ORDER BY message_id, rowid"},
        {"mentions", "SELECT message_id, kind, target_id FROM mentions ORDER BY message_id, rowid"},
        {"search", "SELECT rowid FROM messages_fts('ferry') ORDER BY rowid"},
        {"search2", "SELECT rowid FROM messages_fts('inside') ORDER BY rowid"},
    };
    std::map<std::string, std::vector<std::string>> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    for (const auto& [name, sql] : kQueries) {
      sqlite3_stmt* q = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &q, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
      while (sqlite3_step(q) == SQLITE_ROW) {
        std::string row;
        for (int c = 0; c < sqlite3_column_count(q); ++c) {
          const void* b = sqlite3_column_blob(q, c);
          row += sqlite3_column_type(q, c) == SQLITE_NULL ? std::string("NULL")
                                                          : std::string(static_cast<const char*>(b ? b : ""),
                                                                        sqlite3_column_bytes(q, c));
          row += '|';
        }
        out[name].push_back(row);
      }
      sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return out;
  }

  // Writes the batches into a new store at `name`, one message at a time or as batches.
  std::string Write(const std::string& name, bool batched, bool bulk_open,
                    const std::vector<std::pair<std::vector<Message>, Source>>& batches) {
    std::string path = (dir_ / name).string();
    std::unique_ptr<Store> s;
    OpenOptions o;
    o.bulk_load = bulk_open;
    EXPECT_TRUE(Store::Open(path, o, &s).ok());
    for (const auto& [ms, src] : batches) {
      EXPECT_TRUE(s->Begin().ok());
      if (batched) {
        Status st = s->UpsertMessages(ms, src);
        EXPECT_TRUE(st.ok()) << st.ToString();
      } else {
        for (const auto& m : ms) EXPECT_TRUE(s->UpsertMessage(m, src).ok());
      }
      EXPECT_TRUE(s->Commit().ok());
    }
    EXPECT_TRUE(s->FlushSearchIndex(nullptr).ok());
    EXPECT_TRUE(s->Close().ok());
    return path;
  }

  void ExpectSame(bool bulk_open) {
    // A first export, a later one overlapping it (wins), an earlier one (fills gaps only), small batches.
    std::vector<std::pair<std::vector<Message>, Source>> batches = {
        {Batch(1, 1000, 300, "first"), {1, 2000}},
        {Batch(2, 1150, 300, "later"), {2, 3000}},
        {Batch(3, 1100, 200, "older"), {3, 1000}},
        {Batch(4, 1290, 5, "small"), {4, 4000}},
        {Batch(5, 2000, 400, "fresh"), {5, 5000}},
    };
    auto one = Dump(Write("one.db", false, bulk_open, batches));
    auto bulk = Dump(Write("bulk.db", true, bulk_open, batches));
    ASSERT_GT(one["messages"].size(), 500u);
    ASSERT_GT(one["reaction_users"].size(), 100u);
    ASSERT_GT(one["search"].size(), 100u);
    for (const auto& [table, rows] : one) {
      ASSERT_EQ(bulk[table].size(), rows.size()) << table;
      for (std::size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(bulk[table][i], rows[i]) << table << " row " << i;
    }
  }
};

TEST_F(BulkMessagesTest, SameStoreAsOneMessageAtATime) { ExpectSame(false); }

// As an import writes: a new store (unsynced, search index built on the side) opened for bulk loading.
TEST_F(BulkMessagesTest, SameStoreAsOneMessageAtATimeWhenImporting) { ExpectSame(true); }

}  // namespace
}  // namespace ferry
