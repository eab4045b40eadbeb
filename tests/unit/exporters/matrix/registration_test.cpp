#include "exporters/matrix/registration.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace ferry::matrix {
namespace {

TEST(MatrixRegistration, ReadsFlowStyleFileFromTheNotes) {
  const char* text = R"(id: discord-history-import
url: null                       # importer only calls the homeserver
as_token: "abc123"
hs_token: 'def''456'
sender_localpart: discordbridge
rate_limited: false
namespaces:
  users:   [ { exclusive: true, regex: "@discord_[0-9]+:example.org" } ]
  aliases: [ { exclusive: true, regex: "#discord_.*:example.org" } ]
  rooms:   []
)";
  Registration r;
  ASSERT_TRUE(ParseRegistration(text, "reg.yaml", &r).ok());
  EXPECT_EQ(r.id, "discord-history-import");
  EXPECT_EQ(r.url, "");
  EXPECT_EQ(r.as_token, "abc123");
  EXPECT_EQ(r.hs_token, "def'456");
  EXPECT_EQ(r.sender_localpart, "discordbridge");
  EXPECT_FALSE(r.rate_limited);
  ASSERT_EQ(r.users.size(), 1u);
  EXPECT_TRUE(r.users[0].exclusive);
  EXPECT_TRUE(InUserNamespace(r, "@discord_1234:example.org"));
  EXPECT_FALSE(InUserNamespace(r, "@alice:example.org"));
}

TEST(MatrixRegistration, ReadsBlockStyleFileLikeOtherBridgesWrite) {
  const char* text =
      "---\n"
      "id: \"mautrix-discord\"\n"
      "url: http://localhost:29334\n"
      "as_token: 7a2f\n"
      "hs_token: 9b1c\n"
      "sender_localpart: _discord_bot\n"
      "namespaces:\n"
      "  users:\n"
      "  - regex: '^@discord_[0-9]+:example\\.org$'\n"
      "    exclusive: true\n"
      "  - exclusive: false\n"
      "    regex: \"@_discord_bot:example\\\\.org\"\n"
      "de.sorunome.msc2409.push_ephemeral: true\n";
  Registration r;
  Status st = ParseRegistration(text, "mautrix.yaml", &r);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(r.url, "http://localhost:29334");
  EXPECT_EQ(r.as_token, "7a2f");
  ASSERT_EQ(r.users.size(), 2u);
  EXPECT_EQ(r.users[0].regex, "^@discord_[0-9]+:example\\.org$");
  EXPECT_EQ(r.users[1].regex, "@_discord_bot:example\\.org");
  EXPECT_TRUE(InUserNamespace(r, "@discord_42:example.org"));
  EXPECT_FALSE(InUserNamespace(r, "@discord_42:example.org.evil"));
  EXPECT_TRUE(r.rate_limited);  // not stated: assume the homeserver rate-limits
}

TEST(MatrixRegistration, ErrorsNameTheFileAndLine) {
  Registration r;
  Status st = ParseRegistration("as_token: x\nsender_localpart: &anchor bot\n", "bad.yaml", &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad.yaml:2"), std::string::npos) << st.message();
  st = ParseRegistration("sender_localpart: bot\n", "missing.yaml", &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("as_token"), std::string::npos);
  st = ParseRegistration("as_token: x\nsender_localpart: b\nnamespaces:\n  users: [ {regex: \"([\"} ]\n", "re.yaml", &r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does not compile"), std::string::npos) << st.message();
  st = ParseRegistration("as_token: x\n  sender_localpart: b\n", "indent.yaml", &r);
  EXPECT_FALSE(st.ok());
}

TEST(MatrixRegistration, WrittenFileReadsBackAndIsPrivate) {
  auto dir = std::filesystem::temp_directory_path() / ("ferry-reg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "reg.yaml").string();
  Registration w = NewRegistration("chat.example.org", "discord_");
  ASSERT_TRUE(WriteRegistration(path, w).ok());
  struct stat sb;
  ASSERT_EQ(::stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  Registration r;
  ASSERT_TRUE(ReadRegistration(path, &r).ok());
  EXPECT_EQ(r.as_token, w.as_token);
  EXPECT_EQ(r.as_token.size(), 64u);
  EXPECT_NE(r.as_token, r.hs_token);
  EXPECT_TRUE(InUserNamespace(r, "@discord_1246433064247361543:chat.example.org"));
  EXPECT_FALSE(InUserNamespace(r, "@discord_1:chatXexample.org"));
  EXPECT_FALSE(InUserNamespace(r, "@" + r.sender_localpart + ":chat.example.org"));
  Status again = WriteRegistration(path, NewRegistration("chat.example.org", "discord_"));
  EXPECT_EQ(again.code(), Status::Code::kConflict);
  Registration still;
  ASSERT_TRUE(ReadRegistration(path, &still).ok());
  EXPECT_EQ(still.as_token, w.as_token);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry::matrix
