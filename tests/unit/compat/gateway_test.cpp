// zlib-stream framing (inflate what we deflate), token hashing, snowflake ordering, hub routing rules.
#include <gtest/gtest.h>
#include <zlib.h>

#include "compat-api/gateway/hub.hpp"
#include "compat-api/gateway/zlib_stream.hpp"
#include "compat-api/http/auth.hpp"
#include "store/snowflake.hpp"

namespace ferry::compat {
namespace {

TEST(ZlibStream, FramesInflateWithOneSharedContext) {
  gateway::ZlibStream z;
  ASSERT_TRUE(z.ok());
  z_stream in{};
  ASSERT_EQ(inflateInit(&in), Z_OK);
  for (int i = 0; i < 50; ++i) {
    std::string payload = "{\"op\":0,\"s\":" + std::to_string(i) + ",\"d\":{\"content\":\"" + std::string(i * 37, 'x') + "\"}}";
    std::string frame = z.Compress(payload);
    ASSERT_GE(frame.size(), 4u);
    EXPECT_EQ(frame.substr(frame.size() - 4), std::string("\x00\x00\xff\xff", 4)) << i;
    std::string out(payload.size() + 64, '\0');
    in.next_in = reinterpret_cast<Bytef*>(frame.data());
    in.avail_in = static_cast<uInt>(frame.size());
    in.next_out = reinterpret_cast<Bytef*>(out.data());
    in.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&in, Z_SYNC_FLUSH);
    ASSERT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc;
    out.resize(out.size() - in.avail_out);
    EXPECT_EQ(out, payload) << i;
  }
  inflateEnd(&in);
}

TEST(Tokens, HashAndShape) {
  std::string t = http::GenerateToken(1234567890123456789ull);
  EXPECT_EQ(std::count(t.begin(), t.end(), '.'), 2);
  EXPECT_NE(t, http::GenerateToken(1234567890123456789ull));
  EXPECT_EQ(http::TokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(http::TokenFromAuthorization("Bot abc.def"), "abc.def");
  EXPECT_EQ(http::TokenFromAuthorization("Bearer abc"), "abc");
  EXPECT_EQ(http::TokenFromAuthorization("abc"), "abc");
  EXPECT_EQ(http::TokenPrefix(t).substr(0, t.find('.')), t.substr(0, t.find('.')));
}

TEST(Snowflakes, NewIdsSortAfterTheFloorAndEachOther) {
  SnowflakeGenerator g(1, 0);
  std::uint64_t floor = SnowflakeFromTimeMs(NowMs() + 60'000);  // an imported id "from the future"
  g.SetFloor(floor);
  std::uint64_t prev = floor;
  for (int i = 0; i < 10000; ++i) {
    std::uint64_t id = g.Next();
    ASSERT_GT(id, prev);
    prev = id;
  }
  SnowflakeGenerator h(1, 0);
  std::uint64_t a = h.NextAt(1'700'000'000'000), b = h.NextAt(1'700'000'000'000);
  EXPECT_LT(a, b);
  EXPECT_EQ(SnowflakeTimeMs(a), 1'700'000'000'000);
}

class FakeConnection : public gateway::Connection {
 public:
  void SendPayload(std::string payload) override { sent.push_back(Json::parse(payload)); }
  void Close(int, std::string_view) override {}
  void CheckDeadlines(std::int64_t) override {}
  std::vector<Json> sent;
};

TEST(Hub, RoutesByGuildIntentAndMessageContent) {
  gateway::Hub hub;
  Bot a, b;
  a.user_id = 10;
  a.guild_ids = {100};
  b.user_id = 20;
  b.guild_ids = {100, 200};
  User ua, ub;
  ua.id = 10;
  ub.id = 20;
  auto sa = hub.CreateSession(a, ua, intents::kGuildMessages, 0, 1);  // no MESSAGE_CONTENT
  auto sb = hub.CreateSession(b, ub, intents::kGuildMessages | intents::kMessageContent, 0, 1);
  FakeConnection ca, cb;
  hub.Attach(*sa, &ca);
  hub.Attach(*sb, &cb);

  DispatchEvent ev;
  ev.t = "MESSAGE_CREATE";
  ev.d = {{"id", "1"}, {"content", "secret"}, {"embeds", Json::array({1})}};
  ev.guild_id = 100;
  ev.intents = intents::kGuildMessages;
  ev.message_content = true;
  ev.author_id = 99;
  hub.Publish(ev);
  ASSERT_EQ(ca.sent.size(), 1u);
  ASSERT_EQ(cb.sent.size(), 1u);
  EXPECT_EQ(ca.sent[0]["d"]["content"], "");
  EXPECT_TRUE(ca.sent[0]["d"]["embeds"].empty());
  EXPECT_EQ(cb.sent[0]["d"]["content"], "secret");
  EXPECT_EQ(ca.sent[0]["s"], 1);

  ev.mentioned_user_ids = {10};  // mentioned: sees the content anyway
  hub.Publish(ev);
  EXPECT_EQ(ca.sent.back()["d"]["content"], "secret");

  DispatchEvent other = ev;
  other.guild_id = 200;  // only b is there
  hub.Publish(other);
  EXPECT_EQ(ca.sent.size(), 2u);
  EXPECT_EQ(cb.sent.size(), 3u);

  DispatchEvent typing;
  typing.t = "TYPING_START";
  typing.d = Json::object();
  typing.guild_id = 100;
  typing.intents = intents::kGuildMessageTyping;  // neither asked for it
  hub.Publish(typing);
  EXPECT_EQ(ca.sent.size(), 2u);
  EXPECT_EQ(cb.sent.size(), 3u);
}

TEST(Hub, ReplaysMissedDispatchesAndTrimsAcknowledged) {
  gateway::Hub hub;
  Bot a;
  a.user_id = 10;
  a.guild_ids = {100};
  User ua;
  ua.id = 10;
  auto s = hub.CreateSession(a, ua, intents::kGuilds, 0, 1);
  FakeConnection c1;
  hub.Attach(*s, &c1);
  DispatchEvent ev;
  ev.t = "CHANNEL_UPDATE";
  ev.d = {{"id", "5"}};
  ev.guild_id = 100;
  for (int i = 0; i < 3; ++i) hub.Publish(ev);
  hub.Ack(*s, 2);
  EXPECT_EQ(s->replay.size(), 1u);
  hub.Detach(*s, &c1, 0);
  hub.Publish(ev);  // seq 4, missed
  FakeConnection c2;
  hub.Attach(*s, &c2);
  ASSERT_TRUE(hub.Replay(*s, 3));
  ASSERT_EQ(c2.sent.size(), 1u);
  EXPECT_EQ(c2.sent[0]["s"], 4);
  EXPECT_FALSE(hub.Replay(*s, 9));  // a sequence never sent cannot be resumed from
}

}  // namespace
}  // namespace ferry::compat
