// RenderCache: bounded, active only inside a Scope, emptied whenever the store may have changed (a write by
// this process or a commit by another one); and the store's page reads it relies on (ListMessageIds,
// GetMessages) agree with ListMessages.
#include "compat-api/render_cache.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "compat-api/gateway/fanout.hpp"
#include "compat-api/objects.hpp"

namespace ferry::compat {
namespace {

class RenderCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-render-cache-test-" + std::to_string(::getpid()) + "-" +
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
  Message Msg(Snowflake id, Snowflake channel, const std::string& content) {
    Message m;
    m.id = id;
    m.channel_id = channel;
    m.author_id = 100;
    m.content = content;
    m.timestamp = {1717243200000 + static_cast<std::int64_t>(id), "2024-06-01T12:00:00+00:00"};
    return m;
  }
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(RenderCacheTest, OnlyInsideAScope) {
  RenderCache cache;
  cache.PutMessage(1, 7, "{}");
  EXPECT_EQ(cache.message_count(), 0u);
  {
    RenderCache::Scope scope(&cache, *store_);
    EXPECT_TRUE(cache.active());
    cache.PutMessage(1, 7, "{\"id\":\"1\"}");
    ASSERT_NE(cache.FindMessage(1, 7), nullptr);
    EXPECT_EQ(*cache.FindMessage(1, 7), "{\"id\":\"1\"}");
    EXPECT_EQ(cache.FindMessage(1, 8), nullptr);  // another viewer sees its own reactions[].me
  }
  EXPECT_FALSE(cache.active());
  EXPECT_EQ(cache.FindMessage(1, 7), nullptr);
  RenderCache::Scope no_cache(nullptr, *store_);  // a server without a cache: the scope does nothing
}

TEST_F(RenderCacheTest, MessageBytesAreBoundedLeastRecentlyUsedFirst) {
  RenderCache cache(/*max_message_bytes=*/4000, /*max_lookups=*/4);
  RenderCache::Scope scope(&cache, *store_);
  const std::string text(300, 'x');
  for (Snowflake id = 1; id <= 100; ++id) {
    cache.PutMessage(id, 7, text);
    if (id > 1) ASSERT_NE(cache.FindMessage(1, 7), nullptr) << id;  // kept warm: never the one evicted
    EXPECT_LE(cache.message_bytes(), 4000u);
  }
  EXPECT_NE(cache.FindMessage(1, 7), nullptr);
  EXPECT_NE(cache.FindMessage(100, 7), nullptr);
  EXPECT_EQ(cache.FindMessage(2, 7), nullptr);
  EXPECT_LT(cache.message_count(), 100u);
  // A fragment over an eighth of the budget is not kept: it would push out a page's worth of others.
  std::size_t before = cache.message_count();
  cache.PutMessage(500, 7, std::string(1000, 'y'));
  EXPECT_EQ(cache.FindMessage(500, 7), nullptr);
  EXPECT_EQ(cache.message_count(), before);
  // Lookups are bounded by count.
  for (Snowflake id = 1; id <= 10; ++id) cache.PutUser(id, std::nullopt);
  int users = 0;
  for (Snowflake id = 1; id <= 10; ++id) users += cache.FindUser(id) != nullptr;
  EXPECT_LE(users, 4);
  EXPECT_NE(cache.FindUser(10), nullptr);
}

TEST_F(RenderCacheTest, EmptiedWhenThisProcessWrites) {
  RenderCache cache;
  ASSERT_TRUE(store_->UpsertMessage(Msg(5, 10, "first"), {1, 100}).ok());
  {
    RenderCache::Scope scope(&cache, *store_);
    cache.PutMessage(5, 7, "first");
    cache.PutChannel(10, std::nullopt);
  }
  {
    RenderCache::Scope scope(&cache, *store_);  // nothing changed: kept
    EXPECT_NE(cache.FindMessage(5, 7), nullptr);
    EXPECT_NE(cache.FindChannel(10), nullptr);
  }
  Message edited = Msg(5, 10, "edited");
  ASSERT_TRUE(store_->UpsertMessage(edited, {2, 200}).ok());
  RenderCache::Scope scope(&cache, *store_);
  EXPECT_EQ(cache.FindMessage(5, 7), nullptr);
  EXPECT_EQ(cache.FindChannel(10), nullptr);
  EXPECT_GE(cache.flushes(), 1u);
}

TEST_F(RenderCacheTest, EmptiedWhenAnotherProcessCommits) {
  RenderCache cache;
  {
    RenderCache::Scope scope(&cache, *store_);
    cache.PutMessage(5, 7, "cached");
  }
  // `ferry import` into the store being served: another connection commits.
  std::unique_ptr<Store> other;
  ASSERT_TRUE(Store::Open(path_, {}, &other).ok());
  ASSERT_TRUE(other->UpsertMessage(Msg(6, 10, "from the importer"), {1, 100}).ok());
  other.reset();
  RenderCache::Scope scope(&cache, *store_);
  EXPECT_EQ(cache.FindMessage(5, 7), nullptr);
}

TEST_F(RenderCacheTest, PageReadsAgreeWithListMessages) {
  for (Snowflake id = 1; id <= 40; ++id) ASSERT_TRUE(store_->UpsertMessage(Msg(id * 3, 10, "m"), {1, 100}).ok());
  ASSERT_TRUE(store_->UpsertMessage(Msg(200, 11, "other channel"), {1, 100}).ok());
  Message gone = Msg(30, 10, "m");
  gone.deleted = true;
  ASSERT_TRUE(store_->UpsertMessage(gone, {2, 200}).ok());
  std::vector<MessageQuery> queries(5);
  for (auto& q : queries) {
    q.channel_id = 10;
    q.limit = 7;
  }
  queries[1].before = 50;
  queries[2].after = 20;
  queries[3].around = 31;
  queries[4].around = 30;
  queries[4].limit = 100;
  for (const auto& q : queries) {
    std::vector<Message> page;
    ASSERT_TRUE(store_->ListMessages(q, &page).ok());
    std::vector<Snowflake> want, ids;
    for (const auto& m : page) want.push_back(m.id);
    ASSERT_TRUE(store_->ListMessageIds(q, &ids).ok());
    EXPECT_EQ(ids, want);
    std::vector<Message> loaded;
    ASSERT_TRUE(store_->GetMessages(ids, &loaded).ok());
    ASSERT_EQ(loaded.size(), page.size());
    for (std::size_t i = 0; i < page.size(); ++i) {
      EXPECT_EQ(loaded[i].id, page[i].id);
      EXPECT_EQ(loaded[i].content, page[i].content);
      EXPECT_EQ(loaded[i].channel_id, page[i].channel_id);
    }
  }
  // Unknown, deleted and repeated ids are left out; the order given is kept.
  std::vector<Message> loaded;
  ASSERT_TRUE(store_->GetMessages({9, 999, 30, 3, 9, 200}, &loaded).ok());
  std::vector<Snowflake> got;
  for (const auto& m : loaded) got.push_back(m.id);
  EXPECT_EQ(got, (std::vector<Snowflake>{9, 3, 200}));
}

}  // namespace
}  // namespace ferry::compat
