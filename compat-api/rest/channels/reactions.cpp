// /channels/{channel_id}/messages/{message_id}/reactions[...]: add/remove the bot's reaction, remove
// another user's, remove all or all of one emoji, list who reacted. The emoji in the path is a Unicode emoji
// (percent-encoded UTF-8, decoded by the router) or a custom one as "name:id".
//
// Custom emoji are accepted by shape: the store keeps no guild emoji list (imports carry emoji only where
// they were used), so an id cannot be checked against the guild the way Discord does.
#include <algorithm>

#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/objects.hpp"
#include "compat-api/rest/channels/message_body.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {
namespace {

using http::ApiError;
using http::FormErrors;
using http::Request;
using http::Response;

Emoji EmojiParam(const Request& req) {
  auto e = ParseReactionEmoji(req.Param("emoji_name"));
  if (!e) throw ApiError(http::UnknownEmoji());
  return *e;
}

struct Target {
  Channel channel;
  Message message;
  Permissions perms = 0;
};

Target LoadTarget(ServerContext& ctx, const Request& req, Permissions needed) {
  Target t;
  t.channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  Snowflake mid = req.SnowflakeParam("message_id");
  t.perms = RequireChannelPermissions(ctx, req, t.channel, perm::kViewChannel | needed);
  t.message = LoadMessage(ctx, t.channel.id, mid);
  return t;
}

const Reaction* FindReaction(const Message& m, const std::string& key) {
  if (!m.reactions) return nullptr;
  for (const auto& r : *m.reactions)
    if (r.emoji.Key() == key) return &r;
  return nullptr;
}

Response AddOwn(ServerContext& ctx, Request& req) {
  Emoji e = EmojiParam(req);
  Target t = LoadTarget(ctx, req, perm::kReadMessageHistory);
  const Reaction* existing = FindReaction(t.message, e.Key());
  // Adding to an existing reaction needs only history; a new emoji on the message needs ADD_REACTIONS.
  if (!existing && !(t.perms & perm::kAddReactions)) throw ApiError(http::MissingPermissions());
  if (!existing && t.message.reactions && t.message.reactions->size() >= 20)
    throw ApiError(400, 30010, "Maximum number of reactions reached (20)");
  if (existing) e = existing->emoji;  // keep the stored name/animated of a custom emoji
  Status st = ctx.store.AddReaction(t.message.id, e, req.user.id);
  if (st.code() == Status::Code::kConflict) return Response::NoContent();  // already there: nothing happens
  if (!st.ok()) ThrowStoreError(st, "adding a reaction");
  dispatch::MessageReactionAdd(ctx, t.channel, t.message.id, t.message.author_id.value_or(0), req.user.id, e);
  return Response::NoContent();
}

Response RemoveOne(ServerContext& ctx, const Request& req, Snowflake user_id, Permissions needed) {
  Emoji e = EmojiParam(req);
  Target t = LoadTarget(ctx, req, needed);
  if (const Reaction* r = FindReaction(t.message, e.Key())) e = r->emoji;
  Status st = ctx.store.RemoveReaction(t.message.id, e.Key(), user_id);
  if (st.IsNotFound()) return Response::NoContent();
  if (!st.ok()) ThrowStoreError(st, "removing a reaction");
  dispatch::MessageReactionRemove(ctx, t.channel, t.message.id, user_id, e);
  return Response::NoContent();
}

Response RemoveOwn(ServerContext& ctx, Request& req) { return RemoveOne(ctx, req, req.user.id, 0); }

Response RemoveUser(ServerContext& ctx, Request& req) {
  Snowflake uid = req.SnowflakeParam("user_id");
  // Removing one's own reaction through the user-id form needs no extra permission.
  return RemoveOne(ctx, req, uid, uid == req.user.id ? 0 : perm::kManageMessages);
}

Response ListUsers(ServerContext& ctx, Request& req) {
  Emoji e = EmojiParam(req);
  FormErrors errors;
  int limit = QueryInt(req, "limit", 25, 1, 100, errors);
  auto after = QuerySnowflake(req, "after", errors);
  int type = QueryInt(req, "type", 0, 0, 1, errors);
  errors.ThrowIfAny();
  Target t = LoadTarget(ctx, req, perm::kReadMessageHistory);
  Json out = Json::array();
  if (type == 1) return Response::Json(out);  // burst (super) reactions are never imported or created here
  std::vector<Snowflake> users;
  Status st = ctx.store.ListReactionUsers(t.message.id, e.Key(), after.value_or(0), limit, &users);
  if (!st.ok() && !st.IsNotFound()) ThrowStoreError(st, "listing reaction users");
  for (Snowflake u : users) out.push_back(objects::UserJson(ctx, u));
  return Response::Json(out);
}

Response RemoveAll(ServerContext& ctx, Request& req) {
  Target t = LoadTarget(ctx, req, perm::kManageMessages);
  Status st = ctx.store.RemoveAllReactions(t.message.id, "");
  if (!st.ok() && !st.IsNotFound()) ThrowStoreError(st, "removing all reactions");
  dispatch::MessageReactionRemoveAll(ctx, t.channel, t.message.id);
  return Response::NoContent();
}

Response RemoveEmoji(ServerContext& ctx, Request& req) {
  Emoji e = EmojiParam(req);
  Target t = LoadTarget(ctx, req, perm::kManageMessages);
  if (const Reaction* r = FindReaction(t.message, e.Key())) e = r->emoji;
  else return Response::NoContent();
  Status st = ctx.store.RemoveAllReactions(t.message.id, e.Key());
  if (!st.ok() && !st.IsNotFound()) ThrowStoreError(st, "removing an emoji's reactions");
  dispatch::MessageReactionRemoveEmoji(ctx, t.channel, t.message.id, e);
  return Response::NoContent();
}

constexpr const char* kBase = "/channels/{channel_id}/messages/{message_id}/reactions";
const http::RouteRegistrar kPutMe{"PUT", std::string(kBase) + "/{emoji_name}/@me", "channel_message_reaction_me", AddOwn};
const http::RouteRegistrar kDeleteMe{"DELETE", std::string(kBase) + "/{emoji_name}/@me", "channel_message_reaction_me",
                                     RemoveOwn};
const http::RouteRegistrar kDeleteUser{"DELETE", std::string(kBase) + "/{emoji_name}/{user_id}",
                                       "channel_message_reaction_user", RemoveUser};
const http::RouteRegistrar kGetUsers{"GET", std::string(kBase) + "/{emoji_name}", "channel_message_reactions_get",
                                     ListUsers};
const http::RouteRegistrar kDeleteEmoji{"DELETE", std::string(kBase) + "/{emoji_name}",
                                        "channel_message_reactions_delete", RemoveEmoji};
const http::RouteRegistrar kDeleteAll{"DELETE", kBase, "channel_message_reactions_delete", RemoveAll};

}  // namespace
}  // namespace ferry::compat::rest
