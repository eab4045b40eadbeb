// GET /users/{user_id}: any user the store knows (authors, members, mentioned users), 10013 otherwise.
#include "compat-api/objects.hpp"
#include "compat-api/rest/common.hpp"

namespace ferry::compat::rest {
namespace {

http::Response GetUser(ServerContext& ctx, http::Request& req) {
  return http::Response::Json(objects::UserJson(LoadUser(ctx, req.SnowflakeParam("user_id"))));
}

const http::RouteRegistrar kGetUser{"GET", "/users/{user_id}", "user_get", GetUser};

}  // namespace
}  // namespace ferry::compat::rest
