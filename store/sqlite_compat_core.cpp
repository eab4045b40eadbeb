// Store lookups the compat API's CDN and id generator need (declared in store.hpp / sqlite_store.hpp).
#include "store/sqlite_store.hpp"

namespace ferry {

Status SqliteStore::FindAttachment(Snowflake attachment_id, Attachment* out, Snowflake* message_id,
                                   Snowflake* channel_id) {
  Status st;
  auto s = Prepare(
      "SELECT a.id, a.filename, a.size, a.url, a.content_type, a.width, a.height, a.sha256, a.extra, "
      "a.message_id, m.channel_id FROM attachments a JOIN messages m ON m.id = a.message_id "
      "WHERE a.id = ? AND m.deleted = 0",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, attachment_id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown attachment " + std::to_string(attachment_id)) : st;
  Attachment a;
  a.id = s.Id(0);
  a.filename = s.Text(1);
  a.size = s.OptInt(2);
  a.url = s.OptText(3);
  a.content_type = s.OptText(4);
  if (auto w = s.OptInt(5)) a.width = static_cast<int>(*w);
  if (auto h = s.OptInt(6)) a.height = static_cast<int>(*h);
  a.sha256 = s.OptText(7);
  a.extra = Json::parse(s.Text(8), nullptr, false);
  if (a.extra.is_discarded()) a.extra = Json::object();
  *out = std::move(a);
  if (message_id) *message_id = s.Id(9);
  if (channel_id) *channel_id = s.Id(10);
  return Status::Ok();
}

Status SqliteStore::FindEmoji(Snowflake emoji_id, Emoji* out) {
  Status st;
  auto s = Prepare(
      "SELECT emoji_id, emoji_name, animated, image_url, sha256 FROM reactions WHERE emoji_id = ? "
      "ORDER BY sha256 IS NULL LIMIT 1",
      &st);
  FERRY_RETURN_IF_ERROR(st);
  s.BindId(1, emoji_id);
  if (!s.Step(&st)) return st.ok() ? Status::NotFound("unknown emoji " + std::to_string(emoji_id)) : st;
  Emoji e;
  e.id = s.Id(0);
  e.name = s.Text(1);
  e.animated = s.Int(2) != 0;
  e.image_url = s.OptText(3);
  e.sha256 = s.OptText(4);
  *out = std::move(e);
  return Status::Ok();
}

Status SqliteStore::MaxSnowflake(Snowflake* out) {
  *out = 0;
  // Each MAX() reads one end of a primary-key b-tree; ids above 2^63 (stored negative) are not real snowflakes.
  for (const char* sql : {"SELECT MAX(id) FROM messages", "SELECT MAX(id) FROM channels", "SELECT MAX(id) FROM users",
                          "SELECT MAX(id) FROM guilds", "SELECT MAX(id) FROM roles", "SELECT MAX(id) FROM attachments"}) {
    Status st;
    auto s = Prepare(sql, &st);
    FERRY_RETURN_IF_ERROR(st);
    if (s.Step(&st) && !s.IsNull(0) && s.Int(0) > 0) *out = std::max<Snowflake>(*out, s.Id(0));
    FERRY_RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

}  // namespace ferry
