// GET /gateway and GET /gateway/bot: where the gateway is. `url` is this server's own ws:// or wss:// URL
// without path or query (discord.js appends "?v=10&encoding=json" to it).
#include "compat-api/context.hpp"
#include "compat-api/http/router.hpp"

namespace ferry::compat::rest {
namespace {

using http::Request;
using http::Response;

static http::RouteRegistrar get_gateway{
    "GET", "/gateway", "gateway",
    [](ServerContext& ctx, Request&) { return Response::Json({{"url", ctx.gateway_url}}); }, http::Auth::kNone};

static http::RouteRegistrar get_gateway_bot{
    "GET", "/gateway/bot", "gateway_bot", [](ServerContext& ctx, Request&) {
      // One shard; identify budget like Discord's default (1000 a day), never exhausted here.
      return Response::Json({{"url", ctx.gateway_url},
                             {"shards", 1},
                             {"session_start_limit",
                              {{"total", 1000}, {"remaining", 999}, {"reset_after", 14400000}, {"max_concurrency", 1}}}});
    }};

}  // namespace
}  // namespace ferry::compat::rest
