// Threads:
//   POST /channels/{id}/messages/{message_id}/threads   start a thread from a message (thread id = message id)
//   POST /channels/{id}/threads                         start one without a message (forum/media: with its
//                                                       first message, whose id is the thread's)
//   GET  /guilds/{guild_id}/threads/active              active threads the bot can see
//   GET  /channels/{id}/threads/archived/public|private  archived threads, newest archive first, ?before=<time>
//   PUT/DELETE /channels/{id}/thread-members/@me|{user_id}, GET /channels/{id}/thread-members[/{user_id}]
// Thread settings without a column (auto_archive_duration, archive_timestamp_ms, invitable) live in the
// channel's extra, where objects::ChannelJson reads them.
#include <algorithm>

#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/objects.hpp"
#include "compat-api/rest/channels/message_body.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"
#include "store/timestamp.hpp"

namespace ferry::compat::rest {
namespace {

using http::ApiError;
using http::FormErrors;
using http::Request;
using http::Response;

constexpr int kThreadCreatedMessage = 18;

Json ThreadMemberJson(ServerContext& ctx, const Channel& thread, Snowflake user_id, std::int64_t joined_ms,
                      bool with_member) {
  Json j = {{"id", objects::Id(thread.id)},
            {"user_id", objects::Id(user_id)},
            {"join_timestamp", objects::Time(joined_ms)},
            {"flags", 0}};
  if (with_member && thread.guild_id) {
    Member m;
    if (ctx.store.GetMember(*thread.guild_id, user_id, &m).ok()) j["member"] = objects::MemberJson(ctx, m, true);
  }
  return j;
}

std::vector<std::pair<Snowflake, std::int64_t>> Members(ServerContext& ctx, Snowflake thread_id) {
  std::vector<std::pair<Snowflake, std::int64_t>> out;
  Status st = ctx.store.ListThreadMembers(thread_id, &out);
  if (!st.ok() && !st.IsNotFound()) ThrowStoreError(st, "listing thread members");
  return out;
}

std::optional<std::int64_t> JoinedAt(ServerContext& ctx, Snowflake thread_id, Snowflake user_id) {
  for (const auto& [u, at] : Members(ctx, thread_id))
    if (u == user_id) return at;
  return std::nullopt;
}

std::int64_t ArchiveTimeMs(const Channel& c) {
  auto it = c.extra.find("archive_timestamp_ms");
  if (it != c.extra.end() && it->is_number_integer()) return it->get<std::int64_t>();
  return SnowflakeTimeMs(c.id);
}

struct ThreadSettings {
  std::string name;
  int auto_archive_duration = 1440;
  std::optional<int> rate_limit_per_user;
  std::optional<int> type;
  std::optional<bool> invitable;
};

ThreadSettings ParseThreadSettings(const Json& body, FormErrors& errors) {
  ThreadSettings s;
  auto name = body.find("name");
  if (name == body.end() || name->is_null()) {
    errors.Add("name", "BASE_TYPE_REQUIRED", "This field is required");
  } else if (!name->is_string() || !IsValidUtf8(name->get<std::string>()) ||
             CharCount(name->get<std::string>()) < 1 || CharCount(name->get<std::string>()) > 100) {
    errors.Add("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
  } else {
    s.name = name->get<std::string>();
  }
  if (auto d = body.find("auto_archive_duration"); d != body.end() && !d->is_null()) {
    int v = d->is_number_integer() ? d->get<int>() : -1;
    if (v != 60 && v != 1440 && v != 4320 && v != 10080)
      errors.Add("auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of (60, 1440, 4320, 10080).");
    else s.auto_archive_duration = v;
  }
  if (auto r = body.find("rate_limit_per_user"); r != body.end() && !r->is_null()) {
    if (!r->is_number_integer() || r->get<std::int64_t>() < 0 || r->get<std::int64_t>() > 21600)
      errors.Add("rate_limit_per_user", "NUMBER_TYPE_MAX", "Int value should be less than or equal to 21600.");
    else s.rate_limit_per_user = r->get<int>();
  }
  if (auto t = body.find("type"); t != body.end() && !t->is_null()) {
    int v = t->is_number_integer() ? t->get<int>() : -1;
    if (v != kAnnouncementThread && v != kPublicThread && v != kPrivateThread)
      errors.Add("type", "BASE_TYPE_CHOICES", "Value must be one of (10, 11, 12).");
    else s.type = v;
  }
  if (auto i = body.find("invitable"); i != body.end() && !i->is_null()) {
    if (!i->is_boolean()) errors.Add("invitable", "BOOLEAN_TYPE_COERCE", "Value must be a boolean.");
    else s.invitable = i->get<bool>();
  }
  return s;
}

Channel NewThread(ServerContext& ctx, const Channel& parent, Snowflake id, int type, const ThreadSettings& s,
                  Snowflake owner) {
  Channel t;
  t.id = id;
  t.type = type;
  t.guild_id = parent.guild_id;
  t.parent_id = parent.id;
  t.name = s.name;
  t.owner_id = owner;
  t.archived = false;
  t.locked = false;
  t.rate_limit_per_user = s.rate_limit_per_user.value_or(0);
  t.position = 0;
  t.extra["auto_archive_duration"] = s.auto_archive_duration;
  t.extra["archive_timestamp_ms"] = ctx.NowMs();
  if (type == kPrivateThread) t.extra["invitable"] = s.invitable.value_or(true);
  return t;
}

// Writes the thread (and its creator as first member, plus any messages) in one transaction, then
// dispatches THREAD_CREATE and the member list, and answers 201 with the thread and the creator's member.
Response FinishCreate(ServerContext& ctx, const Request& req, const Channel& thread,
                      const std::vector<Message>& messages) {
  const std::int64_t now = ctx.NowMs();
  Status st = ctx.store.Begin();
  if (st.ok()) st = ctx.store.UpsertChannel(thread, ApiSource(ctx));
  if (st.ok()) st = ctx.store.AddThreadMember(thread.id, req.user.id, now);
  for (const auto& m : messages)
    if (st.ok()) st = ctx.store.UpsertMessage(m, ApiSource(ctx));
  if (st.ok()) st = ctx.store.Commit();
  if (!st.ok()) {
    ctx.store.Rollback();
    ThrowStoreError(st, "creating a thread");
  }
  Channel stored = LoadChannel(ctx, thread.id);
  dispatch::ThreadCreate(ctx, stored, true);
  dispatch::ThreadMembersUpdate(ctx, stored, {{req.user.id, now}}, {});
  for (const auto& m : messages) dispatch::MessageCreate(ctx, m);
  Json j = objects::ChannelJson(ctx, stored, req.user.id);
  j["member"] = ThreadMemberJson(ctx, stored, req.user.id, now, false);
  return Response::Json(j, 201);
}

Response StartFromMessage(ServerContext& ctx, Request& req) {
  Channel parent = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  Snowflake mid = req.SnowflakeParam("message_id");
  if (parent.type != kGuildText && parent.type != kGuildAnnouncement)
    throw ApiError(400, 50024, "Cannot execute action on this channel type");
  RequireChannelPermissions(ctx, req, parent,
                            perm::kViewChannel | perm::kCreatePublicThreads | perm::kReadMessageHistory);
  const Json& body = JsonObjectBody(req);
  FormErrors errors;
  ThreadSettings s = ParseThreadSettings(body, errors);
  errors.ThrowIfAny();
  Message starter = LoadMessage(ctx, parent.id, mid);
  Channel existing;
  if (ctx.store.GetChannel(mid, &existing).ok())
    throw ApiError(400, 160004, "A thread has already been created for this message");
  int type = parent.type == kGuildAnnouncement ? kAnnouncementThread : kPublicThread;
  return FinishCreate(ctx, req, NewThread(ctx, parent, starter.id, type, s, req.user.id), {});
}

Response StartWithoutMessage(ServerContext& ctx, Request& req) {
  Channel parent = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  const Json& body = JsonObjectBody(req);
  FormErrors errors;
  ThreadSettings s = ParseThreadSettings(body, errors);
  const bool forum = parent.type == kGuildForum || parent.type == kGuildMedia;
  if (!forum && parent.type != kGuildText && parent.type != kGuildAnnouncement)
    throw ApiError(400, 50024, "Cannot execute action on this channel type");

  MessageBody first;
  if (forum) {
    auto m = body.find("message");
    if (m == body.end() || !m->is_object()) {
      errors.Add("message", "BASE_TYPE_REQUIRED", "This field is required");
    } else {
      FormErrors inner;
      first = ParseMessageBody(*m, false, ctx.limits, inner);
      for (const auto& [field, val] : inner.errors().items())
        for (const auto& e : val.value("_errors", Json::array()))
          errors.Add("message." + field, e.value("code", ""), e.value("message", ""));
    }
  }
  errors.ThrowIfAny();

  // Discord's default for a thread without a message is PRIVATE_THREAD; announcement channels only have
  // announcement threads, forum posts are public threads.
  int type = forum ? kPublicThread : s.type.value_or(kPrivateThread);
  if (!forum && parent.type == kGuildAnnouncement && type != kAnnouncementThread && type != kPrivateThread)
    type = kAnnouncementThread;
  if (!forum && parent.type == kGuildText && type == kAnnouncementThread)
    http::ThrowFormError("type", "BASE_TYPE_CHOICES", "Announcement threads need an announcement channel.");
  Permissions needed = perm::kViewChannel;
  if (forum) needed |= perm::kSendMessages;
  else needed |= type == kPrivateThread ? perm::kCreatePrivateThreads : perm::kCreatePublicThreads;
  Permissions perms = RequireChannelPermissions(ctx, req, parent, needed);

  const Snowflake id = ctx.ids.Next();
  Channel thread = NewThread(ctx, parent, id, type, s, req.user.id);
  std::vector<Message> messages;
  const std::int64_t now = ctx.NowMs();
  if (forum) {
    if ((!first.content || first.content->empty()) && (!first.embeds || first.embeds->empty()))
      throw ApiError(http::CannotSendEmptyMessage());
    Message m;
    m.id = id;  // a forum post's first message shares the thread's id
    m.channel_id = id;
    m.guild_id = parent.guild_id;
    m.author_id = req.user.id;
    m.content = first.content.value_or("");
    m.timestamp.ms = now;
    m.pinned = false;
    m.tts = false;
    m.flags = first.flags.value_or(0);
    m.content_format = "raw";
    m.embeds = first.embeds.value_or(std::vector<Json>{});
    if (!(perms & perm::kEmbedLinks)) m.embeds = std::vector<Json>{};
    m.attachments = std::vector<Attachment>{};
    m.mention_user_ids = std::vector<Snowflake>{};
    m.mention_role_ids = std::vector<Snowflake>{};
    m.mention_everyone = false;
    messages.push_back(std::move(m));
  } else if (type != kPrivateThread) {
    // Public threads started without a message announce themselves in the parent, as on Discord.
    Message notice;
    notice.id = ctx.ids.Next();
    notice.channel_id = parent.id;
    notice.guild_id = parent.guild_id;
    notice.author_id = req.user.id;
    notice.type = kThreadCreatedMessage;
    notice.content = s.name;
    notice.timestamp.ms = now;
    notice.pinned = false;
    notice.content_format = "raw";
    MessageReference ref;
    ref.channel_id = id;
    ref.guild_id = parent.guild_id;
    notice.reference = ref;
    notice.attachments = std::vector<Attachment>{};
    notice.embeds = std::vector<Json>{};
    notice.mention_user_ids = std::vector<Snowflake>{};
    notice.mention_role_ids = std::vector<Snowflake>{};
    messages.push_back(std::move(notice));
  }
  return FinishCreate(ctx, req, thread, messages);
}

// Threads of a guild the bot can see, filtered by `keep`.
template <typename Pred>
std::vector<Channel> VisibleThreads(ServerContext& ctx, const Request& req, Snowflake guild_id, Pred keep) {
  std::vector<Channel> all;
  Status st = ctx.store.ListChannels(guild_id, &all);
  if (!st.ok()) ThrowStoreError(st, "listing channels");
  std::vector<Channel> out;
  for (auto& c : all) {
    if (!IsThreadType(c.type) || !keep(c)) continue;
    if (ChannelPermissions(ctx, req, c) & perm::kViewChannel) out.push_back(std::move(c));
  }
  return out;
}

Json ThreadsResponse(ServerContext& ctx, const Request& req, const std::vector<Channel>& threads, bool has_more) {
  Json list = Json::array(), members = Json::array();
  for (const auto& t : threads) {
    list.push_back(objects::ChannelJson(ctx, t, req.user.id));
    if (auto at = JoinedAt(ctx, t.id, req.user.id)) members.push_back(ThreadMemberJson(ctx, t, req.user.id, *at, false));
  }
  return {{"threads", std::move(list)}, {"members", std::move(members)}, {"has_more", has_more}};
}

Response ListActive(ServerContext& ctx, Request& req) {
  Snowflake gid = req.SnowflakeParam("guild_id");
  LoadGuildForBot(ctx, req, gid);
  auto threads = VisibleThreads(ctx, req, gid, [](const Channel& c) { return !c.archived.value_or(false); });
  std::sort(threads.begin(), threads.end(), [](const Channel& a, const Channel& b) { return a.id > b.id; });
  return Response::Json(ThreadsResponse(ctx, req, threads, false));
}

Response ListArchived(ServerContext& ctx, Request& req, bool is_private) {
  Channel parent = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  FormErrors errors;
  int limit = QueryInt(req, "limit", 50, 1, 100, errors);
  std::optional<std::int64_t> before;
  if (auto b = req.Query("before")) {
    before = ParseTimestampMs(*b);
    if (!before) errors.Add("before", "DATE_TYPE_PARSE", "Could not parse \"" + *b + "\". Should be ISO8601.");
  }
  errors.ThrowIfAny();
  if (!parent.guild_id) throw ApiError(400, 50024, "Cannot execute action on this channel type");
  Permissions needed = perm::kViewChannel | perm::kReadMessageHistory;
  if (is_private) needed |= perm::kManageThreads;
  RequireChannelPermissions(ctx, req, parent, needed);
  auto threads = VisibleThreads(ctx, req, *parent.guild_id, [&](const Channel& c) {
    if (c.parent_id != parent.id || !c.archived.value_or(false)) return false;
    if (is_private != (c.type == kPrivateThread)) return false;
    return !before || ArchiveTimeMs(c) < *before;
  });
  std::sort(threads.begin(), threads.end(), [](const Channel& a, const Channel& b) {
    auto ta = ArchiveTimeMs(a), tb = ArchiveTimeMs(b);
    return ta != tb ? ta > tb : a.id > b.id;
  });
  bool has_more = static_cast<int>(threads.size()) > limit;
  if (has_more) threads.resize(static_cast<std::size_t>(limit));
  return Response::Json(ThreadsResponse(ctx, req, threads, has_more));
}
Response ListArchivedPublic(ServerContext& ctx, Request& req) { return ListArchived(ctx, req, false); }
Response ListArchivedPrivate(ServerContext& ctx, Request& req) { return ListArchived(ctx, req, true); }

Channel LoadThread(ServerContext& ctx, const Request& req, Permissions needed, Permissions* perms) {
  Channel t = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  if (!IsThreadType(t.type)) throw ApiError(400, 50024, "Cannot execute action on this channel type");
  *perms = RequireChannelPermissions(ctx, req, t, perm::kViewChannel | needed);
  return t;
}

Response AddMember(ServerContext& ctx, const Request& req, Channel t, Snowflake user_id) {
  if (t.archived.value_or(false)) throw ApiError(400, 50083, "Thread is archived");
  if (JoinedAt(ctx, t.id, user_id)) return Response::NoContent();
  const std::int64_t now = ctx.NowMs();
  Status st = ctx.store.AddThreadMember(t.id, user_id, now);
  if (st.code() == Status::Code::kConflict) return Response::NoContent();
  if (!st.ok()) ThrowStoreError(st, "adding a thread member");
  dispatch::ThreadMemberUpdate(ctx, t, user_id, now);
  dispatch::ThreadMembersUpdate(ctx, t, {{user_id, now}}, {});
  return Response::NoContent();
}

Response RemoveMember(ServerContext& ctx, const Request& req, Channel t, Snowflake user_id) {
  if (t.archived.value_or(false)) throw ApiError(400, 50083, "Thread is archived");
  Status st = ctx.store.RemoveThreadMember(t.id, user_id);
  if (st.IsNotFound()) return Response::NoContent();
  if (!st.ok()) ThrowStoreError(st, "removing a thread member");
  dispatch::ThreadMembersUpdate(ctx, t, {}, {user_id});
  return Response::NoContent();
}

Response JoinMe(ServerContext& ctx, Request& req) {
  Permissions p = 0;
  Channel t = LoadThread(ctx, req, 0, &p);
  return AddMember(ctx, req, t, req.user.id);
}

Response LeaveMe(ServerContext& ctx, Request& req) {
  Permissions p = 0;
  Channel t = LoadThread(ctx, req, 0, &p);
  return RemoveMember(ctx, req, t, req.user.id);
}

Response AddUser(ServerContext& ctx, Request& req) {
  Permissions p = 0;
  Channel t = LoadThread(ctx, req, perm::kSendMessagesInThreads, &p);
  Snowflake uid = req.SnowflakeParam("user_id");
  Member m;
  Status st = ctx.store.GetMember(t.guild_id.value_or(0), uid, &m);
  if (st.IsNotFound()) throw ApiError(http::UnknownMember());
  if (!st.ok()) ThrowStoreError(st, "loading a member");
  // Adding others to a private thread that is not invitable is for thread managers only.
  if (t.type == kPrivateThread && !t.extra.value("invitable", true) && !(p & perm::kManageThreads))
    throw ApiError(http::MissingPermissions());
  return AddMember(ctx, req, t, uid);
}

Response RemoveUser(ServerContext& ctx, Request& req) {
  Permissions p = 0;
  Channel t = LoadThread(ctx, req, 0, &p);
  Snowflake uid = req.SnowflakeParam("user_id");
  const bool owner_of_private = t.type == kPrivateThread && t.owner_id && *t.owner_id == req.user.id;
  if (uid != req.user.id && !(p & perm::kManageThreads) && !owner_of_private) throw ApiError(http::MissingPermissions());
  return RemoveMember(ctx, req, t, uid);
}

Response ListMembers(ServerContext& ctx, Request& req) {
  FormErrors errors;
  bool with_member = QueryBool(req, "with_member", false, errors);
  auto after = QuerySnowflake(req, "after", errors);
  int limit = QueryInt(req, "limit", 100, 1, 100, errors);
  errors.ThrowIfAny();
  Permissions p = 0;
  Channel t = LoadThread(ctx, req, 0, &p);
  auto members = Members(ctx, t.id);
  std::sort(members.begin(), members.end());
  Json out = Json::array();
  for (const auto& [u, at] : members) {
    if (after && u <= *after) continue;
    if (static_cast<int>(out.size()) == limit) break;
    out.push_back(ThreadMemberJson(ctx, t, u, at, with_member));
  }
  return Response::Json(out);
}

Response GetMember(ServerContext& ctx, Request& req) {
  FormErrors errors;
  bool with_member = QueryBool(req, "with_member", false, errors);
  errors.ThrowIfAny();
  Permissions p = 0;
  Channel t = LoadThread(ctx, req, 0, &p);
  Snowflake uid = req.SnowflakeParam("user_id");
  auto at = JoinedAt(ctx, t.id, uid);
  if (!at) throw ApiError(http::UnknownMember());
  return Response::Json(ThreadMemberJson(ctx, t, uid, *at, with_member));
}

const http::RouteRegistrar kFromMessage{"POST", "/channels/{channel_id}/messages/{message_id}/threads",
                                        "channel_threads_post", StartFromMessage};
const http::RouteRegistrar kWithout{"POST", "/channels/{channel_id}/threads", "channel_threads_post",
                                    StartWithoutMessage};
const http::RouteRegistrar kActive{"GET", "/guilds/{guild_id}/threads/active", "guild_threads_active", ListActive};
const http::RouteRegistrar kArchivedPublic{"GET", "/channels/{channel_id}/threads/archived/public",
                                           "channel_threads_archived", ListArchivedPublic};
const http::RouteRegistrar kArchivedPrivate{"GET", "/channels/{channel_id}/threads/archived/private",
                                            "channel_threads_archived", ListArchivedPrivate};
const http::RouteRegistrar kJoin{"PUT", "/channels/{channel_id}/thread-members/@me", "channel_thread_members",
                                 JoinMe};
// discord.py 2.2.2's Thread.join() still sends the POST Discord documented before PUT.
const http::RouteRegistrar kJoinLegacy{"POST", "/channels/{channel_id}/thread-members/@me", "channel_thread_members",
                                       JoinMe};
const http::RouteRegistrar kLeave{"DELETE", "/channels/{channel_id}/thread-members/@me", "channel_thread_members",
                                  LeaveMe};
const http::RouteRegistrar kAddUser{"PUT", "/channels/{channel_id}/thread-members/{user_id}",
                                    "channel_thread_members", AddUser};
const http::RouteRegistrar kRemoveUser{"DELETE", "/channels/{channel_id}/thread-members/{user_id}",
                                       "channel_thread_members", RemoveUser};
const http::RouteRegistrar kListMembers{"GET", "/channels/{channel_id}/thread-members", "channel_thread_members_get",
                                        ListMembers};
const http::RouteRegistrar kGetMember{"GET", "/channels/{channel_id}/thread-members/{user_id}",
                                      "channel_thread_members_get", GetMember};

}  // namespace
}  // namespace ferry::compat::rest
