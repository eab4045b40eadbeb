// POST /channels/{channel_id}/typing: TYPING_START to whoever can see the channel; nothing is stored.
#include "compat-api/gateway/dispatch/dispatch.hpp"
#include "compat-api/rest/common.hpp"

namespace ferry::compat::rest {
namespace {

http::Response TriggerTyping(ServerContext& ctx, http::Request& req) {
  Channel channel = LoadChannel(ctx, req.SnowflakeParam("channel_id"));
  RequireChannelPermissions(ctx, req, channel, perm::kViewChannel | SendBitFor(channel));
  dispatch::TypingStart(ctx, channel, req.user.id);
  return http::Response::NoContent();
}

const http::RouteRegistrar kTyping{"POST", "/channels/{channel_id}/typing", "channel_typing", TriggerTyping};

}  // namespace
}  // namespace ferry::compat::rest
