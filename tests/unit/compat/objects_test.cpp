// Discord JSON shapes of model objects: ids as strings, nullable keys present as null, optional keys absent.
#include <gtest/gtest.h>

#include <filesystem>

#include "compat-api/gateway/fanout.hpp"
#include "compat-api/objects.hpp"

namespace ferry::compat {
namespace {

TEST(Objects, UserHasEveryRequiredKey) {
  User u;
  u.id = 1246433064247361543ull;
  u.username = "alice";
  Json j = objects::UserJson(u);
  EXPECT_EQ(j["id"], "1246433064247361543");
  EXPECT_EQ(j["discriminator"], "0");
  for (const char* k : {"avatar", "global_name", "banner", "accent_color", "primary_guild"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_TRUE(j[k].is_null()) << k;
  }
  EXPECT_EQ(j["public_flags"], 0);
  EXPECT_FALSE(j.contains("bot"));
  u.bot = true;
  u.avatar_sha256 = std::string(64, 'a');
  j = objects::UserJson(u);
  EXPECT_EQ(j["bot"], true);
  EXPECT_EQ(j["avatar"], std::string(32, 'a'));
}

TEST(Objects, RolePermissionsAreStringsAndBotRolesTagged) {
  Role r;
  r.id = 5;
  r.guild_id = 5;
  Json j = objects::RoleJson(r);
  EXPECT_EQ(j["name"], "@everyone");
  EXPECT_TRUE(j["permissions"].is_string());
  EXPECT_NE(j["permissions"], "0");  // @everyone without imported permissions gets Discord's default set
  EXPECT_EQ(j["colors"]["secondary_color"], nullptr);
  Role bot_role;
  bot_role.id = 6;
  bot_role.guild_id = 5;
  bot_role.permissions = 2048;
  bot_role.managed = true;
  bot_role.extra = {{"bot_id", "77"}};
  j = objects::RoleJson(bot_role);
  EXPECT_EQ(j["permissions"], "2048");
  EXPECT_EQ(j["tags"]["bot_id"], "77");
  EXPECT_EQ(j["managed"], true);
}

TEST(Objects, OverwriteEmojiReaction) {
  Overwrite o{9, 1, 1024, 2048};
  EXPECT_EQ(objects::OverwriteJson(o), (Json{{"id", "9"}, {"type", 1}, {"allow", "1024"}, {"deny", "2048"}}));
  Emoji unicode;
  unicode.name = "\xF0\x9F\x91\x8D";
  Json e = objects::EmojiJson(unicode);
  EXPECT_TRUE(e["id"].is_null());
  EXPECT_FALSE(e.contains("animated"));
  Reaction r;
  r.emoji = unicode;
  r.count = 2;
  r.user_ids = {3, 4};
  Json rj = objects::ReactionJson(r, 4);
  EXPECT_EQ(rj["me"], true);
  EXPECT_EQ(rj["count"], 2);
  EXPECT_EQ(rj["count_details"]["normal"], 2);
  EXPECT_EQ(objects::ReactionJson(r, 5)["me"], false);
}

TEST(Objects, AttachmentUrlsAreAbsoluteCdnUrls) {
  auto dir = std::filesystem::temp_directory_path() / ("ferry-objects-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open((dir / "s.db").string(), OpenOptions{}, &store).ok());
  SnowflakeGenerator ids;
  RecordingFanout fanout;
  ServerContext ctx{*store, ids, fanout};
  ctx.cdn_base = "http://127.0.0.1:8080/cdn";
  Attachment a;
  a.id = 22;
  a.filename = "cat photo.png";
  a.size = 10;
  Json j = objects::AttachmentJson(ctx, 11, a);
  EXPECT_EQ(j["url"], "http://127.0.0.1:8080/cdn/attachments/11/22/cat%20photo.png");
  EXPECT_EQ(j["proxy_url"], j["url"]);
  EXPECT_EQ(j["size"], 10);
  EXPECT_FALSE(j.contains("width"));

  // A message: nullable keys present, optional ones absent.
  Message m;
  m.id = 100;
  m.channel_id = 11;
  m.author_id = 3;
  m.content = "hi";
  m.timestamp.ms = 1'700'000'000'123;
  Json mj = objects::MessageJson(ctx, m);
  EXPECT_EQ(mj["timestamp"], "2023-11-14T22:13:20.123000+00:00");
  EXPECT_TRUE(mj["edited_timestamp"].is_null());
  EXPECT_EQ(mj["pinned"], false);
  EXPECT_TRUE(mj["attachments"].is_array());
  EXPECT_FALSE(mj.contains("referenced_message"));
  EXPECT_FALSE(mj.contains("thread"));
  EXPECT_FALSE(mj.contains("nonce"));
  EXPECT_EQ(mj["author"]["username"], "Deleted User");  // unknown author
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry::compat
