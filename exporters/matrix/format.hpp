// Discord message text -> Matrix `formatted_body` (org.matrix.custom.html).
//
// `body` always stays the Discord content byte for byte; this only produces the HTML twin. Handled: **bold**,
// *italic* / _italic_, __underline__, ~~strike~~, ||spoiler||, `code`, ```code blocks```, > and >>> quotes,
// # headings, -# subtext, - lists, [masked](links), bare links, <@user> / <@!user> mentions (as Matrix mention
// pills), <#channel> (a link to the room when exported), <@&role>, <:custom:emoji>, <t:unix:style> timestamps.
// Output uses only tags in the spec's recommended HTML subset.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/model.hpp"

namespace ferry::matrix {

struct MentionTarget {
  std::string matrix_id;  // "@discord_1:example.org" / "!room:example.org"; empty = not linkable
  std::string name;       // display text
};

struct FormatContext {
  std::function<std::optional<MentionTarget>(Snowflake)> user;
  std::function<std::optional<MentionTarget>(Snowflake)> channel;
  std::function<std::optional<std::string>(Snowflake)> role;
};

struct Formatted {
  std::string html;                       // empty when the text has no formatting worth sending
  std::vector<std::string> mentioned;     // Matrix user ids of mention pills, in order, unique
};

Formatted FormatDiscordMarkdown(const std::string& content, const FormatContext& ctx);

std::string HtmlEscape(const std::string& s);

}  // namespace ferry::matrix
