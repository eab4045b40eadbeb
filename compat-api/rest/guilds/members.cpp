// GET /guilds/{guild_id}/members (?limit=1..1000, default 1; ?after=user id; ascending by user id — needs the
// GUILD_MEMBERS privileged intent, 403 50001 without, as on Discord), GET /guilds/{guild_id}/members/{user_id}
// (10007 when not a member), GET /guilds/{guild_id}/members/search (?query= prefix of username, global name
// or nickname, case-insensitive; ?limit=1..1000, default 1).
#include <algorithm>
#include <cctype>

#include "compat-api/objects.hpp"
#include "compat-api/rest/common.hpp"
#include "store/store.hpp"

namespace ferry::compat::rest {
namespace {

using http::ApiError;
using http::FormErrors;
using http::Request;
using http::Response;

constexpr int kScanBatch = 1000;

http::Response ListMembers(ServerContext& ctx, Request& req) {
  Snowflake gid = req.SnowflakeParam("guild_id");
  FormErrors errors;
  int limit = QueryInt(req, "limit", 1, 1, 1000, errors);
  auto after = QuerySnowflake(req, "after", errors);
  errors.ThrowIfAny();
  LoadGuildForBot(ctx, req, gid);
  if (!req.bot.privileged_intents) throw ApiError(http::MissingAccess());
  std::vector<Member> members;
  Status st = ctx.store.ListMembers(gid, after.value_or(0), limit, &members);
  if (!st.ok()) ThrowStoreError(st, "listing members");
  Json out = Json::array();
  for (const auto& m : members) out.push_back(objects::MemberJson(ctx, m, true));
  return Response::Json(out);
}

http::Response GetMember(ServerContext& ctx, Request& req) {
  Snowflake gid = req.SnowflakeParam("guild_id");
  Snowflake uid = req.SnowflakeParam("user_id");
  LoadGuildForBot(ctx, req, gid);
  Member m;
  Status st = ctx.store.GetMember(gid, uid, &m);
  if (st.IsNotFound()) throw ApiError(http::UnknownMember());
  if (!st.ok()) ThrowStoreError(st, "loading a member");
  return Response::Json(objects::MemberJson(ctx, m, true));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWith(const std::optional<std::string>& s, const std::string& prefix) {
  return s && Lower(*s).rfind(prefix, 0) == 0;
}

http::Response SearchMembers(ServerContext& ctx, Request& req) {
  Snowflake gid = req.SnowflakeParam("guild_id");
  FormErrors errors;
  int limit = QueryInt(req, "limit", 1, 1, 1000, errors);
  auto query = req.Query("query");
  if (!query) errors.Add("query", "BASE_TYPE_REQUIRED", "This field is required");
  else if (query->empty() || CharCount(*query) > 100)
    errors.Add("query", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
  errors.ThrowIfAny();
  LoadGuildForBot(ctx, req, gid);
  const std::string prefix = Lower(*query);
  Json out = Json::array();
  Snowflake after = 0;
  // Members are scanned in id order in bounded batches: memory stays flat however large the guild is.
  while (static_cast<int>(out.size()) < limit) {
    std::vector<Member> batch;
    Status st = ctx.store.ListMembers(gid, after, kScanBatch, &batch);
    if (!st.ok()) ThrowStoreError(st, "searching members");
    for (const auto& m : batch) {
      User u;
      bool known = ctx.store.GetUser(m.user_id, &u).ok();
      if (StartsWith(m.nick, prefix) || (known && (StartsWith(u.username, prefix) || StartsWith(u.global_name, prefix)))) {
        out.push_back(objects::MemberJson(ctx, m, true));
        if (static_cast<int>(out.size()) == limit) break;
      }
    }
    if (static_cast<int>(batch.size()) < kScanBatch) break;
    after = batch.back().user_id;
  }
  return Response::Json(out);
}

const http::RouteRegistrar kList{"GET", "/guilds/{guild_id}/members", "guild_members_get", ListMembers};
const http::RouteRegistrar kSearch{"GET", "/guilds/{guild_id}/members/search", "guild_members_search", SearchMembers};
const http::RouteRegistrar kGet{"GET", "/guilds/{guild_id}/members/{user_id}", "guild_member_get", GetMember};

}  // namespace
}  // namespace ferry::compat::rest
