// Builds the store the Matrix export tests replay: one guild with a category, a public and a private
// channel, a forum, a public thread started from a message, a forum post, a private thread (must be left
// out), replies, reactions (some reactors unknown), an edit, a pin, a pin notice (skipped), an attachment
// with its bytes and one without, mentions and markdown, exact whitespace, and `filler` plain messages so
// the kill -9 test has something to interrupt.
//   make_store OUT.db [filler] [rooms]     (filler spread over #general and rooms-1 extra channels)
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "store/snowflake.hpp"
#include "store/store.hpp"

using namespace ferry;

namespace {

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "make_store: %s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}

constexpr std::int64_t kBase = 1577836800000;  // 2020-01-01T00:00:00Z

Snowflake At(int minute, int inc = 0) { return SnowflakeFromTimeMs(kBase + minute * 60000LL) + inc; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_store OUT.db [filler]\n");
    return 2;
  }
  int filler = argc > 2 ? std::atoi(argv[2]) : 0;
  int room_count = argc > 3 ? std::max(1, std::atoi(argv[3])) : 1;
  std::unique_ptr<Store> store;
  Check(Store::Open(argv[1], OpenOptions{}, &store), "open");
  Source src{0, kBase + 86400000LL * 365};

  const Snowflake guild = 100, everyone = 100, admin_role = 200, mod_role = 201;
  const Snowflake alice = 1001, bob = 1002, carol = 1003, dave = 1004, erin = 1005;
  Check(store->Begin(), "begin");
  Guild g;
  g.id = guild;
  g.name = "Ferry Test Guild";
  g.owner_id = alice;
  Check(store->UpsertGuild(g, src), "guild");
  auto role = [&](Snowflake id, const char* name, std::uint64_t perms, int pos) {
    Role r;
    r.id = id;
    r.guild_id = guild;
    r.name = name;
    r.permissions = perms;
    r.position = pos;
    Check(store->UpsertRole(r, src), "role");
  };
  role(everyone, "@everyone", 0, 0);
  role(admin_role, "Admins", 1ULL << 3, 2);
  role(mod_role, "Mods", 1ULL << 13, 1);

  std::string avatar_sha;
  Check(store->PutBlobBytes(std::string("\x89PNG\r\n\x1a\n", 8) + "dave-avatar", &avatar_sha), "avatar blob");
  auto user = [&](Snowflake id, const char* username, const char* global, std::vector<Snowflake> roles) {
    User u;
    u.id = id;
    u.username = username;
    if (global) u.global_name = global;
    if (id == dave) u.avatar_sha256 = avatar_sha;
    Check(store->UpsertUser(u, src), "user");
    Member m;
    m.guild_id = guild;
    m.user_id = id;
    m.role_ids = roles;
    Check(store->UpsertMember(m, src), "member");
  };
  user(alice, "alice", "Alice A.", {});
  user(bob, "bob", "Bob", {admin_role});
  user(carol, "carol", nullptr, {mod_role});
  user(dave, "dave", "Dave", {});
  user(erin, "erin", "Erin", {});

  auto channel = [&](Snowflake id, int type, std::optional<Snowflake> parent, const char* name, int pos) {
    Channel c;
    c.id = id;
    c.type = type;
    c.guild_id = guild;
    c.parent_id = parent;
    c.name = name;
    c.position = pos;
    c.overwrites = std::vector<Overwrite>{};
    return c;
  };
  const Snowflake category = At(-100, 1), general = At(-100, 2), secret = At(-100, 3), forum = At(-100, 4);
  Channel cat = channel(category, kGuildCategory, std::nullopt, "Text Channels", 0);
  Check(store->UpsertChannel(cat, src), "category");
  Channel gen = channel(general, kGuildText, category, "general", 0);
  gen.topic = "General chat";
  Check(store->UpsertChannel(gen, src), "general");
  Channel sec = channel(secret, kGuildText, category, "secret", 1);
  sec.overwrites = std::vector<Overwrite>{{everyone, 0, 0, 1ULL << 10}, {admin_role, 0, 1ULL << 10, 0}};
  Check(store->UpsertChannel(sec, src), "secret");
  Channel fo = channel(forum, kGuildForum, std::nullopt, "help-forum", 2);
  Check(store->UpsertChannel(fo, src), "forum");

  const Snowflake m_thread_start = At(4);  // the thread shares the starter message's id
  const Snowflake forum_post = At(20);
  const Snowflake private_thread = At(30);
  Channel th = channel(m_thread_start, kPublicThread, general, "Planning thread", 0);
  Check(store->UpsertChannel(th, src), "thread");
  Channel fp = channel(forum_post, kPublicThread, forum, "How do I export?", 0);
  Check(store->UpsertChannel(fp, src), "forum post");
  Channel pt = channel(private_thread, kPrivateThread, general, "Private stuff", 0);
  Check(store->UpsertChannel(pt, src), "private thread");

  auto msg = [&](Snowflake id, Snowflake ch, Snowflake author, const std::string& content) {
    Message m;
    m.id = id;
    m.channel_id = ch;
    m.author_id = author;
    m.content = content;
    m.content_format = "raw";
    m.timestamp.ms = SnowflakeTimeMs(id);
    return m;
  };
  // general
  Message m1 = msg(At(1), general, alice, "Hello **world**, welcome to <#" + std::to_string(general) + ">!");
  Check(store->UpsertMessage(m1, src), "m1");
  Message m2 = msg(At(2), general, bob, "hi <@1001> \xF0\x9F\x91\x8B");
  m2.type = 19;
  m2.reference = MessageReference{0, m1.id, general, guild};
  auto reaction = [](Snowflake emoji_id, const char* name, int count, std::vector<Snowflake> users) {
    Reaction r;
    r.emoji.id = emoji_id;
    r.emoji.name = name;
    r.count = count;
    r.user_ids = std::move(users);
    return r;
  };
  m2.reactions = std::vector<Reaction>{reaction(0, "\xF0\x9F\x91\x8D", 3, {alice, carol}),
                                       reaction(555, "partyblob", 1, {dave})};
  Check(store->UpsertMessage(m2, src), "m2");
  std::string png_sha;
  std::int64_t png_size = 0;
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(3000, 'x');
  Check(store->PutBlobBytes(png, &png_sha), "png blob");
  png_size = static_cast<std::int64_t>(png.size());
  Message m3 = msg(At(3), general, carol, "");
  Attachment a1;
  a1.id = At(3, 10);
  a1.filename = "diagram.png";
  a1.size = png_size;
  a1.content_type = "image/png";
  a1.width = 640;
  a1.height = 480;
  a1.sha256 = png_sha;
  Attachment a2;
  a2.id = At(3, 11);
  a2.filename = "notes.pdf";
  a2.size = 123456;
  a2.url = "https://cdn.discordapp.com/attachments/1/2/notes.pdf?ex=1";
  m3.attachments = std::vector<Attachment>{a1, a2};
  Check(store->UpsertMessage(m3, src), "m3");
  Message m4 = msg(m_thread_start, general, dave, "let's plan the move");
  m4.pinned = true;
  Check(store->UpsertMessage(m4, src), "m4");
  Message t1 = msg(At(5), m_thread_start, alice, "in the thread");
  Check(store->UpsertMessage(t1, src), "t1");
  Message t2 = msg(At(6), m_thread_start, bob, "replying inside the thread");
  t2.type = 19;
  t2.reference = MessageReference{0, t1.id, m_thread_start, guild};
  Check(store->UpsertMessage(t2, src), "t2");
  Message m5 = msg(At(7), general, alice, "final text after edits");
  m5.edited = Timestamp{kBase + 9 * 60000, ""};
  Check(store->UpsertMessage(m5, src), "m5");
  Message m6 = msg(At(8), general, bob, "");
  m6.type = 6;  // "pinned a message" notice
  Check(store->UpsertMessage(m6, src), "m6");
  Message m7 = msg(At(9), general, erin, "line one\r\n  indented line  \n\ttab\n");
  Check(store->UpsertMessage(m7, src), "m7");
  std::vector<Snowflake> filler_rooms = {general};
  for (int k = 1; k < room_count; ++k) {
    Channel b = channel(At(-99, k), kGuildText, std::nullopt, ("bench-" + std::to_string(k)).c_str(), 10 + k);
    Check(store->UpsertChannel(b, src), "bench channel");
    filler_rooms.push_back(b.id);
  }
  for (int i = 0; i < filler; ++i) {
    Snowflake authors[] = {alice, bob, carol, dave, erin};
    Message f = msg(At(40 + i), filler_rooms[i % room_count], authors[i % 5], "filler message " + std::to_string(i));
    Check(store->UpsertMessage(f, src), "filler");
  }
  // secret
  Check(store->UpsertMessage(msg(At(10), secret, bob, "admins only"), src), "s1");
  Check(store->UpsertMessage(msg(At(11), secret, carol, "mods too"), src), "s2");
  // forum post: its first message shares the thread's id
  Check(store->UpsertMessage(msg(forum_post, forum_post, carol, "How do I export to Matrix?"), src), "f1");
  Check(store->UpsertMessage(msg(At(21), forum_post, dave, "Use `ferry export matrix`."), src), "f2");
  // private thread: never exported
  Check(store->UpsertMessage(msg(At(31), private_thread, erin, "secret thread message"), src), "p1");
  Check(store->Commit(), "commit");
  std::printf("{\"guild\":\"%llu\",\"general\":\"%llu\",\"secret\":\"%llu\",\"forum\":\"%llu\",\"thread\":\"%llu\","
              "\"forum_post\":\"%llu\",\"png_sha\":\"%s\"}\n",
              (unsigned long long)guild, (unsigned long long)general, (unsigned long long)secret,
              (unsigned long long)forum, (unsigned long long)m_thread_start, (unsigned long long)forum_post,
              png_sha.c_str());
  return 0;
}
