// Exporters against a real SQLite store built through the Store API (no importer involved).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "exporters/dce/dce_exporter.hpp"
#include "exporters/html/html_exporter.hpp"
#include "store/store.hpp"

namespace ferry {
namespace {
namespace fs = std::filesystem;

constexpr Snowflake kGuild = 1000, kCategory = 1001, kGeneral = 1002, kRandom = 1003, kThread = 1004;
constexpr Snowflake kAlice = 2001, kBob = 2002, kRole = 3001;
constexpr Snowflake kFirst = 1246433064247361543ULL;  // message ids: kFirst + i*4194304 (one ms apart)

Snowflake Mid(int i) { return kFirst + static_cast<Snowflake>(i) * 4194304ULL; }

std::string Read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class ExportStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ferry-export-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(Store::Open((dir_ / "s.db").string(), OpenOptions{}, &store_).ok());
    Source src{0, 1719792000000};
    ImportRun run;
    run.kind = "test";
    run.path = "unit";
    run.tool_version = "test";
    run.source_time_ms = 1719792000000;
    ASSERT_TRUE(store_->BeginRun(&run).ok());
    run.status = "done";
    ASSERT_TRUE(store_->FinishRun(run).ok());
    Guild g;
    g.id = kGuild;
    g.name = "Guild <&>";
    ASSERT_TRUE(store_->UpsertGuild(g, src).ok());
    auto channel = [&](Snowflake id, int type, std::optional<Snowflake> parent, const char* name) {
      Channel c;
      c.id = id;
      c.type = type;
      c.guild_id = kGuild;
      c.parent_id = parent;
      c.name = name;
      ASSERT_TRUE(store_->UpsertChannel(c, src).ok());
    };
    channel(kCategory, kGuildCategory, std::nullopt, "Text");
    channel(kGeneral, kGuildText, kCategory, "general");
    channel(kRandom, kGuildText, kCategory, "random");
    channel(kThread, kPublicThread, kGeneral, "Plans");
    Role r;
    r.id = kRole;
    r.guild_id = kGuild;
    r.name = "Mods";
    r.color = 0xE67E22;
    r.position = 3;
    ASSERT_TRUE(store_->UpsertRole(r, src).ok());
    for (auto [id, name] : {std::pair<Snowflake, const char*>{kAlice, "alice"}, {kBob, "bob"}}) {
      User u;
      u.id = id;
      u.username = name;
      u.discriminator = "0000";
      u.bot = false;
      ASSERT_TRUE(store_->UpsertUser(u, src).ok());
    }
    Member m;
    m.guild_id = kGuild;
    m.user_id = kAlice;
    m.nick = "Alice";
    m.role_ids = std::vector<Snowflake>{kRole};
    ASSERT_TRUE(store_->UpsertMember(m, src).ok());

    // A real PNG in the blob store (8-byte signature is enough for sniffing).
    std::string png("\x89PNG\r\n\x1a\n0000", 12);
    ASSERT_TRUE(store_->PutBlobBytes(png, &png_sha_).ok());

    ASSERT_TRUE(store_->Begin().ok());
    for (int i = 0; i < 450; ++i) {
      Message msg;
      msg.id = Mid(i);
      msg.channel_id = kGeneral;
      msg.author_id = i % 2 ? kBob : kAlice;
      msg.timestamp.ms = 1717243200123 + i;
      msg.content = "message " + std::to_string(i);
      msg.attachments.emplace();
      msg.embeds.emplace();
      msg.reactions.emplace();
      if (i == 0) msg.content = "the **target** <@2001> <#1003>";
      if (i == 5) msg.content = "<script>alert(1)</script><img src=x onerror=alert(2)>";
      if (i == 10) {
        Attachment a;
        a.id = 9001;
        a.filename = "cat.png";
        a.size = 12;
        a.url = "https://cdn.discordapp.com/attachments/1/2/cat.png";
        a.sha256 = png_sha_;
        Attachment missing;
        missing.id = 9002;
        missing.filename = "\"><b>gone</b>.zip";
        missing.size = 2048;
        missing.url = "https://cdn.discordapp.com/attachments/1/2/gone.zip";
        msg.attachments = std::vector<Attachment>{a, missing};
      }
      if (i == 449) {
        msg.type = 19;
        msg.reference = MessageReference{0, Mid(0), kGeneral, kGuild};
        msg.edited = Timestamp{1717243300000, "2024-06-01T12:01:40+00:00"};
      }
      ASSERT_TRUE(store_->UpsertMessage(msg, src).ok());
    }
    Message other;
    other.id = Mid(1000);
    other.channel_id = kRandom;
    other.author_id = kBob;
    other.timestamp.ms = 1717243300000;
    other.content = "cross reply with zanzibarian";
    other.type = 19;
    other.reference = MessageReference{0, Mid(0), kGeneral, kGuild};
    ASSERT_TRUE(store_->UpsertMessage(other, src).ok());
    Message in_thread;
    in_thread.id = Mid(1001);
    in_thread.channel_id = kThread;
    in_thread.author_id = kAlice;
    in_thread.timestamp.ms = 1717243400000;
    in_thread.content = "thread message";
    ASSERT_TRUE(store_->UpsertMessage(in_thread, src).ok());
    ASSERT_TRUE(store_->Commit().ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::string png_sha_;
};

TEST_F(ExportStoreTest, HtmlArchive) {
  html::HtmlExportOptions opt;
  opt.out_dir = (dir_ / "html").string();
  html::HtmlExportSummary sum;
  ASSERT_TRUE(html::ExportHtml(*store_, opt, nullptr, &sum).ok());
  EXPECT_EQ(sum.messages, 452);
  EXPECT_EQ(sum.channels, 3);
  EXPECT_EQ(sum.pages, 3 + 1 + 1);
  EXPECT_EQ(sum.files_copied, 1);
  EXPECT_EQ(sum.files_missing, 1);
  std::string index = Read(dir_ / "html/index.html");
  EXPECT_NE(index.find("Guild &lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(index.find("channel-1004-p1.html"), std::string::npos);  // the thread, under #general
  std::string p1 = Read(dir_ / "html/channel-1002-p1.html");
  std::string p3 = Read(dir_ / "html/channel-1002-p3.html");
  EXPECT_NE(p1.find("id=\"m" + std::to_string(Mid(0)) + "\""), std::string::npos);
  EXPECT_NE(p1.find("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  EXPECT_EQ(p1.find("<script>alert"), std::string::npos);
  EXPECT_NE(p1.find("<strong>target</strong> <span class=\"mention\" title=\"2001\">@Alice</span>"), std::string::npos);
  EXPECT_NE(p1.find("<a class=\"mention\" href=\"channel-1003-p1.html\">#random</a>"), std::string::npos);
  EXPECT_NE(p1.find("style=\"color:#e67e22\""), std::string::npos);  // Alice's role colour
  EXPECT_NE(p1.find("files/" + png_sha_.substr(0, 2) + "/" + png_sha_.substr(0, 16) + "/cat.png"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "html/files" / png_sha_.substr(0, 2) / png_sha_.substr(0, 16) / "cat.png"));
  EXPECT_NE(p1.find("&quot;&gt;&lt;b&gt;gone&lt;/b&gt;.zip <span class=\"size\">(2.0 KB)</span>"), std::string::npos);
  EXPECT_NE(p3.find("href=\"channel-1002-p1.html#m" + std::to_string(Mid(0)) + "\""), std::string::npos);
  EXPECT_NE(p3.find("(edited"), std::string::npos);
  std::string rnd = Read(dir_ / "html/channel-1003-p1.html");
  EXPECT_NE(rnd.find("href=\"channel-1002-p1.html#m" + std::to_string(Mid(0)) + "\""), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "html/search/meta.js"));
  EXPECT_FALSE(fs::exists(dir_ / "html/search/.tmp"));

  // Same store → byte-identical archive.
  html::HtmlExportOptions again = opt;
  again.out_dir = (dir_ / "html2").string();
  ASSERT_TRUE(html::ExportHtml(*store_, again, nullptr, nullptr).ok());
  for (auto& e : fs::recursive_directory_iterator(dir_ / "html")) {
    if (!e.is_regular_file()) continue;
    auto rel = fs::relative(e.path(), dir_ / "html");
    EXPECT_EQ(Read(e.path()), Read(dir_ / "html2" / rel)) << rel;
  }
}

TEST_F(ExportStoreTest, HtmlFiltersAndErrors) {
  html::HtmlExportOptions opt;
  opt.out_dir = (dir_ / "one").string();
  opt.channel_ids = {kRandom};
  html::HtmlExportSummary sum;
  ASSERT_TRUE(html::ExportHtml(*store_, opt, nullptr, &sum).ok());
  EXPECT_EQ(sum.channels, 1);
  // The reply target is outside the export: shown, but not linked.
  std::string rnd = Read(dir_ / "one/channel-1003-p1.html");
  EXPECT_EQ(rnd.find("href=\"channel-1002"), std::string::npos);
  EXPECT_NE(rnd.find("Replying to"), std::string::npos);
  opt.channel_ids = {424242};
  Status st = html::ExportHtml(*store_, opt, nullptr, nullptr);
  EXPECT_TRUE(st.IsNotFound());
  EXPECT_NE(st.message().find("unknown channel id 424242"), std::string::npos);
  opt.channel_ids = {};
  opt.out_dir = (dir_ / "s.db" / "sub").string();
  st = html::ExportHtml(*store_, opt, nullptr, nullptr);
  EXPECT_EQ(st.code(), Status::Code::kIoError);
  EXPECT_NE(st.message().find("output folder"), std::string::npos);
}

TEST_F(ExportStoreTest, DceJson) {
  dce_export::DceExportOptions opt;
  opt.out_dir = (dir_ / "dce").string();
  dce_export::DceExportSummary sum;
  ASSERT_TRUE(dce_export::ExportDce(*store_, opt, nullptr, &sum).ok());
  EXPECT_EQ(sum.files, 3);
  EXPECT_EQ(sum.messages, 452);
  fs::path general = dir_ / "dce/Guild _&_ - Text - general [1002].json";
  ASSERT_TRUE(fs::exists(general));
  std::string text = Read(general);
  auto doc = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (auto& [k, v] : doc.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"guild", "channel", "dateRange", "exportedAt", "messages", "messageCount"}));
  EXPECT_EQ(doc["exportedAt"], "2024-07-01T00:00:00+00:00");
  EXPECT_EQ(doc["channel"]["category"], "Text");
  EXPECT_EQ(doc["channel"]["categoryId"], "1001");
  EXPECT_EQ(doc["messageCount"], 450);
  auto& m0 = doc["messages"][0];
  EXPECT_EQ(m0["id"], std::to_string(Mid(0)));
  EXPECT_EQ(m0["timestamp"], "2024-06-01T12:00:00.123+00:00");
  EXPECT_EQ(m0["author"]["nickname"], "Alice");
  EXPECT_EQ(m0["author"]["roles"][0]["color"], "#E67E22");
  auto& m10 = doc["messages"][10];
  EXPECT_EQ(m10["attachments"][0]["url"], "Guild _&_ - Text - general [1002].json_Files/" +
                                              dce_export::DceMediaName("https://cdn.discordapp.com/attachments/1/2/cat.png"));
  EXPECT_EQ(m10["attachments"][1]["url"], "https://cdn.discordapp.com/attachments/1/2/gone.zip");
  auto& last = doc["messages"][449];
  EXPECT_EQ(last["type"], "Reply");
  EXPECT_EQ(last["timestampEdited"], "2024-06-01T12:01:40+00:00");
  EXPECT_EQ(last["reference"]["messageId"], std::to_string(Mid(0)));
  EXPECT_NE(text.find("\n  \"messages\": [\n    {\n      \"id\": "), std::string::npos);
  fs::path thread = dir_ / "dce/Guild _&_ - general - Plans [1004].json";
  ASSERT_TRUE(fs::exists(thread));
  EXPECT_EQ(nlohmann::json::parse(Read(thread))["channel"]["type"], "GuildPublicThread");
}

}  // namespace
}  // namespace ferry
