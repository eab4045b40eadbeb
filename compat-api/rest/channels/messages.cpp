// /channels/{channel_id}/messages: list (Discord's paging), get one, create (JSON or multipart with files),
// edit, delete, bulk-delete. Imported messages are served exactly as stored; writes go to the store, then to
// the gateway through the dispatch builders.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/objects.hpp"
#include "compat-api/rest/channels/message_body.hpp"
#include "compat-api/rest/common.hpp"
#include "compat-api/render_cache.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {
namespace {

using http::ApiError;
using http::FormErrors;
using http::Request;
using http::Response;

constexpr std::int64_t kNonceWindowMs = 5 * 60 * 1000;  // how long enforce_nonce remembers a nonce
constexpr std::size_t kNonceMemory = 20000;             // bound on remembered nonces
constexpr std::int64_t kBulkDeleteMaxAgeMs = 14LL * 24 * 3600 * 1000;

// enforce_nonce: a retried POST with the same nonce from the same author in the same channel returns the
// message created the first time instead of a duplicate. Lives only in memory (the server thread's).
struct NonceEntry {
  Snowflake message_id;
  std::int64_t at_ms;
};
std::unordered_map<std::string, NonceEntry>& Nonces() {
  static std::unordered_map<std::string, NonceEntry> m;
  return m;
}
std::string NonceKey(Snowflake channel, Snowflake author, const std::string& nonce) {
  return std::to_string(channel) + ":" + std::to_string(author) + ":" + nonce;
}
void RememberNonce(const std::string& key, Snowflake id, std::int64_t now) {
  auto& m = Nonces();
  if (m.size() >= kNonceMemory) {
    for (auto it = m.begin(); it != m.end();) it = now - it->second.at_ms > kNonceWindowMs ? m.erase(it) : std::next(it);
    if (m.size() >= kNonceMemory) m.clear();  // a flood of distinct nonces: forgetting is safe, only dedupe is lost
  }
  m[key] = {id, now};
}

void RequireTextChannel(const Channel& c) {
  switch (c.type) {
    case kGuildText: case kDm: case kGuildVoice: case kGroupDm: case kGuildAnnouncement:
    case kAnnouncementThread: case kPublicThread: case kPrivateThread: case kGuildStageVoice:
      return;
    default:
      throw ApiError(400, 50008, "Cannot send messages in a non-text channel");
  }
}

Json RenderMessage(ServerContext& ctx, const Request& req, const Message& m) {
  objects::MessageOptions o;
  o.viewer_id = req.user.id;
  return objects::MessageJson(ctx, m, o);
}

// The file parts of a multipart body, by the index clients use in attachments[].id ("files[3]" → "3").
std::vector<std::pair<std::string, const http::MultipartPart*>> FileParts(const Request& req) {
  std::vector<std::pair<std::string, const http::MultipartPart*>> out;
  int next_plain = 0;
  for (const auto& p : req.parts) {
    if (p.name == "payload_json") continue;
    std::string index;
    if (p.name.rfind("files[", 0) == 0 && p.name.size() > 7 && p.name.back() == ']') {
      index = p.name.substr(6, p.name.size() - 7);
    } else if (p.name.rfind("file", 0) == 0 && !p.filename.empty()) {
      index = p.name.size() > 4 ? p.name.substr(4) : std::to_string(next_plain);  // legacy "file", "file1"
      ++next_plain;
    } else {
      continue;
    }
    if (index.empty() || !std::all_of(index.begin(), index.end(), ::isdigit)) continue;
    out.emplace_back(std::to_string(std::stoull(index.substr(0, 18))), &p);
  }
  return out;
}

// Multipart bodies without payload_json carry the fields as form parts (content, nonce, tts, ...).
Json BodyOf(Request& req) {
  if (req.parts.empty() || req.Part("payload_json")) return JsonObjectBody(req);
  Json body = Json::object();
  for (const char* key : {"content", "nonce"})
    if (const auto* p = req.Part(key)) body[key] = p->data;
  if (const auto* p = req.Part("tts")) body["tts"] = p->data == "true";
  return body;
}

// Turns uploaded files into stored attachments (bytes into the blob store).
std::vector<Attachment> StoreUploads(ServerContext& ctx, const Request& req, const MessageBody& mb,
                                     std::vector<std::string>* used_indexes) {
  std::vector<Attachment> out;
  for (const auto& [index, part] : FileParts(req)) {
    if (part->data.size() > ctx.limits.max_upload_bytes) throw ApiError(http::PayloadTooLarge());
    Attachment a;
    a.id = ctx.ids.Next();
    a.filename = part->filename.empty() ? "unknown" : part->filename;
    if (mb.attachments)
      for (const auto& spec : *mb.attachments)
        if (spec.id == index) {
          if (spec.filename) a.filename = *spec.filename;
          if (spec.description) a.extra["description"] = *spec.description;
        }
    // A path in a filename would turn into path segments of the CDN URL.
    for (char& c : a.filename)
      if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
    a.size = static_cast<std::int64_t>(part->data.size());
    a.content_type = GuessContentType(a.filename, part->content_type);
    if (auto wh = ImageSize(part->data)) {
      a.width = wh->first;
      a.height = wh->second;
    }
    std::string sha;
    Status st = ctx.store.PutBlobBytes(part->data, &sha);
    if (!st.ok()) ThrowStoreError(st, "storing an uploaded file");
    a.sha256 = sha;
    out.push_back(std::move(a));
    used_indexes->push_back(index);
  }
  if (out.size() > ctx.limits.max_attachments_per_message)
    http::ThrowFormError("files", "BASE_TYPE_MAX_LENGTH",
                         "Must be " + std::to_string(ctx.limits.max_attachments_per_message) + " or fewer in length.");
  return out;
}

// Mentions that really ping: present in the content, allowed by allowed_mentions, existing users / roles of
// this guild, @everyone only with MENTION_EVERYONE.
void ResolveMentions(ServerContext& ctx, const Channel& channel, const MessageBody& mb, Permissions perms,
                     const std::optional<Message>& replied_to, Message* m) {
  ContentMentions found = FilterMentions(ScanMentions(m->content.value_or("")), mb.allowed_mentions);
  std::vector<Snowflake> users;
  for (Snowflake u : found.users) {
    User user;
    if (ctx.store.GetUser(u, &user).ok()) users.push_back(u);
  }
  if (replied_to && replied_to->author_id && (!mb.allowed_mentions.given || mb.allowed_mentions.replied_user) &&
      std::find(users.begin(), users.end(), *replied_to->author_id) == users.end())
    users.push_back(*replied_to->author_id);
  std::vector<Snowflake> roles;
  if (channel.guild_id) {
    for (Snowflake r : found.roles) {
      Role role;
      if (ctx.store.GetRole(r, &role).ok() && role.guild_id == *channel.guild_id && r != *channel.guild_id)
        roles.push_back(r);
    }
  }
  m->mention_user_ids = users;
  m->mention_role_ids = roles;
  m->mention_everyone = found.everyone && (perms & perm::kMentionEveryone) && channel.guild_id;
}

void CheckNotLocked(ServerContext& ctx, Channel& channel, Permissions perms) {
  if (!IsThreadType(channel.type)) return;
  if (channel.locked.value_or(false) && !(perms & perm::kManageThreads)) throw ApiError(400, 50083, "Thread is locked");
  if (channel.archived.value_or(false)) {
    // Posting in an archived (unlocked) thread unarchives it, as on Discord.
    channel.archived = false;
    channel.extra["archive_timestamp_ms"] = ctx.NowMs();
    Status st = ctx.store.UpsertChannel(channel, ApiSource(ctx));
    if (!st.ok()) ThrowStoreError(st, "unarchiving a thread");
    dispatch::ThreadUpdate(ctx, channel);
  }
}

// Posting in a thread makes the author a member of it, as on Discord.
void JoinThreadOnPost(ServerContext& ctx, const Channel& thread, Snowflake user_id, std::int64_t now) {
  std::vector<std::pair<Snowflake, std::int64_t>> members;
  if (!ctx.store.ListThreadMembers(thread.id, &members).ok()) return;
  for (const auto& [u, at] : members)
    if (u == user_id) return;
  if (ctx.store.AddThreadMember(thread.id, user_id, now).ok()) {
    dispatch::ThreadMemberUpdate(ctx, thread, user_id, now);
    dispatch::ThreadMembersUpdate(ctx, thread, {{user_id, now}}, {});
  }
}

Response RawJson(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

// GET handlers only: reads go through ctx.render_cache while the scope is open (no writes in it).
Response ListMessages(ServerContext& ctx, Request& req) {
  RenderCache::Scope scope(ctx.render_cache, ctx.store);
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  FormErrors errors;
  MessageQuery q = ParseMessagePaging(req.query, channel.id, errors);
  errors.ThrowIfAny();
  Permissions p = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel);
  Json out = Json::array();
  if (!(p & perm::kReadMessageHistory)) return Response::Json(out);  // Discord answers an empty page
  if (!ctx.render_cache) {
    std::vector<Message> msgs;
    Status st = ctx.store.ListMessages(q, &msgs);
    if (!st.ok()) ThrowStoreError(st, "listing messages");
    return RawJson(objects::MessagesArrayText(ctx, msgs, req.user.id));
  }
  // The page's ids first: messages rendered since the store last changed are not loaded again.
  RenderCache& cache = *ctx.render_cache;
  const Snowflake viewer = req.user.id;
  std::vector<Snowflake> ids;
  Status st = ctx.store.ListMessageIds(q, &ids);
  if (!st.ok()) ThrowStoreError(st, "listing messages");
  std::vector<const std::string*> hits(ids.size(), nullptr);
  std::vector<Snowflake> missing;
  std::size_t bytes = 2;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    hits[i] = cache.FindMessage(ids[i], viewer);
    if (hits[i]) bytes += hits[i]->size() + 1;
    else missing.push_back(ids[i]);
  }
  std::string body;
  if (missing.empty()) {
    body.reserve(bytes);
    body.push_back('[');
    for (const std::string* h : hits) {
      if (body.size() > 1) body.push_back(',');
      body += *h;
    }
    body.push_back(']');
    return RawJson(std::move(body));
  }
  // Rendering the missing ones stores them in the cache, which may evict fragments of this same page:
  // copy the hits before that.
  std::unordered_map<Snowflake, std::string> text;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (hits[i]) text.emplace(ids[i], *hits[i]);
  std::vector<Message> loaded;
  st = ctx.store.GetMessages(missing, &loaded);
  if (!st.ok()) ThrowStoreError(st, "loading messages");
  for (const auto& m : loaded) text[m.id] = objects::MessageText(ctx, m, viewer);
  body.push_back('[');
  for (Snowflake id : ids) {
    auto it = text.find(id);
    if (it == text.end()) continue;  // deleted by another process between the two queries
    if (body.size() > 1) body.push_back(',');
    body += it->second;
  }
  body.push_back(']');
  return RawJson(std::move(body));
}

Response GetMessage(ServerContext& ctx, Request& req) {
  RenderCache::Scope scope(ctx.render_cache, ctx.store);
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  Snowflake mid = req.SnowflakeParam("message_id");
  RequireChannelPermissions(ctx, req, channel, perm::kViewChannel | perm::kReadMessageHistory);
  return RawJson(objects::MessageText(ctx, LoadMessage(ctx, channel.id, mid), req.user.id));
}

Response CreateMessage(ServerContext& ctx, Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  Permissions perms = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel | SendBitFor(channel));
  RequireTextChannel(channel);

  Json body = BodyOf(req);
  FormErrors errors;
  MessageBody mb = ParseMessageBody(body, false, ctx.limits, errors);
  errors.ThrowIfAny();

  const std::int64_t now = ctx.NowMs();
  std::string nonce_key;
  if (mb.nonce && mb.enforce_nonce) {
    nonce_key = NonceKey(channel.id, req.user.id, *mb.nonce);
    auto it = Nonces().find(nonce_key);
    if (it != Nonces().end() && now - it->second.at_ms <= kNonceWindowMs) {
      Message earlier;
      if (ctx.store.GetMessage(channel.id, it->second.message_id, &earlier).ok() && !earlier.deleted) {
        earlier.nonce = mb.nonce;
        return Response::Json(RenderMessage(ctx, req, earlier));
      }
    }
  }

  const bool has_files = !FileParts(req).empty();
  const bool has_content = mb.content && !mb.content->empty();
  const bool has_embeds = mb.embeds && !mb.embeds->empty();
  if (!has_content && !has_embeds && !has_files && mb.sticker_ids.empty())
    throw ApiError(http::CannotSendEmptyMessage());
  if (has_files && !(perms & perm::kAttachFiles)) throw ApiError(http::MissingPermissions());
  if (!mb.sticker_ids.empty()) throw ApiError(400, 10060, "Unknown Sticker");

  // The message being answered must exist in this channel (replies do not cross channels).
  std::optional<Message> replied_to;
  if (mb.reference) {
    if (mb.reference->channel_id && *mb.reference->channel_id != channel.id)
      http::ThrowFormError("message_reference", "REPLIES_CANNOT_REFERENCE_OTHER_CHANNEL",
                           "Cannot reply to a message in a different channel");
    if (mb.reference->guild_id && mb.reference->guild_id != channel.guild_id)
      http::ThrowFormError("message_reference", "REPLIES_UNKNOWN_GUILD", "Unknown guild");
    Message orig;
    Status st = ctx.store.GetMessage(channel.id, *mb.reference->message_id, &orig);
    if (st.ok() && !orig.deleted && orig.channel_id == channel.id) {
      replied_to = orig;
    } else if (st.ok() || st.IsNotFound()) {
      if (mb.fail_if_not_exists)
        http::ThrowFormError("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message");
      mb.reference.reset();
    } else {
      ThrowStoreError(st, "loading the replied-to message");
    }
  }

  Message m;
  m.id = ctx.ids.Next();
  m.channel_id = channel.id;
  m.guild_id = channel.guild_id;
  m.author_id = req.user.id;
  m.type = replied_to ? 19 : 0;
  m.content = mb.content.value_or("");
  m.timestamp.ms = now;
  m.pinned = false;
  m.tts = mb.tts && (perms & perm::kSendTtsMessages);
  m.flags = mb.flags.value_or(0);
  m.content_format = "raw";
  m.embeds = mb.embeds.value_or(std::vector<Json>{});
  m.stickers = std::vector<Sticker>{};
  m.reactions = std::vector<Reaction>{};
  if (replied_to) {
    MessageReference ref;
    ref.type = 0;
    ref.message_id = replied_to->id;
    ref.channel_id = channel.id;
    ref.guild_id = channel.guild_id;
    m.reference = ref;
  }
  ResolveMentions(ctx, channel, mb, perms, replied_to, &m);

  CheckNotLocked(ctx, channel, perms);
  std::vector<std::string> used;
  m.attachments = StoreUploads(ctx, req, mb, &used);

  Status st = ctx.store.UpsertMessage(m, ApiSource(ctx));
  if (!st.ok()) ThrowStoreError(st, "storing a new message");
  m.nonce = mb.nonce;
  if (!nonce_key.empty()) RememberNonce(nonce_key, m.id, now);
  // A new message has no reactions yet, so the author's view (reactions[].me) is everyone's: one rendering
  // serves the response and MESSAGE_CREATE.
  Json rendered = RenderMessage(ctx, req, m);
  dispatch::MessageCreate(ctx, m, &channel, &rendered);
  if (IsThreadType(channel.type)) JoinThreadOnPost(ctx, channel, req.user.id, now);
  return Response::Json(rendered);
}

Response EditMessage(ServerContext& ctx, Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  Snowflake mid = req.SnowflakeParam("message_id");
  Permissions perms = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel);
  Message m = LoadMessage(ctx, channel.id, mid);
  Json body = BodyOf(req);
  FormErrors errors;
  MessageBody mb = ParseMessageBody(body, true, ctx.limits, errors);
  errors.ThrowIfAny();

  const bool own = m.author_id && *m.author_id == req.user.id;
  const bool has_files = !FileParts(req).empty();
  if (!own) {
    // Others' messages: only the SUPPRESS_EMBEDS flag may change, with MANAGE_MESSAGES (Discord's rule).
    if (mb.content || mb.embeds || mb.attachments || has_files)
      throw ApiError(403, 50005, "Cannot edit a message authored by another user");
    if (!(perms & perm::kManageMessages)) throw ApiError(http::MissingPermissions());
  }
  if (has_files && !(perms & perm::kAttachFiles)) throw ApiError(http::MissingPermissions());

  if (mb.content) m.content = *mb.content;
  if (mb.embeds) m.embeds = *mb.embeds;
  if (mb.flags) m.flags = (m.flags & ~(kMessageFlagSuppressEmbeds | kMessageFlagSuppressNotifications)) | *mb.flags;
  std::vector<Attachment> kept;
  if (mb.attachments) {
    for (const auto& a : m.attachments.value_or(std::vector<Attachment>{}))
      if (std::any_of(mb.attachments->begin(), mb.attachments->end(),
                      [&](const AttachmentSpec& s) { return s.id == std::to_string(a.id); }))
        kept.push_back(a);
  } else {
    kept = m.attachments.value_or(std::vector<Attachment>{});
  }
  std::vector<std::string> used;
  std::vector<Attachment> added = StoreUploads(ctx, req, mb, &used);
  if (mb.attachments || !added.empty()) {
    kept.insert(kept.end(), added.begin(), added.end());
    if (kept.size() > ctx.limits.max_attachments_per_message)
      http::ThrowFormError("attachments", "BASE_TYPE_MAX_LENGTH",
                           "Must be " + std::to_string(ctx.limits.max_attachments_per_message) + " or fewer in length.");
    m.attachments = kept;
  }
  if (own) {
    bool empty = m.content.value_or("").empty() && m.embeds.value_or(std::vector<Json>{}).empty() &&
                 m.attachments.value_or(std::vector<Attachment>{}).empty() &&
                 m.stickers.value_or(std::vector<Sticker>{}).empty();
    if (empty) throw ApiError(http::CannotSendEmptyMessage());
    if (mb.content) {
      std::optional<Message> replied_to;
      if (m.type == 19 && m.reference && m.reference->message_id) {
        Message orig;
        if (ctx.store.GetMessage(channel.id, *m.reference->message_id, &orig).ok()) replied_to = orig;
      }
      ResolveMentions(ctx, channel, mb, perms, replied_to, &m);
    }
    m.edited = Timestamp{ctx.NowMs(), ""};
  }
  Status st = ctx.store.UpsertMessage(m, ApiSource(ctx));
  if (!st.ok()) ThrowStoreError(st, "editing a message");
  m.nonce.reset();
  dispatch::MessageUpdate(ctx, m);
  return Response::Json(RenderMessage(ctx, req, m));
}

Response DeleteMessage(ServerContext& ctx, Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  Snowflake mid = req.SnowflakeParam("message_id");
  Permissions perms = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel);
  Message m = LoadMessage(ctx, channel.id, mid);
  const bool own = m.author_id && *m.author_id == req.user.id;
  if (!own && (!(perms & perm::kManageMessages) || !channel.guild_id)) throw ApiError(http::MissingPermissions());
  Status st = ctx.store.DeleteMessage(channel.id, mid);
  if (!st.ok()) ThrowStoreError(st, "deleting a message");
  dispatch::MessageDelete(ctx, channel, mid);
  return Response::NoContent();
}

Response BulkDelete(ServerContext& ctx, Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  if (!channel.guild_id) throw ApiError(403, 50003, "Cannot execute action on a DM channel");
  RequireChannelPermissions(ctx, req, channel, perm::kViewChannel | perm::kManageMessages);
  const Json& body = JsonObjectBody(req);
  FormErrors errors;
  std::vector<Snowflake> ids;
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) {
    errors.Add("messages", "BASE_TYPE_REQUIRED", "This field is required");
  } else if (!it->is_array()) {
    errors.Add("messages", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType");
  } else {
    if (it->size() < 2 || it->size() > 100)
      errors.Add("messages", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.");
    for (std::size_t i = 0; i < it->size() && i < 100; ++i) {
      auto id = JsonSnowflake((*it)[i]);
      if (!id) errors.Add("messages." + std::to_string(i), "NUMBER_TYPE_COERCE",
                          "Value \"" + (*it)[i].dump() + "\" is not snowflake.");
      else if (std::find(ids.begin(), ids.end(), *id) != ids.end())
        errors.Add("messages", "BASE_TYPE_DUPLICATES", "Duplicate values are not allowed.");
      else ids.push_back(*id);
    }
  }
  errors.ThrowIfAny();
  const std::int64_t now = ctx.NowMs();
  for (Snowflake id : ids)
    if (now - SnowflakeTimeMs(id) > kBulkDeleteMaxAgeMs)
      throw ApiError(400, 50034, "You can only bulk delete messages that are under 14 days old.");

  std::vector<Snowflake> deleted;
  Status st = ctx.store.Begin();
  if (!st.ok()) ThrowStoreError(st, "starting a bulk delete");
  for (Snowflake id : ids) {
    Message m;
    Status gs = ctx.store.GetMessage(channel.id, id, &m);
    if (gs.IsNotFound() || (gs.ok() && (m.deleted || m.channel_id != channel.id))) continue;  // Discord skips unknown ids
    if (gs.ok()) gs = ctx.store.DeleteMessage(channel.id, id);
    if (!gs.ok()) {
      ctx.store.Rollback();
      ThrowStoreError(gs, "bulk-deleting messages");
    }
    deleted.push_back(id);
  }
  st = ctx.store.Commit();
  if (!st.ok()) {
    ctx.store.Rollback();
    ThrowStoreError(st, "committing a bulk delete");
  }
  if (!deleted.empty()) dispatch::MessageDeleteBulk(ctx, channel, deleted);
  return Response::NoContent();
}

const http::RouteRegistrar kList{"GET", "/channels/{channel_id}/messages", "channel_messages_get", ListMessages};
const http::RouteRegistrar kGet{"GET", "/channels/{channel_id}/messages/{message_id}", "channel_message_get", GetMessage};
const http::RouteRegistrar kCreate{"POST", "/channels/{channel_id}/messages", "channel_messages_post", CreateMessage};
const http::RouteRegistrar kEdit{"PATCH", "/channels/{channel_id}/messages/{message_id}", "channel_message_patch",
                                 EditMessage};
const http::RouteRegistrar kDelete{"DELETE", "/channels/{channel_id}/messages/{message_id}", "channel_message_delete",
                                   DeleteMessage};
const http::RouteRegistrar kBulk{"POST", "/channels/{channel_id}/messages/bulk-delete", "channel_messages_bulk_delete",
                                 BulkDelete};

}  // namespace
}  // namespace ferry::compat::rest
