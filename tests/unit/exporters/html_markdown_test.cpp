#include <gtest/gtest.h>

#include "exporters/dce/dce_exporter.hpp"
#include "exporters/html/markdown.hpp"
#include "exporters/html/search_index.hpp"

namespace ferry::html {
namespace {

class FakeResolver : public MentionResolver {
 public:
  std::string UserName(Snowflake id) override { return id == 1 ? "Al<ice>" : ""; }
  std::string RoleName(Snowflake id, std::uint32_t* c) override {
    *c = 0xE67E22;
    return id == 2 ? "Mods" : "";
  }
  std::string ChannelName(Snowflake id, std::string* href) override {
    if (id != 3) return "";
    *href = "channel-3-p1.html";
    return "general";
  }
  std::string EmojiSrc(Snowflake id, bool) override { return id == 4 ? "emoji/4.png" : ""; }
};

TEST(HtmlMarkdown, EscapesEverythingHostile) {
  const char* hostile[] = {
      "<script>alert(1)</script>",
      "<img src=x onerror=alert(1)>",
      "[x](javascript:alert(1))",
      "[x](https://e.com\" onmouseover=\"alert(1))",
      "**<b>bold</b>**",
      "`<code>` ```<pre>```",
      "||<svg onload=alert(1)>||",
      "> <iframe src=//evil>",
      "https://e.com/\"><script>alert(1)</script>",
      "<t:1700000000:R\"><script>>",
      "<:x\" onerror=\"alert(1):4>",
      "\\<script>",
  };
  for (const char* h : hostile) {
    std::string out = RenderMarkdown(h, nullptr);
    EXPECT_EQ(out.find("<script"), std::string::npos) << h << " -> " << out;
    EXPECT_EQ(out.find("<img src=x"), std::string::npos) << h << " -> " << out;
    EXPECT_EQ(out.find("<iframe"), std::string::npos) << h << " -> " << out;
    EXPECT_EQ(out.find("<svg"), std::string::npos) << h << " -> " << out;
    EXPECT_EQ(out.find("href=\"javascript"), std::string::npos) << out;
    EXPECT_EQ(out.find("\" onmouseover"), std::string::npos) << out;
  }
}

TEST(HtmlMarkdown, RendersDiscordMarkdown) {
  FakeResolver r;
  EXPECT_EQ(RenderMarkdown("**b** *i* __u__ ~~s~~", &r), "<strong>b</strong> <em>i</em> <u>u</u> <s>s</s>");
  EXPECT_EQ(RenderMarkdown("snake_case_name", &r), "snake_case_name");
  EXPECT_NE(RenderMarkdown("||secret||", &r).find("class=\"spoiler\""), std::string::npos);
  EXPECT_EQ(RenderMarkdown("`a<b`", &r), "<code>a&lt;b</code>");
  EXPECT_EQ(RenderMarkdown("```cpp\nint x<3;\n```", &r), "<pre class=\"codeblock\"><code data-lang=\"cpp\">int x&lt;3;</code></pre>");
  EXPECT_EQ(RenderMarkdown("> quoted\nplain", &r), "<blockquote>quoted</blockquote>plain");
  EXPECT_EQ(RenderMarkdown("<@1>", &r), "<span class=\"mention\" title=\"1\">@Al&lt;ice&gt;</span>");
  EXPECT_EQ(RenderMarkdown("<@!9>", &r), "<span class=\"mention\" title=\"9\">@Unknown</span>");
  EXPECT_EQ(RenderMarkdown("<@&2>", &r), "<span class=\"mention\" style=\"color:#e67e22\">@Mods</span>");
  EXPECT_EQ(RenderMarkdown("<#3>", &r), "<a class=\"mention\" href=\"channel-3-p1.html\">#general</a>");
  EXPECT_EQ(RenderMarkdown("<:blob:4>", &r), "<img class=\"emoji\" src=\"emoji/4.png\" alt=\":blob:\" title=\":blob:\">");
  EXPECT_EQ(RenderMarkdown("<a:gone:5>", &r), "<span class=\"emoji-text\">:gone:</span>");
  EXPECT_EQ(RenderMarkdown("<t:1717243200:d>", &r),
            "<time class=\"ts\" data-style=\"d\" datetime=\"2024-06-01T12:00:00.000Z\">2024-06-01 12:00 UTC</time>");
  EXPECT_EQ(RenderMarkdown("see https://example.com/a_(b).", &r),
            "see <a href=\"https://example.com/a_(b)\" rel=\"noopener noreferrer nofollow\">https://example.com/a_(b)</a>.");
  EXPECT_EQ(RenderMarkdown("a\nb", &r), "a<br>b");
  EXPECT_EQ(RenderMarkdown("\\*not italic\\*", &r), "*not italic*");
}

TEST(HtmlMarkdown, DeepNestingStaysBounded) {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "**||~~";
  s += "x";
  std::string out = RenderMarkdown(s, nullptr);
  EXPECT_FALSE(out.empty());
  std::string big(200000, '*');
  EXPECT_EQ(RenderMarkdown(big, nullptr), big);
}

TEST(HtmlSearch, TokensMatchTheScriptsRules) {
  auto t = SearchTokens("Hello, WORLD! héllo Über “quoted” 👍emoji a x1 ПРИВЕТ");
  std::vector<std::string> want = {"emoji", "hello", "héllo", "quoted", "world", "x1", "über", "привет"};
  EXPECT_EQ(t, want);
  EXPECT_EQ(SearchHash("hello"), 0x4f9f2cabu);  // FNV-1a 32
}

}  // namespace
}  // namespace ferry::html

namespace ferry::dce_export {
namespace {

TEST(DceExport, NamesFollowDce) {
  EXPECT_EQ(DceFileName("Example Guild", "Text Channels", "general", 794762915348742153ULL),
            "Example Guild - Text Channels - general [794762915348742153].json");
  EXPECT_EQ(DceFileName("Direct Messages", "", "Bob", 5), "Direct Messages - Bob [5].json");
  EXPECT_EQ(DceFileName("A/B", "c:d", "e*f?\"<>|", 1), "A_B - c_d - e_f_____ [1].json");
  EXPECT_EQ(DceChannelType(11), "GuildPublicThread");
  EXPECT_EQ(DceChannelType(16), "16");
  EXPECT_EQ(DceMessageType(19), "Reply");
  EXPECT_EQ(DceMessageType(20), "20");
  std::string n = DceMediaName("https://cdn.discordapp.com/attachments/1/2/cat.png?ex=1");
  EXPECT_EQ(n.substr(0, 4), "cat-");
  EXPECT_EQ(n.size(), 4 + 16 + 4u);
  EXPECT_EQ(n.substr(n.size() - 4), ".png");
}

}  // namespace
}  // namespace ferry::dce_export
