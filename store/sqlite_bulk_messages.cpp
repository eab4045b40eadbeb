// SqliteStore::UpsertMessages: an importer's batch of messages in a handful of statements.
//
// The messages that are new (most of any first import) go in with one INSERT … SELECT per table through
// ferry_rows (store/bulk_rows.hpp); the ones whose id is already stored (an overlapping export, the same
// message twice in a batch) then take UpsertMessageInTx's merge path one by one. The result is what calling
// UpsertMessage for each message in order gives: tests/unit/store/bulk_messages_test.cpp compares the two.
// The one thing order can change: an attachment id listed by two different messages (Discord never does;
// attachment ids are unique snowflakes) stays with whichever wrote it last, and merges come after the
// batch's new messages.
#include <string>
#include <unordered_set>
#include <vector>

#include "store/bulk_rows.hpp"
#include "store/sqlite_store.hpp"

namespace ferry {
namespace {

// Below this a batch is written row by row: the compat API's single messages gain nothing from the detour.
constexpr std::size_t kBulkMinimum = 8;

void ResultId(sqlite3_context* ctx, std::uint64_t v) { sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(v)); }
void ResultInt(sqlite3_context* ctx, std::int64_t v) { sqlite3_result_int64(ctx, v); }
// Text lives in the batch (or in vectors kept until the statement is done): no copy.
void ResultText(sqlite3_context* ctx, const std::string& s) {
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}
void ResultText(sqlite3_context* ctx, const std::optional<std::string>& s) {
  if (s) ResultText(ctx, *s);  // else NULL, the default
}
template <typename T>
void ResultOptInt(sqlite3_context* ctx, const std::optional<T>& v) {
  if (v) sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(*v));
}
void ResultOptBool(sqlite3_context* ctx, const std::optional<bool>& v) {
  if (v) sqlite3_result_int64(ctx, *v ? 1 : 0);
}

std::string ExtraText(const Json& extra) { return JsonText(extra.is_object() ? extra : Json::object()); }

}  // namespace

Status SqliteStore::UpsertMessages(const std::vector<Message>& ms, const Source& src) {
  if (ms.size() < kBulkMinimum) {
    for (const auto& m : ms) FERRY_RETURN_IF_ERROR(UpsertMessage(m, src));
    return Status::Ok();
  }
  return InTransaction([&] { return UpsertMessagesInTx(ms, src); });
}

Status SqliteStore::UpsertMessagesInTx(const std::vector<Message>& ms, const Source& src) {
  Status st;
  const std::size_t n = ms.size();
  std::vector<std::string> extras(n);
  for (std::size_t i = 0; i < n; ++i) extras[i] = ExtraText(ms[i].extra);

  // 1. Every message whose id is not stored yet; RETURNING says which went in.
  std::vector<std::int64_t> inserted_ids;
  inserted_ids.reserve(n);
  {
    BulkRows rows(n, [&](std::size_t r, int c, sqlite3_context* ctx) {
      const Message& m = ms[r];
      switch (c) {
        case 0: ResultId(ctx, m.id); break;
        case 1: ResultId(ctx, m.channel_id); break;
        case 2: ResultOptInt(ctx, m.author_id); break;
        case 3: ResultInt(ctx, m.type); break;
        case 4: ResultText(ctx, m.content); break;
        case 5: ResultInt(ctx, m.timestamp.ms); break;
        case 6: ResultText(ctx, m.timestamp.text); break;
        case 7: if (m.edited) ResultInt(ctx, m.edited->ms); break;
        case 8: if (m.edited) ResultText(ctx, m.edited->text); break;
        case 9: ResultOptBool(ctx, m.pinned); break;
        case 10: if (m.reference) ResultInt(ctx, m.reference->type); break;
        case 11: if (m.reference) ResultOptInt(ctx, m.reference->message_id); break;
        case 12: if (m.reference) ResultOptInt(ctx, m.reference->channel_id); break;
        case 13: if (m.reference) ResultOptInt(ctx, m.reference->guild_id); break;
        case 14: ResultOptBool(ctx, m.mention_everyone); break;
        case 15: ResultOptBool(ctx, m.tts); break;
        case 16: ResultInt(ctx, m.flags); break;
        case 17: ResultText(ctx, m.content_format); break;
        case 18: ResultInt(ctx, KnownCollections(m)); break;
        case 19: ResultInt(ctx, m.deleted ? 1 : 0); break;
        case 20: ResultText(ctx, extras[r]); break;
        case 21: ResultInt(ctx, src.run_id); break;
        case 22: ResultInt(ctx, src.source_time_ms); break;
        default: break;
      }
    });
    auto ins = Prepare(
        "INSERT INTO messages(id, channel_id, author_id, type, content, ts_ms, ts_text, edited_ms, edited_text, pinned,"
        " ref_type, ref_message_id, ref_channel_id, ref_guild_id, mention_everyone, tts, flags, content_format,"
        " collections, deleted, extra, source_run, source_ms)"
        " SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20, c21,"
        " c22 FROM ferry_rows(?1) WHERE true ON CONFLICT(id) DO NOTHING RETURNING id",
        &st);
    FERRY_RETURN_IF_ERROR(st);
    BindBulkRows(ins.raw(), 1, &rows);
    while (ins.Step(&st)) inserted_ids.push_back(ins.Int(0));
    FERRY_RETURN_IF_ERROR(st);
  }
  // Which of the batch's messages those rows are: the first occurrence of each id returned.
  std::vector<char> fresh(n, 0);
  if (inserted_ids.size() == n) {
    std::fill(fresh.begin(), fresh.end(), 1);
  } else {
    std::unordered_set<std::int64_t> left(inserted_ids.begin(), inserted_ids.end());
    for (std::size_t i = 0; i < n; ++i) fresh[i] = left.erase(static_cast<std::int64_t>(ms[i].id)) ? 1 : 0;
  }

  // 2. The new messages' search entries (the queue; the side build, when one runs).
  {
    std::vector<const Message*> queued;
    queued.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      if (fresh[i] && ms[i].content && !ms[i].content->empty()) queued.push_back(&ms[i]);
    BulkRows rows(queued.size(), [&](std::size_t r, int c, sqlite3_context* ctx) {
      if (c == 0) ResultId(ctx, queued[r]->id);
    });
    auto q = Prepare("INSERT OR IGNORE INTO fts_pending(id) SELECT c0 FROM ferry_rows(?1)", &st);
    FERRY_RETURN_IF_ERROR(st);
    BindBulkRows(q.raw(), 1, &rows);
    FERRY_RETURN_IF_ERROR(q.Run());
    if (side_)
      for (const Message* m : queued) side_->Add(static_cast<std::int64_t>(m->id), *m->content);
  }

  // 3. Their collections, a table at a time, in the batch's order.
  FERRY_RETURN_IF_ERROR(InsertNewCollections(ms, fresh));

  // 4. The rest merge with what is stored, one by one, as UpsertMessage would.
  for (std::size_t i = 0; i < n; ++i)
    if (!fresh[i]) FERRY_RETURN_IF_ERROR(UpsertMessageInTx(ms[i], src));
  return Status::Ok();
}

Status SqliteStore::InsertNewCollections(const std::vector<Message>& ms, const std::vector<char>& fresh) {
  Status st;
  // (message index, item index) of every item of one collection, for the fresh messages that have it.
  using Items = std::vector<std::pair<std::size_t, std::size_t>>;
  auto run = [&](const char* sql, const BulkRows& rows) -> Status {
    if (rows.size() == 0) return Status::Ok();
    Status s2;
    auto stmt = Prepare(sql, &s2);
    FERRY_RETURN_IF_ERROR(s2);
    BindBulkRows(stmt.raw(), 1, &rows);
    return stmt.Run();
  };
  const std::size_t n = ms.size();

  {  // attachments: fields merge per attachment id, as in WriteCollections
    Items items;
    std::vector<std::string> extras;
    for (std::size_t i = 0; i < n; ++i) {
      if (!fresh[i] || !ms[i].attachments) continue;
      for (std::size_t k = 0; k < ms[i].attachments->size(); ++k) {
        items.emplace_back(i, k);
        extras.push_back(ExtraText((*ms[i].attachments)[k].extra));
      }
    }
    BulkRows rows(items.size(), [&](std::size_t r, int c, sqlite3_context* ctx) {
      const Message& m = ms[items[r].first];
      const Attachment& a = (*m.attachments)[items[r].second];
      switch (c) {
        case 0: ResultId(ctx, a.id); break;
        case 1: ResultId(ctx, m.id); break;
        case 2: ResultInt(ctx, static_cast<std::int64_t>(items[r].second)); break;
        case 3: ResultText(ctx, a.filename); break;
        case 4: ResultOptInt(ctx, a.size); break;
        case 5: ResultText(ctx, a.url); break;
        case 6: ResultText(ctx, a.content_type); break;
        case 7: ResultOptInt(ctx, a.width); break;
        case 8: ResultOptInt(ctx, a.height); break;
        case 9: ResultText(ctx, a.sha256); break;
        case 10: ResultText(ctx, extras[r]); break;
        default: break;
      }
    });
    FERRY_RETURN_IF_ERROR(run(
        "INSERT INTO attachments(id, message_id, idx, filename, size, url, content_type, width, height, sha256, extra)"
        " SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10 FROM ferry_rows(?1) WHERE true"
        " ON CONFLICT(id) DO UPDATE SET message_id=excluded.message_id, idx=excluded.idx, filename=excluded.filename,"
        " size=coalesce(excluded.size,size), url=coalesce(excluded.url,url),"
        " content_type=coalesce(excluded.content_type,content_type), width=coalesce(excluded.width,width),"
        " height=coalesce(excluded.height,height), sha256=coalesce(excluded.sha256,sha256),"
        " extra=json_patch(extra, excluded.extra)",
        rows));
  }

  {  // embeds
    Items items;
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < n; ++i) {
      if (!fresh[i] || !ms[i].embeds) continue;
      for (std::size_t k = 0; k < ms[i].embeds->size(); ++k) {
        items.emplace_back(i, k);
        texts.push_back(JsonText((*ms[i].embeds)[k]));
      }
    }
    BulkRows rows(items.size(), [&](std::size_t r, int c, sqlite3_context* ctx) {
      switch (c) {
        case 0: ResultId(ctx, ms[items[r].first].id); break;
        case 1: ResultInt(ctx, static_cast<std::int64_t>(items[r].second)); break;
        case 2: ResultText(ctx, texts[r]); break;
        default: break;
      }
    });
    FERRY_RETURN_IF_ERROR(run("INSERT INTO embeds(message_id, idx, json) SELECT c0, c1, c2 FROM ferry_rows(?1)", rows));
  }

  {  // stickers
    Items items;
    for (std::size_t i = 0; i < n; ++i) {
      if (!fresh[i] || !ms[i].stickers) continue;
      for (std::size_t k = 0; k < ms[i].stickers->size(); ++k) items.emplace_back(i, k);
    }
    BulkRows rows(items.size(), [&](std::size_t r, int c, sqlite3_context* ctx) {
      const Message& m = ms[items[r].first];
      const Sticker& s = (*m.stickers)[items[r].second];
      switch (c) {
        case 0: ResultId(ctx, m.id); break;
        case 1: ResultInt(ctx, static_cast<std::int64_t>(items[r].second)); break;
        case 2: ResultId(ctx, s.id); break;
        case 3: ResultText(ctx, s.name); break;
        case 4: ResultInt(ctx, s.format); break;
        case 5: ResultText(ctx, s.url); break;
        case 6: ResultText(ctx, s.sha256); break;
        default: break;
      }
    });
    FERRY_RETURN_IF_ERROR(run(
        "INSERT INTO message_stickers(message_id, idx, sticker_id, name, format, url, sha256)"
        " SELECT c0, c1, c2, c3, c4, c5, c6 FROM ferry_rows(?1)",
        rows));
  }

  {  // reactions and who reacted (reaction_users keeps the listed order in its rowids)
    Items items;
    std::vector<std::string> keys, extras;
    struct Reactor {
      std::size_t reaction;  // index into items
      Snowflake user;
    };
    std::vector<Reactor> reactors;
    for (std::size_t i = 0; i < n; ++i) {
      if (!fresh[i] || !ms[i].reactions) continue;
      for (std::size_t k = 0; k < ms[i].reactions->size(); ++k) {
        const Reaction& r = (*ms[i].reactions)[k];
        items.emplace_back(i, k);
        keys.push_back(r.emoji.Key());
        extras.push_back(ExtraText(r.extra));
        for (Snowflake u : r.user_ids) reactors.push_back({items.size() - 1, u});
      }
    }
    BulkRows rows(items.size(), [&](std::size_t r, int c, sqlite3_context* ctx) {
      const Message& m = ms[items[r].first];
      const Reaction& x = (*m.reactions)[items[r].second];
      switch (c) {
        case 0: ResultId(ctx, m.id); break;
        case 1: ResultText(ctx, keys[r]); break;
        case 2: ResultInt(ctx, static_cast<std::int64_t>(items[r].second)); break;
        case 3: ResultId(ctx, x.emoji.id); break;
        case 4: ResultText(ctx, x.emoji.name); break;
        case 5: ResultInt(ctx, x.emoji.animated ? 1 : 0); break;
        case 6: ResultText(ctx, x.emoji.image_url); break;
        case 7: ResultText(ctx, x.emoji.sha256); break;
        case 8: ResultInt(ctx, x.count); break;
        case 9: ResultText(ctx, extras[r]); break;
        default: break;
      }
    });
    FERRY_RETURN_IF_ERROR(run(
        "INSERT OR REPLACE INTO reactions(message_id, emoji_key, idx, emoji_id, emoji_name, animated, image_url, sha256,"
        " count, extra) SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 FROM ferry_rows(?1)",
        rows));
    BulkRows users(reactors.size(), [&](std::size_t r, int c, sqlite3_context* ctx) {
      switch (c) {
        case 0: ResultId(ctx, ms[items[reactors[r].reaction].first].id); break;
        case 1: ResultText(ctx, keys[reactors[r].reaction]); break;
        case 2: ResultId(ctx, reactors[r].user); break;
        default: break;
      }
    });
    FERRY_RETURN_IF_ERROR(run(
        "INSERT OR IGNORE INTO reaction_users(message_id, emoji_key, user_id) SELECT c0, c1, c2 FROM ferry_rows(?1)",
        users));
  }

  {  // mentions: a message's users, then its roles
    struct Mention {
      std::size_t message;
      int kind;
      Snowflake target;
    };
    std::vector<Mention> items;
    for (std::size_t i = 0; i < n; ++i) {
      if (!fresh[i]) continue;
      if (ms[i].mention_user_ids)
        for (Snowflake u : *ms[i].mention_user_ids) items.push_back({i, 0, u});
      if (ms[i].mention_role_ids)
        for (Snowflake r : *ms[i].mention_role_ids) items.push_back({i, 1, r});
    }
    BulkRows rows(items.size(), [&](std::size_t r, int c, sqlite3_context* ctx) {
      switch (c) {
        case 0: ResultId(ctx, ms[items[r].message].id); break;
        case 1: ResultInt(ctx, items[r].kind); break;
        case 2: ResultId(ctx, items[r].target); break;
        default: break;
      }
    });
    FERRY_RETURN_IF_ERROR(run(
        "INSERT OR IGNORE INTO mentions(message_id, kind, target_id) SELECT c0, c1, c2 FROM ferry_rows(?1)", rows));
  }
  return Status::Ok();
}

}  // namespace ferry
