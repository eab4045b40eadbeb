// DCE → model mapping: enumerations, timestamps, content-format evidence, embeds, and one full message.
#include <gtest/gtest.h>

#include <simdjson.h>

#include "importers/dce/mapper.hpp"
#include "store/timestamp.hpp"

namespace ferry::dce {
namespace {

TEST(DceMapper, ChannelTypes) {
  EXPECT_EQ(ChannelTypeFromDce("GuildTextChat"), 0);
  EXPECT_EQ(ChannelTypeFromDce("DirectTextChat"), 1);
  EXPECT_EQ(ChannelTypeFromDce("GuildVoiceChat"), 2);
  EXPECT_EQ(ChannelTypeFromDce("DirectGroupTextChat"), 3);
  EXPECT_EQ(ChannelTypeFromDce("GuildCategory"), 4);
  EXPECT_EQ(ChannelTypeFromDce("GuildNews"), 5);
  EXPECT_EQ(ChannelTypeFromDce("GuildStore"), 6);
  EXPECT_EQ(ChannelTypeFromDce("GuildNewsThread"), 10);
  EXPECT_EQ(ChannelTypeFromDce("GuildPublicThread"), 11);
  EXPECT_EQ(ChannelTypeFromDce("GuildPrivateThread"), 12);
  EXPECT_EQ(ChannelTypeFromDce("GuildStageVoice"), 13);
  EXPECT_EQ(ChannelTypeFromDce("GuildDirectory"), 14);
  EXPECT_EQ(ChannelTypeFromDce("GuildForum"), 15);
  EXPECT_EQ(ChannelTypeFromDce("16"), 16);  // media channel, written as a number string
  EXPECT_EQ(ChannelTypeFromDce("Nonsense"), -1);
  EXPECT_EQ(ChannelTypeFromDce(""), -1);
}

TEST(DceMapper, MessageTypes) {
  const std::pair<const char*, int> cases[] = {
      {"Default", 0},           {"RecipientAdd", 1},      {"RecipientRemove", 2},      {"Call", 3},
      {"ChannelNameChange", 4}, {"ChannelIconChange", 5}, {"ChannelPinnedMessage", 6}, {"GuildMemberJoin", 7},
      {"ThreadCreated", 18},    {"Reply", 19},            {"8", 8},                    {"20", 20},
      {"21", 21},               {"24", 24},               {"46", 46},                  {"12", 12},
  };
  for (auto& [name, want] : cases) EXPECT_EQ(MessageTypeFromDce(name), want) << name;
  EXPECT_EQ(MessageTypeFromDce("SomethingNew"), -1);
  EXPECT_EQ(MessageTypeFromDce("-3"), -1);
}

TEST(DceMapper, StickerFormatsAndColors) {
  EXPECT_EQ(StickerFormatFromDce("Png"), 1);
  EXPECT_EQ(StickerFormatFromDce("Apng"), 2);
  EXPECT_EQ(StickerFormatFromDce("Lottie"), 3);
  EXPECT_EQ(StickerFormatFromDce("Gif"), 4);
  EXPECT_EQ(ParseHexColor("#E67E22"), 0xE67E22u);
  EXPECT_EQ(ParseHexColor("#1da1f2"), 0x1DA1F2u);
  EXPECT_FALSE(ParseHexColor("E67E22"));
  EXPECT_FALSE(ParseHexColor("#GGGGGG"));
}

TEST(DceMapper, DceTimestampForms) {
  // Trimmed fractions, 7 digits, local offsets (DST), as DCE writes them.
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:00:00.123+00:00"), 1717243200123);
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:06:00.01+00:00"), 1717243560010);
  EXPECT_EQ(ParseTimestampMs("2024-06-01T12:07:42.5+00:00"), 1717243662500);
  EXPECT_EQ(ParseTimestampMs("2023-08-26T04:37:13.8399951+00:00"), 1693024633839);
  EXPECT_EQ(ParseTimestampMs("2024-03-31T01:59:59.999+01:00"), 1711846799999);
  EXPECT_EQ(ParseTimestampMs("2024-03-31T03:00:00+02:00"), 1711846800000);
}

TEST(DceMapper, ContentEvidence) {
  std::vector<std::string_view> none;
  EXPECT_EQ(ContentEvidence("<@555676493414662151> hi", none, none), "raw");
  EXPECT_EQ(ContentEvidence("see <#794762915348742153>", none, none), "raw");
  EXPECT_EQ(ContentEvidence("<:party_blob:1080795385037062151>", none, none), "raw");
  EXPECT_EQ(ContentEvidence("<a:dance:1080795385037062151>", none, none), "raw");
  EXPECT_EQ(ContentEvidence("at <t:1717600000:R>", none, none), "raw");
  EXPECT_EQ(ContentEvidence("<@&973494602957062151>", none, none), "raw");
  EXPECT_EQ(ContentEvidence("plain text", none, none), "");
  EXPECT_EQ(ContentEvidence("@everyone look", none, none), "");
  std::vector<std::string_view> bob = {"Bob the Builder", "bob"};
  EXPECT_EQ(ContentEvidence("Hello @Bob the Builder", bob, none), "display");
  std::vector<std::string_view> emoji = {"party_blob"};
  EXPECT_EQ(ContentEvidence("Nice :party_blob:", none, emoji), "display");
  EXPECT_EQ(ContentEvidence("@Unknown said", none, none), "display");
  // Code spans are never rewritten: they prove nothing.
  EXPECT_EQ(ContentEvidence("`<@555676493414662151>`", none, none), "");
  EXPECT_EQ(ContentEvidence("```\n<#794762915348742153>\n```", none, none), "");
}

simdjson::dom::element Parse(simdjson::dom::parser& p, simdjson::padded_string& s) {
  simdjson::dom::element e;
  EXPECT_FALSE(p.parse(s).get(e));
  return e;
}

TEST(DceMapper, EmbedToApiShape) {
  simdjson::dom::parser p;
  simdjson::padded_string s(std::string(R"({"title": "A post", "url": "https://example.com/post", "timestamp": null,
    "description": "", "color": "#1DA1F2",
    "author": {"name": "Ann", "url": null, "iconUrl": "https://proxy/i.png", "iconCanonicalUrl": "https://orig/i.png"},
    "thumbnail": {"url": "https://images-ext-1.discordapp.net/t.jpg", "canonicalUrl": "https://example.com/t.jpg", "width": 400, "height": 300},
    "image": {"url": "media/pic-0123.png", "width": null, "height": null},
    "footer": {"text": "foot"},
    "images": [{"url": "https://a/1.png"}, {"url": "https://a/2.png"}],
    "fields": [{"name": "n", "value": "v", "isInline": true}],
    "inlineEmojis": [], "somethingNew": 7})"));
  Json e = ConvertEmbed(Parse(p, s));
  EXPECT_EQ(e["type"], "rich");
  EXPECT_EQ(e["title"], "A post");
  EXPECT_FALSE(e.contains("description"));  // DCE writes "" for none
  EXPECT_FALSE(e.contains("timestamp"));
  EXPECT_EQ(e["color"], 0x1DA1F2);
  EXPECT_EQ(e["author"]["icon_url"], "https://orig/i.png");
  EXPECT_EQ(e["author"]["proxy_icon_url"], "https://proxy/i.png");
  EXPECT_EQ(e["thumbnail"]["url"], "https://example.com/t.jpg");
  EXPECT_EQ(e["thumbnail"]["proxy_url"], "https://images-ext-1.discordapp.net/t.jpg");
  EXPECT_EQ(e["thumbnail"]["width"], 400);
  EXPECT_EQ(e["image"]["dce_url"], "media/pic-0123.png");  // local path kept for the blob store
  EXPECT_EQ(e["footer"]["text"], "foot");
  EXPECT_EQ(e["fields"][0]["inline"], true);
  EXPECT_EQ(e["dce_images"].size(), 2u);
  EXPECT_EQ(e["dce_somethingNew"], 7);
}

TEST(DceMapper, FullMessageAndUsers) {
  simdjson::dom::parser hp, cp, mp;
  simdjson::padded_string g(std::string(R"({"id": "794762915348742151", "name": "Example Guild", "iconUrl": "https://x/i.png"})"));
  simdjson::padded_string c(std::string(R"({"id": "1246434573722714112", "type": "GuildPublicThread", "categoryId": "794762915348742153", "category": "general", "name": "Release planning", "topic": null})"));
  simdjson::padded_string m(std::string(R"({"id": "1246433095004192775", "type": "Reply", "timestamp": "2024-06-01T14:00:07.456+02:00",
    "timestampEdited": "2024-06-01T12:02:00+00:00", "callEndedTimestamp": null, "isPinned": true, "content": "Nice @Bob the Builder\r\n ",
    "author": {"id": "469654673817862151", "name": "alice", "discriminator": "0000", "nickname": "Alice", "color": "#E67E22", "isBot": false,
               "roles": [{"id": "973494602957062151", "name": "Moderator", "color": "#E67E22", "position": 3}], "avatarUrl": "https://x/a.png"},
    "attachments": [{"id": "1246433064016674816", "url": "https://cdn/x.png", "fileName": "cat.png", "fileSizeBytes": 48213}],
    "embeds": [], "stickers": [{"id": "749054660769218631", "name": "Wave", "format": "Lottie", "sourceUrl": "https://s/1.json"}],
    "reactions": [{"emoji": {"id": "", "name": "👍", "code": "thumbsup", "isAnimated": false, "imageUrl": "https://t/1f44d.svg"}, "count": 2,
                   "users": [{"id": "555676493414662151", "name": "bob", "discriminator": "0000", "nickname": "Bob the Builder", "color": null, "isBot": false, "avatarUrl": "https://x/b.png"}]}],
    "mentions": [{"id": "555676493414662151", "name": "bob", "discriminator": "0000", "nickname": "Bob the Builder", "color": null, "isBot": false, "roles": [], "avatarUrl": "https://x/b.png"}],
    "reference": {"type": "Default", "messageId": "1246433064247361543", "channelId": "794762915348742153", "guildId": "794762915348742151"},
    "inlineEmojis": [], "newField": {"x": 1}})"));
  Mapper mapper;
  FileContext ctx;
  ctx.file = "f.json";
  ctx.dir = "/nonexistent";
  ctx.src = Source{1, 1717316130123};
  mapper.BeginFile(ctx);
  Batch b;
  std::string err;
  ASSERT_TRUE(mapper.MapHeader(Parse(hp, g), Parse(cp, c), &b, &err)) << err;
  ASSERT_EQ(b.guilds.size(), 1u);
  ASSERT_EQ(b.channels.size(), 2u);
  // The thread's parent: a channel whose type the file does not tell, written with source time 0.
  EXPECT_EQ(b.channels[0].first.id, 794762915348742153u);
  EXPECT_EQ(b.channels[0].second.source_time_ms, 0);
  EXPECT_EQ(b.channels[1].first.type, kPublicThread);
  EXPECT_EQ(b.channels[1].first.parent_id, 794762915348742153u);

  std::string warning;
  ASSERT_TRUE(mapper.MapMessage(Parse(mp, m), 100, 1, &b, &warning)) << warning;
  ASSERT_EQ(b.messages.size(), 1u);
  const Message& msg = b.messages[0];
  EXPECT_EQ(msg.id, 1246433095004192775u);
  EXPECT_EQ(msg.channel_id, 1246434573722714112u);
  EXPECT_EQ(msg.type, 19);
  EXPECT_EQ(msg.content, "Nice @Bob the Builder\r\n ");
  EXPECT_EQ(msg.timestamp.ms, 1717243207456);
  EXPECT_EQ(msg.timestamp.text, "2024-06-01T14:00:07.456+02:00");
  ASSERT_TRUE(msg.edited);
  EXPECT_EQ(msg.pinned, true);
  EXPECT_EQ(msg.author_id, 469654673817862151u);
  ASSERT_TRUE(msg.attachments && msg.attachments->size() == 1);
  EXPECT_FALSE((*msg.attachments)[0].sha256);  // remote: a recorded gap
  EXPECT_EQ((*msg.attachments)[0].size, 48213);
  ASSERT_TRUE(msg.stickers && msg.stickers->size() == 1);
  EXPECT_EQ((*msg.stickers)[0].format, 3);
  ASSERT_TRUE(msg.reactions && msg.reactions->size() == 1);
  EXPECT_EQ((*msg.reactions)[0].emoji.id, 0u);
  EXPECT_EQ((*msg.reactions)[0].emoji.name, "👍");
  EXPECT_EQ((*msg.reactions)[0].user_ids, std::vector<Snowflake>{555676493414662151u});
  EXPECT_EQ((*msg.reactions)[0].extra["code"], "thumbsup");
  EXPECT_EQ(msg.mention_user_ids, std::vector<Snowflake>{555676493414662151u});
  ASSERT_TRUE(msg.reference);
  EXPECT_EQ(msg.reference->message_id, 1246433064247361543u);
  EXPECT_EQ(msg.content_format, "display");
  EXPECT_EQ(msg.extra["newField"]["x"], 1);
  EXPECT_FALSE(msg.extra.contains("callEndedTimestamp"));
  // Users: alice (author) and bob (reaction, mention) once each; roles and members.
  EXPECT_EQ(b.users.size(), 2u);
  ASSERT_EQ(b.roles.size(), 1u);
  EXPECT_EQ(b.roles[0].color, 0xE67E22u);
  EXPECT_EQ(b.roles[0].position, 3);
  bool alice_member = false;
  for (auto& mem : b.members)
    if (mem.user_id == 469654673817862151u) {
      alice_member = true;
      EXPECT_EQ(mem.nick, "Alice");
      EXPECT_EQ(mem.role_ids, std::vector<Snowflake>{973494602957062151u});
    }
  EXPECT_TRUE(alice_member);
  EXPECT_EQ(mapper.distinct_users(), 2);

  // The same author again: nothing new to write.
  Batch b2;
  simdjson::dom::parser mp2;
  ASSERT_TRUE(mapper.MapMessage(Parse(mp2, m), 200, 2, &b2, &warning));
  EXPECT_TRUE(b2.users.empty());
  EXPECT_TRUE(b2.members.empty());
  EXPECT_TRUE(b2.roles.empty());
}

TEST(DceMapper, MessageWithoutIdIsSkippedWithPosition) {
  simdjson::dom::parser p;
  simdjson::padded_string m(std::string(R"({"type": "Default", "content": "x"})"));
  Mapper mapper;
  FileContext ctx;
  ctx.file = "f.json";
  mapper.BeginFile(ctx);
  Batch b;
  std::string w;
  EXPECT_FALSE(mapper.MapMessage(Parse(p, m), 1234, 7, &b, &w));
  EXPECT_NE(w.find("f.json"), std::string::npos);
  EXPECT_NE(w.find("#7"), std::string::npos);
  EXPECT_NE(w.find("byte 1234"), std::string::npos);
  EXPECT_TRUE(b.messages.empty());
}

TEST(DceMapper, DirectMessagesHaveNoGuild) {
  simdjson::dom::parser gp, cp;
  simdjson::padded_string g(std::string(R"({"id": "0", "name": "Direct Messages", "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png"})"));
  simdjson::padded_string c(std::string(R"({"id": "1419421927080067072", "type": "DirectTextChat", "categoryId": null, "category": null, "name": "Bob", "topic": null})"));
  Mapper mapper;
  FileContext ctx;
  ctx.file = "dm.json";
  mapper.BeginFile(ctx);
  Batch b;
  std::string err;
  ASSERT_TRUE(mapper.MapHeader(Parse(gp, g), Parse(cp, c), &b, &err));
  EXPECT_TRUE(b.guilds.empty());
  ASSERT_EQ(b.channels.size(), 1u);
  EXPECT_EQ(b.channels[0].first.type, kDm);
  EXPECT_FALSE(b.channels[0].first.guild_id);
  EXPECT_EQ(b.channels[0].first.extra["dce_guild"]["name"], "Direct Messages");
}

}  // namespace
}  // namespace ferry::dce
