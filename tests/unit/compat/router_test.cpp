// Routing: API prefixes, literal-over-param precedence, percent-decoded params, 404/405 and error shapes.
#include <gtest/gtest.h>

#include "compat-api/gateway/fanout.hpp"
#include "compat-api/http/api.hpp"
#include "compat-api/http/errors.hpp"
#include "compat-api/http/router.hpp"

namespace ferry::compat::http {
namespace {

Response Echo(ServerContext&, Request& req) {
  Json j = Json::object();
  for (const auto& [k, v] : req.params) j[k] = v;
  return Response::Json(j);
}

Router MakeRouter() {
  Router r;
  r.Add({"GET", "/channels/{channel_id}/messages/{message_id}", "b", Echo});
  r.Add({"GET", "/channels/{channel_id}/messages/pins", "b", Echo});
  r.Add({"PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", "b", Echo});
  r.Add({"GET", "/users/@me", "b", Echo});
  r.Add({"GET", "/users/{user_id}", "b", Echo});
  return r;
}

TEST(ApiTarget, AcceptsTheThreePrefixes) {
  for (const char* t : {"/api/users/@me", "/api/v9/users/@me", "/api/v10/users/@me"}) {
    auto a = SplitApiTarget(t);
    ASSERT_TRUE(a) << t;
    EXPECT_EQ(a->path, "/users/@me");
  }
  EXPECT_EQ(SplitApiTarget("/api/v9/x")->version, 9);
  EXPECT_EQ(SplitApiTarget("/api/x")->version, 10);
  auto q = SplitApiTarget("/api/v10/channels/1/messages?limit=5&before=9");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->path, "/channels/1/messages");
  EXPECT_EQ(q->query, "limit=5&before=9");
  EXPECT_FALSE(SplitApiTarget("/apix/users"));
  EXPECT_FALSE(SplitApiTarget("/cdn/attachments/1/2/a.png"));
  EXPECT_FALSE(SplitApiTarget("/api/v99/users/@me"));
}

TEST(Router, LiteralSegmentsBeatParams) {
  Router r = MakeRouter();
  auto m = r.Find("GET", "/channels/1/messages/pins");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->pattern, "/channels/{channel_id}/messages/pins");
  m = r.Find("GET", "/channels/1/messages/22");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->pattern, "/channels/{channel_id}/messages/{message_id}");
  m = r.Find("GET", "/users/@me");
  EXPECT_EQ(m.route->pattern, "/users/@me");
  m = r.Find("GET", "/users/42");
  EXPECT_EQ(m.route->pattern, "/users/{user_id}");
}

TEST(Router, ParamsArePercentDecoded) {
  Router r = MakeRouter();
  auto m = r.Find("PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me");
  ASSERT_TRUE(m.route);
  ASSERT_EQ(m.params.size(), 3u);
  EXPECT_EQ(m.params[2].first, "emoji");
  EXPECT_EQ(m.params[2].second, "\xF0\x9F\x91\x8D");
  m = r.Find("PUT", "/channels/1/messages/2/reactions/blob%3A123/@me");
  EXPECT_EQ(m.params[2].second, "blob:123");
}

TEST(Router, WrongMethodIsReportedAsExistingPath) {
  Router r = MakeRouter();
  auto m = r.Find("DELETE", "/users/@me");
  EXPECT_FALSE(m.route);
  EXPECT_TRUE(m.path_exists);
  m = r.Find("GET", "/nothing/here");
  EXPECT_FALSE(m.route);
  EXPECT_FALSE(m.path_exists);
}

TEST(Router, QueryParsing) {
  auto q = ParseQuery("limit=50&around=123&name=a+b%21&flag");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[2].second, "a b!");
  EXPECT_EQ(q[3].first, "flag");
}

TEST(Errors, DiscordShapes) {
  EXPECT_EQ(Json::parse(Unauthorized().body), (Json{{"message", "401: Unauthorized"}, {"code", 0}}));
  EXPECT_EQ(Unauthorized().status, 401);
  EXPECT_EQ(Unauthorized().content_type, "application/json");
  EXPECT_EQ(Json::parse(UnknownChannel().body)["code"], 10003);
  EXPECT_EQ(MissingPermissions().status, 403);
  EXPECT_EQ(Json::parse(MissingPermissions().body)["code"], 50013);
  FormErrors fe;
  fe.Add("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
  fe.Add("embeds.0.title", "BASE_TYPE_REQUIRED", "This field is required");
  Json body = Json::parse(fe.ToResponse().body);
  EXPECT_EQ(body["code"], 50035);
  EXPECT_EQ(body["message"], "Invalid Form Body");
  EXPECT_EQ(body["errors"]["content"]["_errors"][0]["code"], "BASE_TYPE_MAX_LENGTH");
  EXPECT_EQ(body["errors"]["embeds"]["0"]["title"]["_errors"][0]["code"], "BASE_TYPE_REQUIRED");
}

TEST(Request, SnowflakeParamRejectsNonNumbers) {
  Request req;
  req.params = {{"channel_id", "abc"}};
  try {
    req.SnowflakeParam("channel_id");
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    Json body = Json::parse(e.response().body);
    EXPECT_EQ(body["code"], 50035);
    EXPECT_TRUE(body["errors"]["channel_id"]["_errors"].is_array());
  }
  req.params = {{"channel_id", "1234"}};
  EXPECT_EQ(req.SnowflakeParam("channel_id"), 1234u);
}

TEST(Request, JsonBodyErrorsAre50109) {
  Request req;
  req.body = "{bad";
  try {
    req.JsonBody();
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(Json::parse(e.response().body)["code"], 50109);
  }
  Request empty;
  EXPECT_TRUE(empty.JsonBody().is_object());
}

}  // namespace
}  // namespace ferry::compat::http
