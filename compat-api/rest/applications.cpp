// GET /oauth2/applications/@me (discord.py at login) and GET /applications/@me (discord.js
// client.application.fetch(), Spacebar clients): the bot's application. Application id = bot user id.
#include "compat-api/context.hpp"
#include "compat-api/http/router.hpp"
#include "compat-api/objects.hpp"

namespace ferry::compat::rest {
namespace {

using http::Request;
using http::Response;

Response CurrentApplication(ServerContext& ctx, Request& req) {
  return Response::Json(objects::ApplicationJson(ctx, req.bot, req.user));
}

static http::RouteRegistrar oauth2_app{"GET", "/oauth2/applications/@me", "applications_me", CurrentApplication};
static http::RouteRegistrar app{"GET", "/applications/@me", "applications_me", CurrentApplication};

}  // namespace
}  // namespace ferry::compat::rest
