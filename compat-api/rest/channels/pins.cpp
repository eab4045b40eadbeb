// Pins, under both of Discord's paths:
//   GET/PUT/DELETE /channels/{id}/pins[/{message_id}]            (the original; GET answers [Message])
//   GET/PUT/DELETE /channels/{id}/messages/pins[/{message_id}]   (the newer; GET answers {items: [{pinned_at,
//                                                                  message}], has_more}, paged by ?before=<time>)
// Pinning needs MANAGE_MESSAGES or PIN_MESSAGES. A pin adds the "pinned a message" system message (type 6)
// as Discord does, then CHANNEL_PINS_UPDATE. The pin time is kept in the message's extra ("pinned_at"); pins
// that came with an import have no pin time and report the message's own time.
#include <algorithm>

#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/objects.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"
#include "store/timestamp.hpp"

namespace ferry::compat::rest {
namespace {

using http::ApiError;
using http::FormErrors;
using http::Request;
using http::Response;

constexpr std::size_t kMaxPins = 250;
constexpr int kChannelPinnedMessage = 6;

std::int64_t PinnedAtMs(const Message& m) {
  auto it = m.extra.find("pinned_at_ms");
  if (it != m.extra.end() && it->is_number_integer()) return it->get<std::int64_t>();
  return m.timestamp.ms;
}

// Pinned messages of a channel, most recently pinned first.
std::vector<Message> Pinned(ServerContext& ctx, Snowflake channel_id) {
  std::vector<Message> pins;
  Status st = ctx.store.ListPinned(channel_id, &pins);
  if (!st.ok()) ThrowStoreError(st, "listing pins");
  pins.erase(std::remove_if(pins.begin(), pins.end(), [](const Message& m) { return m.deleted; }), pins.end());
  std::stable_sort(pins.begin(), pins.end(), [](const Message& a, const Message& b) {
    auto ta = PinnedAtMs(a), tb = PinnedAtMs(b);
    return ta != tb ? ta > tb : a.id > b.id;
  });
  return pins;
}

Json Render(ServerContext& ctx, const Request& req, const Message& m) {
  objects::MessageOptions o;
  o.viewer_id = req.user.id;
  return objects::MessageJson(ctx, m, o);
}

Response ListLegacy(ServerContext& ctx, Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  Permissions p = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel);
  Json out = Json::array();
  if (!(p & perm::kReadMessageHistory)) return Response::Json(out);
  for (const auto& m : Pinned(ctx, channel.id)) out.push_back(Render(ctx, req, m));
  return Response::Json(out);
}

Response ListPaged(ServerContext& ctx, Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  FormErrors errors;
  int limit = QueryInt(req, "limit", 50, 1, 50, errors);
  std::optional<std::int64_t> before;
  if (auto b = req.Query("before")) {
    before = ParseTimestampMs(*b);
    if (!before) errors.Add("before", "DATE_TYPE_PARSE", "Could not parse \"" + *b + "\". Should be ISO8601.");
  }
  errors.ThrowIfAny();
  Permissions p = RequireChannelPermissions(ctx, req, channel, perm::kViewChannel);
  Json items = Json::array();
  bool has_more = false;
  if (p & perm::kReadMessageHistory) {
    for (const auto& m : Pinned(ctx, channel.id)) {
      std::int64_t at = PinnedAtMs(m);
      if (before && at >= *before) continue;
      if (static_cast<int>(items.size()) == limit) {
        has_more = true;
        break;
      }
      items.push_back({{"pinned_at", objects::Time(at)}, {"message", Render(ctx, req, m)}});
    }
  }
  return Response::Json({{"items", std::move(items)}, {"has_more", has_more}});
}

struct PinTarget {
  Channel channel;
  Message message;
};

PinTarget LoadPinTarget(ServerContext& ctx, const Request& req) {
  PinTarget t;
  t.channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  Snowflake mid = req.SnowflakeParam("message_id");
  Permissions p = RequireChannelPermissions(ctx, req, t.channel, perm::kViewChannel);
  // DMs: recipients may pin; guilds: MANAGE_MESSAGES, or the newer PIN_MESSAGES.
  if (t.channel.guild_id && !(p & (perm::kManageMessages | perm::kPinMessages)))
    throw ApiError(http::MissingPermissions());
  if (!(p & perm::kReadMessageHistory)) throw ApiError(http::MissingPermissions());
  t.message = LoadMessage(ctx, t.channel.id, mid);
  return t;
}

Response Pin(ServerContext& ctx, Request& req) {
  PinTarget t = LoadPinTarget(ctx, req);
  if (t.message.pinned.value_or(false)) return Response::NoContent();
  if (t.message.type != 0 && t.message.type != 19 && t.message.type != 20)
    throw ApiError(400, 50021, "Cannot execute action on a system message");
  if (Pinned(ctx, t.channel.id).size() >= kMaxPins)
    throw ApiError(400, 30003, "Maximum number of pins reached (" + std::to_string(kMaxPins) + ")");

  const std::int64_t now = ctx.NowMs();
  Message m = t.message;
  m.pinned = true;
  m.extra["pinned_at_ms"] = now;
  m.nonce.reset();

  Message notice;
  notice.id = ctx.ids.Next();
  notice.channel_id = t.channel.id;
  notice.guild_id = t.channel.guild_id;
  notice.author_id = req.user.id;
  notice.type = kChannelPinnedMessage;
  notice.content = "";
  notice.timestamp.ms = now;
  notice.pinned = false;
  notice.content_format = "raw";
  MessageReference ref;
  ref.message_id = m.id;
  ref.channel_id = t.channel.id;
  ref.guild_id = t.channel.guild_id;
  notice.reference = ref;
  notice.attachments = std::vector<Attachment>{};
  notice.embeds = std::vector<Json>{};
  notice.mention_user_ids = std::vector<Snowflake>{};
  notice.mention_role_ids = std::vector<Snowflake>{};

  Status st = ctx.store.Begin();
  if (st.ok()) st = ctx.store.UpsertMessage(m, ApiSource(ctx));
  if (st.ok()) st = ctx.store.SetPinned(t.channel.id, m.id, true);
  if (st.ok()) st = ctx.store.UpsertMessage(notice, ApiSource(ctx));
  if (st.ok()) st = ctx.store.Commit();
  if (!st.ok()) {
    ctx.store.Rollback();
    ThrowStoreError(st, "pinning a message");
  }
  dispatch::MessageCreate(ctx, notice);
  dispatch::ChannelPinsUpdate(ctx, t.channel, now);
  return Response::NoContent();
}

Response Unpin(ServerContext& ctx, Request& req) {
  PinTarget t = LoadPinTarget(ctx, req);
  if (!t.message.pinned.value_or(false)) return Response::NoContent();
  Status st = ctx.store.SetPinned(t.channel.id, t.message.id, false);
  if (!st.ok()) ThrowStoreError(st, "unpinning a message");
  std::vector<Message> rest = Pinned(ctx, t.channel.id);
  std::optional<std::int64_t> last;
  if (!rest.empty()) last = PinnedAtMs(rest.front());
  dispatch::ChannelPinsUpdate(ctx, t.channel, last);
  return Response::NoContent();
}

const http::RouteRegistrar kListLegacy{"GET", "/channels/{channel_id}/pins", "channel_pins_get", ListLegacy};
const http::RouteRegistrar kPinLegacy{"PUT", "/channels/{channel_id}/pins/{message_id}", "channel_pins_put", Pin};
const http::RouteRegistrar kUnpinLegacy{"DELETE", "/channels/{channel_id}/pins/{message_id}", "channel_pins_delete",
                                        Unpin};
const http::RouteRegistrar kListPaged{"GET", "/channels/{channel_id}/messages/pins", "channel_pins_get", ListPaged};
const http::RouteRegistrar kPin{"PUT", "/channels/{channel_id}/messages/pins/{message_id}", "channel_pins_put", Pin};
const http::RouteRegistrar kUnpin{"DELETE", "/channels/{channel_id}/messages/pins/{message_id}",
                                  "channel_pins_delete", Unpin};

}  // namespace
}  // namespace ferry::compat::rest
