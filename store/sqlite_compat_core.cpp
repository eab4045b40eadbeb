// Store lookups the compat API's CDN and id generator need (declared in store.hpp / sqlite_store.hpp).
#include "store/sqlite_store.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>

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

// ---- read path of the compat API's message pages ---------------------------------------------------------

namespace {

// The ids of a page as the JSON array json_each() reads: one bound parameter whatever the page size, so
// each statement below is prepared once.
std::string IdArray(const std::vector<Message>& msgs) {
  std::string a = "[";
  for (const auto& m : msgs) {
    if (a.size() > 1) a.push_back(',');
    a += std::to_string(static_cast<std::int64_t>(m.id));
  }
  a.push_back(']');
  return a;
}

}  // namespace

Status SqliteStore::LoadMessageCollectionsBatch(std::vector<Message>* msgs) {
  if (msgs->empty()) return Status::Ok();
  if (msgs->size() == 1) return LoadMessageCollections(&msgs->front());
  std::unordered_map<Snowflake, Message*> by_id;
  by_id.reserve(msgs->size());
  for (auto& m : *msgs) by_id[m.id] = &m;
  const std::string ids = IdArray(*msgs);
  auto find = [&](Snowflake id) -> Message* {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : it->second;
  };
  Status st;
  {
    auto s = Prepare(
        "SELECT message_id, id, filename, size, url, content_type, width, height, sha256, extra FROM attachments"
        " WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY message_id, idx",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    s.Bind(1, ids);
    while (s.Step(&st)) {
      Message* m = find(s.Id(0));
      if (!m) continue;
      if (!m->attachments) m->attachments.emplace();
      m->attachments->push_back(AttachmentFromRow(s, 1));
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  {
    auto s = Prepare(
        "SELECT message_id, json FROM embeds WHERE message_id IN (SELECT value FROM json_each(?1))"
        " ORDER BY message_id, idx",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    s.Bind(1, ids);
    while (s.Step(&st)) {
      Message* m = find(s.Id(0));
      if (!m) continue;
      if (!m->embeds) m->embeds.emplace();
      Json e = Json::parse(s.Text(1), nullptr, false);
      m->embeds->push_back(e.is_discarded() ? Json::object() : std::move(e));
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  {
    auto s = Prepare(
        "SELECT message_id, sticker_id, name, format, url, sha256 FROM message_stickers"
        " WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY message_id, idx",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    s.Bind(1, ids);
    while (s.Step(&st)) {
      Message* m = find(s.Id(0));
      if (!m) continue;
      if (!m->stickers) m->stickers.emplace();
      m->stickers->push_back(StickerFromRow(s, 1));
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  {
    // (message, emoji_key) -> index of that reaction in the message's list, for the reactor rows below.
    std::map<std::pair<Snowflake, std::string>, std::size_t> reaction_at;
    auto s = Prepare(
        "SELECT message_id, emoji_key, emoji_id, emoji_name, animated, image_url, sha256, count, extra FROM reactions"
        " WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY message_id, idx",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    s.Bind(1, ids);
    while (s.Step(&st)) {
      Message* m = find(s.Id(0));
      if (!m) continue;
      if (!m->reactions) m->reactions.emplace();
      reaction_at[{m->id, s.Text(1)}] = m->reactions->size();
      m->reactions->push_back(ReactionFromRow(s, 2));
    }
    FERRY_RETURN_IF_ERROR(st);
    if (!reaction_at.empty()) {
      // rowid order is the order the source listed the reactors in (as LoadMessageCollections reads them).
      auto u = Prepare(
          "SELECT message_id, emoji_key, user_id FROM reaction_users"
          " WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY rowid",
          &st);
      FERRY_RETURN_IF_ERROR(st);
      u.Bind(1, ids);
      while (u.Step(&st)) {
        auto it = reaction_at.find({u.Id(0), u.Text(1)});
        if (it == reaction_at.end()) continue;
        (*find(u.Id(0))->reactions)[it->second].user_ids.push_back(u.Id(2));
      }
      FERRY_RETURN_IF_ERROR(st);
    }
  }
  {
    auto s = Prepare(
        "SELECT message_id, kind, target_id FROM mentions WHERE message_id IN (SELECT value FROM json_each(?1))"
        " ORDER BY rowid",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    s.Bind(1, ids);
    while (s.Step(&st)) {
      Message* m = find(s.Id(0));
      if (!m) continue;
      auto& list = s.Int(1) == 0 ? m->mention_user_ids : m->mention_role_ids;
      if (!list) list.emplace();
      list->push_back(s.Id(2));
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

Status SqliteStore::ListMessageIds(const MessageQuery& q, std::vector<Snowflake>* out) {
  out->clear();
  const int limit = std::max(1, q.limit);
  // The same pages as ListMessages; the (channel_id, id) index answers them without reading message rows
  // beyond the deleted flag.
  static const std::string kBase = "SELECT m.id FROM messages m WHERE m.channel_id=?1";
  static const std::string kLive = kBase + " AND m.deleted=0";
  const std::string& base = q.include_deleted ? kBase : kLive;
  auto collect = [&](const std::string& tail, std::uint64_t anchor, int n) -> Status {
    Status st;
    std::string sql = base + tail;
    auto s = Prepare(sql.c_str(), &st);
    FERRY_RETURN_IF_ERROR(st);
    s.BindId(1, q.channel_id).BindId(2, anchor).Bind(3, std::int64_t(n));
    while (s.Step(&st)) out->push_back(s.Id(0));
    return st;
  };
  FERRY_RETURN_IF_ERROR(BeginRead());
  struct EndOnReturn {
    SqliteStore* s;
    ~EndOnReturn() { s->EndRead(); }
  } end_read{this};
  if (q.around) {
    int newer = limit - limit / 2, older = limit / 2;
    FERRY_RETURN_IF_ERROR(collect(" AND m.id>=?2 ORDER BY m.id ASC LIMIT ?3", *q.around, newer));
    FERRY_RETURN_IF_ERROR(collect(" AND m.id<?2 ORDER BY m.id DESC LIMIT ?3", *q.around, older));
  } else if (q.after) {
    FERRY_RETURN_IF_ERROR(collect(" AND m.id>?2 ORDER BY m.id ASC LIMIT ?3", *q.after, limit));
  } else if (q.before) {
    FERRY_RETURN_IF_ERROR(collect(" AND m.id<?2 ORDER BY m.id DESC LIMIT ?3", *q.before, limit));
  } else {
    FERRY_RETURN_IF_ERROR(collect(" AND ?2=?2 ORDER BY m.id DESC LIMIT ?3", 0, limit));
  }
  std::sort(out->begin(), out->end(), std::greater<Snowflake>());
  return Status::Ok();
}

Status SqliteStore::GetMessages(const std::vector<Snowflake>& ids, std::vector<Message>* out) {
  out->clear();
  if (ids.empty()) return Status::Ok();
  static const std::string sql = std::string("SELECT ") + kMessageColumns +
                                 " FROM messages m LEFT JOIN channels c ON c.id=m.channel_id"
                                 " WHERE m.id IN (SELECT value FROM json_each(?1)) AND m.deleted=0";
  std::string array = "[";
  for (Snowflake id : ids) {
    if (array.size() > 1) array.push_back(',');
    array += std::to_string(static_cast<std::int64_t>(id));
  }
  array.push_back(']');
  FERRY_RETURN_IF_ERROR(BeginRead());
  struct EndOnReturn {
    SqliteStore* s;
    ~EndOnReturn() { s->EndRead(); }
  } end_read{this};
  std::vector<Message> found;
  {
    Status st;
    auto s = Prepare(sql.c_str(), &st);
    FERRY_RETURN_IF_ERROR(st);
    s.Bind(1, array);
    while (s.Step(&st)) {
      found.emplace_back();
      LoadMessageRow(s, &found.back());
    }
    FERRY_RETURN_IF_ERROR(st);
  }
  FERRY_RETURN_IF_ERROR(LoadMessageCollectionsBatch(&found));
  std::unordered_map<Snowflake, std::size_t> at;
  for (std::size_t i = 0; i < found.size(); ++i) at[found[i].id] = i;
  for (Snowflake id : ids) {
    auto it = at.find(id);
    if (it == at.end()) continue;
    out->push_back(std::move(found[it->second]));
    at.erase(it);  // an id given twice is returned once
  }
  return Status::Ok();
}

Status SqliteStore::BeginRead() {
  // Nests: only the outermost call opens the transaction, only the matching EndRead() closes it. Inside a
  // write transaction there is nothing to open (the writer already reads its own snapshot).
  if (read_depth_++ > 0) return Status::Ok();
  if (in_tx_ || !sqlite3_get_autocommit(db_)) return Status::Ok();
  Status st = ExecCached("BEGIN");
  if (!st.ok()) {
    --read_depth_;
    return st;
  }
  read_tx_ = true;
  return Status::Ok();
}

void SqliteStore::EndRead() {
  if (read_depth_ == 0 || --read_depth_ > 0) return;
  if (!read_tx_) return;
  read_tx_ = false;
  ExecCached("COMMIT");
}

std::uint64_t SqliteStore::ChangeCounter() {
  Status st;
  std::int64_t data_version = 0;
  {
    auto s = Prepare("PRAGMA data_version", &st);
    if (st.ok() && s.Step(&st)) data_version = s.Int(0);
  }
  if (!st.ok()) return ++change_counter_;  // cannot tell: report a change, caches then start over
  const std::int64_t local = sqlite3_total_changes64(db_);
  if (data_version != seen_data_version_ || local != seen_local_changes_) {
    seen_data_version_ = data_version;
    seen_local_changes_ = local;
    ++change_counter_;
  }
  return change_counter_;
}

}  // namespace ferry
