// Request validation and paging parameters of the message routes (compat-api/rest/channels/message_body.hpp).
#include "compat-api/rest/channels/message_body.hpp"

#include <gtest/gtest.h>

namespace ferry::compat::rest {
namespace {

std::string FirstCode(const http::FormErrors& e, const std::string& dotted) {
  const Json* node = &e.errors();
  std::size_t start = 0;
  while (start <= dotted.size()) {
    auto dot = dotted.find('.', start);
    std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return "";
    node = &(*node)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!node->contains("_errors") || (*node)["_errors"].empty()) return "";
  return (*node)["_errors"][0].value("code", "");
}

MessageBody Parse(const Json& body, http::FormErrors& e, bool edit = false) {
  return ParseMessageBody(body, edit, Limits{}, e);
}

TEST(MessageBody, AcceptsContentNonceAndNullEmbeds) {
  http::FormErrors e;
  auto mb = Parse({{"content", "hi"}, {"nonce", 123}, {"embeds", nullptr}, {"tts", false}}, e);
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(mb.content, "hi");
  EXPECT_EQ(mb.nonce, "123");
  ASSERT_TRUE(mb.embeds);
  EXPECT_TRUE(mb.embeds->empty());
}

TEST(MessageBody, ContentLimitCountsCharactersNotBytes) {
  http::FormErrors ok;
  std::string two_thousand_emoji;
  for (int i = 0; i < 2000; ++i) two_thousand_emoji += "\xF0\x9F\x8E\x89";  // 🎉, 4 bytes each
  Parse({{"content", two_thousand_emoji}}, ok);
  EXPECT_TRUE(ok.empty());
  http::FormErrors bad;
  Parse({{"content", std::string(2001, 'x')}}, bad);
  EXPECT_EQ(FirstCode(bad, "content"), "BASE_TYPE_MAX_LENGTH");
}

TEST(MessageBody, RejectsWrongTypes) {
  http::FormErrors e;
  Parse({{"content", 5}, {"tts", "yes"}, {"embeds", "x"}, {"flags", 1}, {"nonce", std::string(26, 'n')}}, e);
  EXPECT_EQ(FirstCode(e, "content"), "STRING_TYPE_CONVERT");
  EXPECT_EQ(FirstCode(e, "tts"), "BOOLEAN_TYPE_COERCE");
  EXPECT_EQ(FirstCode(e, "embeds"), "LIST_TYPE_CONVERT");
  EXPECT_EQ(FirstCode(e, "flags"), "MESSAGE_FLAGS_INVALID");
  EXPECT_EQ(FirstCode(e, "nonce"), "BASE_TYPE_MAX_LENGTH");
}

TEST(MessageBody, EmbedLimits) {
  http::FormErrors e;
  Json fields = Json::array();
  for (int i = 0; i < 26; ++i) fields.push_back({{"name", "n"}, {"value", "v"}});
  Parse({{"embeds", Json::array({{{"title", std::string(257, 't')}, {"fields", fields}},
                                 {{"footer", {{"text", 5}}}}})}},
        e);
  EXPECT_EQ(FirstCode(e, "embeds.0.title"), "BASE_TYPE_MAX_LENGTH");
  EXPECT_EQ(FirstCode(e, "embeds.0.fields"), "BASE_TYPE_MAX_LENGTH");
  EXPECT_EQ(FirstCode(e, "embeds.1.footer.text"), "STRING_TYPE_CONVERT");
  http::FormErrors total;
  Json big = Json::array();
  for (int i = 0; i < 2; ++i) big.push_back({{"description", std::string(4000, 'd')}});
  Parse({{"embeds", big}}, total);
  EXPECT_EQ(FirstCode(total, "embeds"), "MAX_EMBED_SIZE_EXCEEDED");
}

TEST(MessageBody, ReferenceAndAllowedMentions) {
  http::FormErrors e;
  auto mb = Parse({{"content", "x"},
                   {"message_reference", {{"message_id", 1246433064247361543ULL}, {"fail_if_not_exists", false}}},
                   {"allowed_mentions", {{"parse", {"users"}}, {"replied_user", false}}}},
                  e);
  EXPECT_TRUE(e.empty());
  ASSERT_TRUE(mb.reference);
  EXPECT_EQ(mb.reference->message_id, 1246433064247361543ULL);
  EXPECT_FALSE(mb.fail_if_not_exists);
  EXPECT_TRUE(mb.allowed_mentions.parse_users);
  EXPECT_FALSE(mb.allowed_mentions.replied_user);

  http::FormErrors bad;
  Parse({{"message_reference", {{"channel_id", "1"}}},
         {"allowed_mentions", {{"parse", {"users", "bogus"}}, {"users", {"1"}}}}},
        bad);
  EXPECT_EQ(FirstCode(bad, "message_reference.message_id"), "BASE_TYPE_REQUIRED");
  EXPECT_EQ(FirstCode(bad, "allowed_mentions.parse.1"), "BASE_TYPE_CHOICES");
  EXPECT_EQ(FirstCode(bad, "allowed_mentions"), "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE");
}

TEST(MessageBody, EditWithNullContentClearsIt) {
  http::FormErrors e;
  auto mb = Parse({{"content", nullptr}}, e, true);
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(mb.content, "");
}

TEST(Mentions, ScanAndFilter) {
  auto found = ScanMentions("hi <@123> <@!456> <@&789> @here <@abc> <@>");
  EXPECT_EQ(found.users, (std::vector<Snowflake>{123, 456}));
  EXPECT_EQ(found.roles, (std::vector<Snowflake>{789}));
  EXPECT_TRUE(found.everyone);
  EXPECT_EQ(FilterMentions(found, AllowedMentions{}).users.size(), 2u);  // absent allowed_mentions: all ping
  AllowedMentions only;
  only.given = true;
  only.users = {456};
  auto f = FilterMentions(found, only);
  EXPECT_EQ(f.users, (std::vector<Snowflake>{456}));
  EXPECT_TRUE(f.roles.empty());
  EXPECT_FALSE(f.everyone);
}

TEST(Paging, DefaultsAndLimits) {
  http::FormErrors e;
  auto q = ParseMessagePaging({}, 7, e);
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(q.limit, 50);
  EXPECT_EQ(q.channel_id, 7u);
  EXPECT_FALSE(q.before || q.after || q.around);

  http::FormErrors e2;
  q = ParseMessagePaging({{"limit", "100"}, {"after", "5"}}, 7, e2);
  EXPECT_TRUE(e2.empty());
  EXPECT_EQ(q.limit, 100);
  EXPECT_EQ(q.after, 5u);

  for (const char* bad : {"0", "101", "x", "", "-1"}) {
    http::FormErrors e3;
    ParseMessagePaging({{"limit", bad}}, 7, e3);
    EXPECT_FALSE(e3.empty()) << bad;
  }
  http::FormErrors e4;
  ParseMessagePaging({{"before", "12a"}}, 7, e4);
  EXPECT_EQ(FirstCode(e4, "before"), "NUMBER_TYPE_COERCE");
}

TEST(Paging, OneAnchorWithDiscordsPrecedence) {
  http::FormErrors e;
  auto q = ParseMessagePaging({{"after", "1"}, {"before", "2"}, {"around", "3"}}, 7, e);
  EXPECT_EQ(q.around, 3u);
  EXPECT_FALSE(q.before);
  EXPECT_FALSE(q.after);
  q = ParseMessagePaging({{"after", "1"}, {"before", "2"}}, 7, e);
  EXPECT_EQ(q.before, 2u);
  EXPECT_FALSE(q.after);
}

TEST(ReactionEmoji, UnicodeAndCustom) {
  auto u = ParseReactionEmoji("\xF0\x9F\x8E\x89");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->id, 0u);
  EXPECT_EQ(u->Key(), "\xF0\x9F\x8E\x89");
  auto c = ParseReactionEmoji("party_blob:123456789012345678");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->id, 123456789012345678ULL);
  EXPECT_EQ(c->name, "party_blob");
  auto a = ParseReactionEmoji("a:dance:42");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->animated);
  EXPECT_FALSE(ParseReactionEmoji("notanemoji"));
  EXPECT_FALSE(ParseReactionEmoji("name:notanid"));
  EXPECT_FALSE(ParseReactionEmoji(""));
  EXPECT_FALSE(ParseReactionEmoji("\xFF\xFE"));
}

TEST(Uploads, ImageSizeAndType) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x01\x00\0\0\0\x80", 24);
  auto wh = ImageSize(png);
  ASSERT_TRUE(wh);
  EXPECT_EQ(wh->first, 256);
  EXPECT_EQ(wh->second, 128);
  std::string gif("GIF89a\x10\x00\x20\x00", 10);
  wh = ImageSize(gif);
  ASSERT_TRUE(wh);
  EXPECT_EQ(wh->first, 16);
  EXPECT_EQ(wh->second, 32);
  EXPECT_FALSE(ImageSize("hello world, not an image"));
  EXPECT_EQ(GuessContentType("a.PNG", "application/octet-stream"), "image/png");
  EXPECT_EQ(GuessContentType("a.unknown", "application/x-thing"), "application/x-thing");
  EXPECT_EQ(GuessContentType("a.unknown", ""), "application/octet-stream");
}

}  // namespace
}  // namespace ferry::compat::rest
