#include "exporters/matrix/format.hpp"

#include <gtest/gtest.h>

#include "exporters/matrix/exporter.hpp"

namespace ferry::matrix {
namespace {

FormatContext Ctx() {
  FormatContext c;
  c.user = [](Snowflake id) -> std::optional<MentionTarget> {
    return MentionTarget{"@discord_" + std::to_string(id) + ":example.org", id == 1 ? "Alice <3" : "User"};
  };
  c.channel = [](Snowflake id) -> std::optional<MentionTarget> {
    if (id == 10) return MentionTarget{"!room:example.org", "general"};
    if (id == 11) return MentionTarget{"", "not-exported"};
    return std::nullopt;
  };
  c.role = [](Snowflake id) -> std::optional<std::string> { return id == 5 ? std::optional<std::string>("Mods") : std::nullopt; };
  return c;
}

TEST(MatrixFormat, PlainTextNeedsNoHtml) {
  Formatted f = FormatDiscordMarkdown("just words\nand a second line", Ctx());
  EXPECT_EQ(f.html, "");
  EXPECT_TRUE(f.mentioned.empty());
}

TEST(MatrixFormat, InlineMarkdown) {
  Formatted f = FormatDiscordMarkdown("**b** *i* __u__ ~~s~~ ||spoil|| `a*b*` snake_case_name <x>", Ctx());
  EXPECT_EQ(f.html,
            "<strong>b</strong> <em>i</em> <u>u</u> <del>s</del> <span data-mx-spoiler>spoil</span> "
            "<code>a*b*</code> snake_case_name &lt;x&gt;");
}

TEST(MatrixFormat, MentionPillsAndChannels) {
  Formatted f = FormatDiscordMarkdown("hey <@1> and <@!2>, see <#10> / <#11> / <#12>, ping <@&5>", Ctx());
  EXPECT_EQ(f.html,
            "hey <a href=\"https://matrix.to/#/@discord_1:example.org\">Alice &lt;3</a> and "
            "<a href=\"https://matrix.to/#/@discord_2:example.org\">User</a>, see "
            "<a href=\"https://matrix.to/#/!room:example.org\">#general</a> / #not-exported / #12, ping "
            "<strong>@Mods</strong>");
  ASSERT_EQ(f.mentioned.size(), 2u);
  EXPECT_EQ(f.mentioned[0], "@discord_1:example.org");
}

TEST(MatrixFormat, BlocksCodeQuotesLists) {
  Formatted f = FormatDiscordMarkdown("# Title\n> quoted **x**\n> more\n- one\n- two\n```cpp\nint a<b;\n```\nafter", Ctx());
  EXPECT_EQ(f.html,
            "<h1>Title</h1><blockquote>quoted <strong>x</strong><br>more</blockquote><ul><li>one</li><li>two</li></ul>"
            "<pre><code class=\"language-cpp\">int a&lt;b;\n</code></pre>after");
}

TEST(MatrixFormat, LinksEmojiTimestamps) {
  Formatted f = FormatDiscordMarkdown(
      "[docs](https://example.com/a_(b)) https://x.org/p?q=1. <https://noembed.io> <:blob:123> <t:1577836800:R>", Ctx());
  EXPECT_EQ(f.html,
            "<a href=\"https://example.com/a_(b)\">docs</a> <a href=\"https://x.org/p?q=1\">https://x.org/p?q=1</a>. "
            "<a href=\"https://noembed.io\">https://noembed.io</a> :blob: 2020-01-01 00:00 UTC");
}

TEST(MatrixFormat, EscapesAndUnclosedMarkers) {
  Formatted f = FormatDiscordMarkdown("\\*not italic\\* and **unclosed and a ` tick & \"q\"", Ctx());
  EXPECT_EQ(f.html, "*not italic* and **unclosed and a ` tick &amp; &quot;q&quot;");
}

TEST(MatrixFormat, DeepNestingIsBounded) {
  std::string s;
  for (int i = 0; i < 200; ++i) s += "**~~";
  s += "x";
  for (int i = 0; i < 200; ++i) s += "~~**";
  Formatted f = FormatDiscordMarkdown(s, Ctx());
  EXPECT_FALSE(f.html.empty());
}

TEST(MatrixTxn, StableAndDistinctPerEvent) {
  EXPECT_EQ(TxnId("m", 1246433064247361543ULL), "ferry.m.1246433064247361543");
  EXPECT_EQ(TxnId("a", 5, "7"), "ferry.a.5.7");
  EXPECT_NE(TxnId("m", 5), TxnId("e", 5));
}

}  // namespace
}  // namespace ferry::matrix
