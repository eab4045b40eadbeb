// Discord markdown → HTML for the offline archive.
//
// Contract: the output is safe to place inside an HTML element whatever the input is. Every byte of the
// input reaches the output either HTML-escaped or as markup this renderer generated itself; links are only
// emitted for http(s) URLs, and no element that loads a resource (img) points anywhere but at what the
// MentionResolver returns (files inside the archive). Malformed UTF-8 is passed through escaped; the
// browser shows replacement characters.
//
// Covered: **bold**, *italics*/_italics_, __underline__, ~~strike~~, ||spoilers||, `code`, ```code blocks```,
// > quotes and >>> quotes, # headings, -# subtext, autolinks and [masked](https://…) links, <@user>,
// <@&role>, <#channel>, <:custom:emoji>, <t:unix:style> timestamps, @everyone/@here, backslash escapes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/model.hpp"

namespace ferry::html {

// Escapes & < > " ' for element content and attribute values.
std::string Escape(std::string_view s);
void AppendEscaped(std::string* out, std::string_view s);

// Resolves the ids inside mentions to what the reader should see. Implementations may cache.
class MentionResolver {
 public:
  virtual ~MentionResolver() = default;
  // Display name of a user; empty when unknown.
  virtual std::string UserName(Snowflake id) = 0;
  // Role name (empty when unknown) and its colour 0xRRGGBB (0 = none).
  virtual std::string RoleName(Snowflake id, std::uint32_t* color) = 0;
  // Channel name (empty when unknown) and the relative href of its first page (empty when not exported).
  virtual std::string ChannelName(Snowflake id, std::string* href) = 0;
  // Relative path of a custom emoji image inside the archive; empty when the archive has no copy.
  virtual std::string EmojiSrc(Snowflake id, bool animated) = 0;
};

// A resolver that knows nothing (unit tests, embeds rendered without context).
class NullResolver : public MentionResolver {
 public:
  std::string UserName(Snowflake) override { return {}; }
  std::string RoleName(Snowflake, std::uint32_t*) override { return {}; }
  std::string ChannelName(Snowflake, std::string*) override { return {}; }
  std::string EmojiSrc(Snowflake, bool) override { return {}; }
};

// Renders message content. `r` may be null (treated as NullResolver).
std::string RenderMarkdown(std::string_view text, MentionResolver* r);

// Formats a UTC time as "2024-06-01 12:00 UTC" (the no-JavaScript fallback the page script replaces with the
// reader's local time) and as the ISO form for <time datetime>.
std::string FormatUtcText(std::int64_t ms, bool seconds = false);
std::string FormatIso(std::int64_t ms);

// True when `url` is http(s) and contains no characters that could break out of an attribute.
bool IsSafeHttpUrl(std::string_view url);

}  // namespace ferry::html
