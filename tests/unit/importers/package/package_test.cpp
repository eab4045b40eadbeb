// Unit tests of the data-package readers: CSV and lenient JSON messages, layout detection by content,
// attachment URLs, channel types, entry-name safety. Whole-package imports are in tests/integration/import_package.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "importers/package/layout.hpp"
#include "importers/package/records.hpp"
#include "importers/package/source.hpp"

namespace ferry::package {
namespace {

// An entry whose bytes come from a string, handed out in small pieces to cross chunk boundaries.
class StringEntry : public EntryStream {
 public:
  StringEntry(std::string data, std::string name = "Messages/c1/messages.json", std::size_t piece = 7)
      : data_(std::move(data)), piece_(piece) {
    name_ = std::move(name);
  }

 protected:
  std::int64_t RawRead(char* buf, std::size_t n, Status*) override {
    std::size_t k = std::min({n, piece_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return static_cast<std::int64_t>(k);
  }

 private:
  std::string data_;
  std::size_t piece_;
  std::size_t pos_ = 0;
};

std::vector<MessageRecord> ReadCsv(const std::string& text, Status* st) {
  StringEntry in(text, "messages/c1/messages.csv");
  std::vector<MessageRecord> out;
  *st = ReadCsvMessages(in, [&](const MessageRecord& r) {
    out.push_back(r);
    return Status::Ok();
  });
  return out;
}

std::vector<MessageRecord> ReadJson(const std::string& text, Status* st, Leniency* len = nullptr) {
  StringEntry in(text);
  std::vector<MessageRecord> out;
  *st = ReadJsonMessages(in, [&](const MessageRecord& r) {
    out.push_back(r);
    return Status::Ok();
  }, len);
  return out;
}

TEST(PackageCsv, QuotesNewlinesCrlfAndEmptyFields) {
  Status st;
  auto recs = ReadCsv(
      "ID,Timestamp,Contents,Attachments\r\n"
      "1200123845173051399,2024-01-25 17:03:41.912000+00:00,\"two lines,\nsecond has \"\"quotes\"\"\",\r\n"
      "1200123690982047751,2024-01-25 17:03:05.150000+00:00,plain,https://x/a.png\r\n"
      "1200123598078214151,2024-01-25 17:02:43+00:00,\"crlf\r\ninside\",\r\n",
      &st);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].id, 1200123845173051399ULL);
  EXPECT_EQ(recs[0].contents, "two lines,\nsecond has \"quotes\"");
  EXPECT_EQ(recs[0].attachments, "");
  EXPECT_EQ(recs[1].contents, "plain");
  EXPECT_EQ(recs[1].attachments, "https://x/a.png");
  EXPECT_EQ(recs[2].contents, "crlf\r\ninside");
  EXPECT_EQ(recs[2].timestamp, "2024-01-25 17:02:43+00:00");
  EXPECT_EQ(recs[2].line, 5);  // line numbers count the newline inside the first record
}

TEST(PackageCsv, BomHeaderAndLfOnlyRows) {
  Status st;
  auto recs = ReadCsv("\xEF\xBB\xBFID,Timestamp,Contents,Attachments\n1,t,a,\n2,t,b,", &st);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].contents, "b");
}

TEST(PackageCsv, ErrorsNameEntryAndLine) {
  Status st;
  ReadCsv("ID,Timestamp,Contents,Attachments\n1,t,\"never closed\n", &st);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("messages/c1/messages.csv line 2"), std::string::npos) << st.message();
  ReadCsv("ID,Timestamp,Contents,Attachments\nabc,t,x,\n", &st);
  EXPECT_NE(st.message().find("line 2"), std::string::npos) << st.message();
  ReadCsv("Foo,Bar\n1,2\n", &st);
  EXPECT_NE(st.message().find("not a messages.csv header"), std::string::npos) << st.message();
}

TEST(PackageJson, BareIdsAboveTwoPow53AreExact) {
  Status st;
  auto recs = ReadJson(
      "[\n{\"ID\": 1154024162197503999, \"Timestamp\": \"2023-09-20 12:00:00\", \"Contents\": \"a\", \"Attachments\": \"\"},\n"
      "{\"ID\": 18446744073709551615, \"Timestamp\": \"\", \"Contents\": \"max\", \"Attachments\": \"\"}\n]",
      &st);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].id, 1154024162197503999ULL);
  EXPECT_EQ(recs[1].id, 18446744073709551615ULL);
}

TEST(PackageJson, FloatOrOverflowingIdsAreRefused) {
  Status st;
  ReadJson("[{\"ID\": 1.154024162197504e18, \"Contents\": \"\"}]", &st);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not an exact integer"), std::string::npos) << st.message();
  ReadJson("[{\"ID\": 18446744073709551616, \"Contents\": \"\"}]", &st);
  EXPECT_FALSE(st.ok());
}

TEST(PackageJson, LenientRepairsAreCounted) {
  Status st;
  Leniency len;
  auto recs = ReadJson(
      "[\n{\"ID\": 3, \"Contents\": \"raw\nnewline\ttab\"}\n{\"ID\": \"2\", \"Contents\": \"no comma before me\"},\n"
      "{\"ID\": 1, \"Contents\": \"{braces} [and] \\\"quotes\\\"\"},\n]",
      &st, &len);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].contents, "raw\nnewline\ttab");
  EXPECT_EQ(recs[1].id, 2u);
  EXPECT_EQ(recs[2].contents, "{braces} [and] \"quotes\"");
  EXPECT_EQ(len.raw_control_chars, 2);
  EXPECT_EQ(len.missing_commas, 1);
  EXPECT_EQ(len.trailing_commas, 1);
  EXPECT_EQ(len.string_ids, 1);
}

TEST(PackageJson, TruncatedFileNamesLine) {
  Status st;
  auto recs = ReadJson("[\n{\"ID\": 1, \"Contents\": \"ok\"},\n{\"ID\": 2, \"Contents\": \"cut", &st);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(recs.size(), 1u);
  EXPECT_NE(st.message().find("Messages/c1/messages.json line 3"), std::string::npos) << st.message();
  ReadJson("[\n{\"ID\": 1}\nGARBAGE", &st);
  EXPECT_NE(st.message().find("unexpected 'G'"), std::string::npos) << st.message();
}

TEST(PackageEntryStream, LimitStopsOversizedEntries) {
  StringEntry in(std::string(1000, 'x'), "Messages/c1/channel.json", 64);
  in.set_limit(999);
  std::string out;
  Status st = ReadAll(in, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Messages/c1/channel.json"), std::string::npos);
  StringEntry exact(std::string(1000, 'x'), "a", 64);
  exact.set_limit(1000);
  EXPECT_TRUE(ReadAll(exact, &out).ok());
  EXPECT_EQ(out.size(), 1000u);
}

TEST(PackageLayout, LocalisedFoldersFoundByContent) {
  Layout l = FindLayout({"README.txt", "Konto/user.json", "Konto/avatar.png",
                         "Aktivität/Activities_1/users/user.json", "Nachrichten/index.json",
                         "Nachrichten/c1419421927080067072/channel.json",
                         "Nachrichten/c1419421927080067072/messages.json", "Server/index.json",
                         "Server/794762915348742151/guild.json", "Server/794762915348742151/audit-log.json"});
  EXPECT_EQ(l.root, "");
  EXPECT_EQ(l.messages_dir, "Nachrichten");
  EXPECT_EQ(l.servers_dir, "Server");
  EXPECT_EQ(l.account_dir, "Konto");
  EXPECT_EQ(l.user_json, "Konto/user.json");
  EXPECT_EQ(l.avatar, "Konto/avatar.png");
  EXPECT_EQ(l.messages_index, "Nachrichten/index.json");
  EXPECT_EQ(l.servers_index, "Server/index.json");
  ASSERT_EQ(l.channels.size(), 1u);
  EXPECT_TRUE(l.channels.begin()->second.c_prefix);
  EXPECT_FALSE(l.channels.begin()->second.csv);
  EXPECT_EQ(l.guild_json.count(794762915348742151ULL), 1u);
}

TEST(PackageLayout, RezippedUnderExtraFolderAndLegacyIds) {
  Layout l = FindLayout({"package/messages/index.json", "package/messages/794762915348742153/channel.json",
                         "package/messages/794762915348742153/messages.csv", "package/account/user.json"});
  EXPECT_EQ(l.root, "package");
  EXPECT_EQ(l.messages_dir, "package/messages");
  EXPECT_EQ(l.account_dir, "package/account");
  EXPECT_TRUE(l.servers_dir.empty());
  ASSERT_EQ(l.channels.size(), 1u);
  EXPECT_FALSE(l.channels.begin()->second.c_prefix);
  EXPECT_TRUE(l.channels.begin()->second.csv);
}

TEST(PackageLayout, NothingRecognisable) {
  EXPECT_TRUE(FindLayout({"notes.txt", "data/index.json", "photos/c12/x.jpg"}).empty());
}

TEST(PackageMapping, AttachmentUrls) {
  auto a = ParseAttachmentUrl(
      "https://cdn.discordapp.com/attachments/794762915348742153/1200123690713612338/cat.png?ex=65c2f5a1&is=65b080a1&hm=5b");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id, 1200123690713612338ULL);
  EXPECT_EQ(a->filename, "cat.png");
  auto b = ParseAttachmentUrl("https://media.discordapp.net/attachments/1/1200123597876887593/SPOILER_my%20b.txt");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->filename, "SPOILER_my b.txt");
  EXPECT_FALSE(ParseAttachmentUrl("https://example.com/cat.png"));
  EXPECT_FALSE(ParseAttachmentUrl("not a url"));
}

TEST(PackageMapping, ChannelTypesIntAndString) {
  EXPECT_EQ(ChannelTypeFromJson(Json(3)), 3);
  EXPECT_EQ(ChannelTypeFromJson(Json("DM")), 1);
  EXPECT_EQ(ChannelTypeFromJson(Json("GROUP_DM")), 3);
  EXPECT_EQ(ChannelTypeFromJson(Json("PUBLIC_THREAD")), 11);
  EXPECT_EQ(ChannelTypeFromJson(Json("EPHEMERAL_DM")), 18);
  EXPECT_FALSE(ChannelTypeFromJson(Json("SOMETHING_NEW")));
}

TEST(PackageSource, EntryNamesCannotEscape) {
  std::string out;
  EXPECT_TRUE(SanitizeEntryName("./Messages\\c1\\channel.json", &out).ok());
  EXPECT_EQ(out, "Messages/c1/channel.json");
  EXPECT_FALSE(SanitizeEntryName("../evil", &out).ok());
  EXPECT_FALSE(SanitizeEntryName("Messages/../../evil", &out).ok());
  EXPECT_FALSE(SanitizeEntryName("/etc/passwd", &out).ok());
  EXPECT_FALSE(SanitizeEntryName("C:\\evil", &out).ok());
}

}  // namespace
}  // namespace ferry::package
