// ferry export xmpp on a real SQLite store: hostile names and content stay escaped, localparts collide
// deterministically, reruns write identical files, bad options fail clearly.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "exporters/xmpp/exporter.hpp"
#include "store/store.hpp"

namespace ferry::xmpp {
namespace {
namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class XmppExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ferry-xmpp-unit-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(Store::Open((dir_ / "s.db").string(), OpenOptions{}, &store_).ok());
    Source src{0, 1};
    Guild g;
    g.id = 100;
    g.name = "G";
    g.owner_id = 1;
    ASSERT_TRUE(store_->UpsertGuild(g, src).ok());
    Channel c;
    c.id = 200;
    c.guild_id = 100;
    c.name = "general";
    c.topic = "topic with <b>tags</b> & \"quotes\"";
    ASSERT_TRUE(store_->UpsertChannel(c, src).ok());
    for (auto [id, name] : std::vector<std::pair<Snowflake, std::string>>{{1, "alice"}, {2, "Alice"}, {3, "<evil>'/"}}) {
      User u;
      u.id = id;
      u.username = name;
      u.global_name = name + "</FN>";
      ASSERT_TRUE(store_->UpsertUser(u, src).ok());
    }
    Message m;
    m.id = 1000;
    m.channel_id = 200;
    m.author_id = 3;
    m.content = "</body><script>alert(1)</script>\nline2 ]]> &amp;";
    m.timestamp.ms = 1717243200999;
    ASSERT_TRUE(store_->UpsertMessage(m, src).ok());
    m.id = 1001;
    m.author_id = 2;
    m.content = "hi";
    ASSERT_TRUE(store_->UpsertMessage(m, src).ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  Status Export(const std::string& out, XmppExportSummary* sum) {
    XmppExportOptions o;
    o.out_dir = (dir_ / out).string();
    o.domain = "chat.test";
    o.muc_domain = "rooms.chat.test";
    o.password_mode = "none";
    return ExportXmpp(*store_, o, nullptr, sum);
  }
  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(XmppExportTest, EscapesAndNamesDeterministically) {
  XmppExportSummary sum;
  ASSERT_TRUE(Export("a", &sum).ok());
  EXPECT_EQ(sum.rooms, 1);
  EXPECT_EQ(sum.room_messages, 2);
  std::string log = Slurp(dir_ / "a" / "muc" / "muc_log.tsv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2);  // one stanza per line
  EXPECT_NE(log.find("&lt;/body&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(log.find("<script>"), std::string::npos);
  EXPECT_NE(log.find("&#10;line2 ]]&gt; &amp;amp;"), std::string::npos);
  EXPECT_NE(log.find("\t1717243200\t"), std::string::npos);  // whole seconds
  EXPECT_TRUE(fs::exists(dir_ / "a" / "xep0227" / "alice@chat.test.xml"));
  EXPECT_TRUE(fs::exists(dir_ / "a" / "xep0227" / "alice_2@chat.test.xml"));  // later id gets the suffix
  EXPECT_TRUE(fs::exists(dir_ / "a" / "xep0227" / "evil@chat.test.xml"));
  std::string evil = Slurp(dir_ / "a" / "xep0227" / "evil@chat.test.xml");
  EXPECT_NE(evil.find("<FN>&lt;evil&gt;&apos;/&lt;/FN&gt;</FN>"), std::string::npos);
  std::string rooms = Slurp(dir_ / "a" / "muc" / "rooms.jsonl");
  EXPECT_NE(rooms.find("\"owner\""), std::string::npos);  // guild owner owns the room
  EXPECT_FALSE(fs::exists(dir_ / "a" / "credentials.csv"));

  ASSERT_TRUE(Export("b", &sum).ok());
  for (const char* f : {"muc/muc_log.tsv", "muc/rooms.jsonl", "xep0227/alice@chat.test.xml", "load.sh", "LOAD.md",
                        "manifest.json"})
    EXPECT_EQ(Slurp(dir_ / "a" / f), Slurp(dir_ / "b" / f)) << f;
}

TEST_F(XmppExportTest, HistoryLinesCarryTheRealJidAndTheLayoutVersion) {
  XmppExportSummary sum;
  ASSERT_TRUE(Export("a", &sum).ok());
  // node TAB key TAB when TAB with TAB jid TAB stanza: the loader derives occupant ids from the JID column.
  std::istringstream log(Slurp(dir_ / "a" / "muc" / "muc_log.tsv"));
  std::string line;
  std::vector<std::string> jids;
  while (std::getline(log, line)) {
    std::vector<std::string> cols;
    std::size_t p = 0;
    for (int i = 0; i < 5; ++i) {
      std::size_t t = line.find('\t', p);
      ASSERT_NE(t, std::string::npos) << line;
      cols.push_back(line.substr(p, t - p));
      p = t + 1;
    }
    cols.push_back(line.substr(p));
    EXPECT_EQ(cols[0], "general");
    EXPECT_EQ(cols[3], "message<groupchat");
    EXPECT_EQ(cols[5].rfind("<message ", 0), 0u) << cols[5];
    EXPECT_NE(cols[5].find("jid='" + cols[4] + "'"), std::string::npos) << "JID column matches the stanza";
    jids.push_back(cols[4]);
  }
  EXPECT_EQ(jids, (std::vector<std::string>{"evil@chat.test", "alice_2@chat.test"}));
  EXPECT_NE(Slurp(dir_ / "a" / "manifest.json").find("\"version\": 2"), std::string::npos);
  EXPECT_NE(Slurp(dir_ / "a" / "ferry-load.lua").find("local LAYOUT = 2;"), std::string::npos)
      << "loader and manifest must name the same layout";
}

TEST_F(XmppExportTest, PasswordModeNoneStillCreatesAccounts) {
  XmppExportSummary sum;
  ASSERT_TRUE(Export("none", &sum).ok());
  EXPECT_EQ(sum.accounts, 3);  // the owner and both authors
  std::string f = Slurp(dir_ / "none" / "xep0227" / "alice_2@chat.test.xml");
  // No credentials, but Prosody's extended account property, so the account record is not empty.
  EXPECT_EQ(f.find("scram-credentials"), std::string::npos);
  EXPECT_EQ(f.find(" password="), std::string::npos);
  EXPECT_NE(f.find("xmlns:pext='http://prosody.im/protocol/extended-xep0227' "
                   "pext:ferry_imported_without_password='true'"),
            std::string::npos)
      << f;
  std::string md = Slurp(dir_ / "none" / "LOAD.md");
  EXPECT_NE(md.find("without any password"), std::string::npos);
  EXPECT_NE(md.find("passwd someone@chat.test"), std::string::npos);

  XmppExportOptions o;
  o.out_dir = (dir_ / "random").string();
  o.domain = "chat.test";
  o.muc_domain = "rooms.chat.test";
  o.scram_iterations = 16;
  ASSERT_TRUE(ExportXmpp(*store_, o, nullptr, &sum).ok());
  std::string r = Slurp(dir_ / "random" / "xep0227" / "alice_2@chat.test.xml");
  EXPECT_NE(r.find("scram-credentials"), std::string::npos);
  EXPECT_EQ(r.find("ferry_imported_without_password"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "random" / "credentials.csv"));
  EXPECT_EQ(Slurp(dir_ / "random" / "LOAD.md").find("without any password"), std::string::npos);
}

TEST_F(XmppExportTest, ClearErrors) {
  XmppExportOptions o;
  XmppExportSummary sum;
  o.out_dir = (dir_ / "x").string();
  o.domain = "chat.test";
  o.muc_domain = "rooms.chat.test";
  o.guild_id = 999;
  Status st = ExportXmpp(*store_, o, nullptr, &sum);
  EXPECT_TRUE(st.IsNotFound());
  EXPECT_NE(st.message().find("100 (G)"), std::string::npos) << st.message();
  o.guild_id.reset();
  o.domain = "no spaces.test";
  st = ExportXmpp(*store_, o, nullptr, &sum);
  EXPECT_EQ(st.code(), Status::Code::kInvalidInput);
  o.domain = "rooms.chat.test";
  EXPECT_EQ(ExportXmpp(*store_, o, nullptr, &sum).code(), Status::Code::kInvalidInput);  // same as MUC
  std::ofstream(dir_ / "file") << "x";
  o.domain = "chat.test";
  o.out_dir = (dir_ / "file" / "sub").string();
  st = ExportXmpp(*store_, o, nullptr, &sum);
  EXPECT_EQ(st.code(), Status::Code::kIoError);
  EXPECT_NE(st.message().find("file/sub"), std::string::npos);
}

}  // namespace
}  // namespace ferry::xmpp
