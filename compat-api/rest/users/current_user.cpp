// GET /users/@me: the bot's own user (discord.py's login check: 401 here means a bad token).
#include "compat-api/context.hpp"
#include "compat-api/http/router.hpp"
#include "compat-api/objects.hpp"

namespace ferry::compat::rest {
namespace {

using http::Request;
using http::Response;

static http::RouteRegistrar get_me{"GET", "/users/@me", "users_me", [](ServerContext& ctx, Request& req) {
                                     Json u = objects::UserJson(req.user);
                                     u["bot"] = true;
                                     u["verified"] = true;
                                     u["mfa_enabled"] = false;
                                     u["locale"] = "en-US";
                                     u["email"] = nullptr;
                                     u["premium_type"] = 0;
                                     return Response::Json(u);
                                   }};

}  // namespace
}  // namespace ferry::compat::rest
