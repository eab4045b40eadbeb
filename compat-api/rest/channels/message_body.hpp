// Validation of message bodies (POST/PATCH /channels/{id}/messages) and of message paging parameters, as
// pure functions over JSON and query values so they are unit-testable without a server.
//
// Body rules (Discord's, with its error codes; every problem is added to `errors` under the field's path):
//  - content: string, at most Limits::max_content_chars Unicode characters (BASE_TYPE_MAX_LENGTH); valid UTF-8.
//  - embeds: null (= none, as Discord accepts) or an array of at most 10 objects; each embed's title <= 256,
//    description <= 4096, fields <= 25 (name <= 256, value <= 1024, both required), footer.text <= 2048,
//    author.name <= 256, and the characters of all embeds together <= 6000. The legacy `embed` object is
//    accepted as one embed.
//  - nonce: string of at most 25 characters or an integer; enforce_nonce: boolean.
//  - message_reference: object with message_id (snowflake), optional channel_id/guild_id, type 0 (reply) and
//    fail_if_not_exists; type 1 (forward) is refused (not supported here).
//  - allowed_mentions: parse ⊆ {users, roles, everyone}; users/roles arrays of at most 100 snowflakes, and not
//    together with the same kind in parse (Discord's rule); replied_user boolean.
//  - tts: boolean; flags: integer, only SUPPRESS_EMBEDS (4) and SUPPRESS_NOTIFICATIONS (4096) may be set.
//  - attachments: array of {id (index into files[N] for new ones, or the id of a kept attachment on edit),
//    filename?, description?}.
// Emptiness (no content, embeds, files or stickers → 50006) is checked by the handler, which knows the files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compat-api/context.hpp"
#include "compat-api/http/errors.hpp"
#include "store/model.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {

constexpr int kMessageFlagSuppressEmbeds = 1 << 2;
constexpr int kMessageFlagSuppressNotifications = 1 << 12;
constexpr int kMessageFlagHasThread = 1 << 5;

struct AllowedMentions {
  bool given = false;  // absent: everything in the content may ping (Discord's default)
  bool parse_users = false, parse_roles = false, parse_everyone = false;
  std::vector<Snowflake> users, roles;
  bool replied_user = false;  // only meaningful when given; absent means the replied-to author is mentioned
};

struct AttachmentSpec {
  std::string id;                      // as sent: "0" (index into files[N]) or a kept attachment's snowflake
  std::optional<std::string> filename;
  std::optional<std::string> description;
};

struct MessageBody {
  std::optional<std::string> content;
  std::optional<std::vector<Json>> embeds;  // set (possibly empty) when the body said "embeds" (or null)
  bool tts = false;
  std::optional<std::string> nonce;
  bool enforce_nonce = false;
  std::optional<MessageReference> reference;
  bool fail_if_not_exists = true;
  AllowedMentions allowed_mentions;
  std::optional<int> flags;
  std::optional<std::vector<AttachmentSpec>> attachments;
  std::vector<Snowflake> sticker_ids;
};

// Validates a create (is_edit false) or edit body. Unknown keys are ignored, as Discord does.
MessageBody ParseMessageBody(const Json& body, bool is_edit, const Limits& limits, http::FormErrors& errors);

// Mentions written in content: <@id>, <@!id>, <@&id>, @everyone, @here (not inside code is not checked,
// like Discord, which also parses mentions inside code blocks).
struct ContentMentions {
  std::vector<Snowflake> users;
  std::vector<Snowflake> roles;
  bool everyone = false;  // @everyone or @here
};
ContentMentions ScanMentions(std::string_view content);

// Applies allowed_mentions to what the content mentions: the ids that really ping.
ContentMentions FilterMentions(const ContentMentions& found, const AllowedMentions& allowed);

// GET /channels/{id}/messages query: limit 1..100 (default 50), at most one of before/after/around
// (Discord uses the first it finds in that order of precedence: around, before, after).
MessageQuery ParseMessagePaging(const std::vector<std::pair<std::string, std::string>>& query, Snowflake channel_id,
                                http::FormErrors& errors);

// A reaction emoji from the path: "name:id" / "a:name:id" (custom) or a Unicode emoji (already
// percent-decoded by the router). nullopt when it is neither (→ 10014 Unknown Emoji).
std::optional<Emoji> ParseReactionEmoji(std::string_view s);

// Width/height of PNG, GIF, JPEG and WebP images from their first bytes; nullopt for anything else.
std::optional<std::pair<int, int>> ImageSize(std::string_view bytes);

// Content type from a file name's extension (uploads sent as application/octet-stream by discord.py).
std::string GuessContentType(std::string_view filename, std::string_view sent);

}  // namespace ferry::compat::rest
