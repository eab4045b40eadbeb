// GUILD_MEMBERS_CHUNK: the answer to op 8 REQUEST_GUILD_MEMBERS, 1000 members per chunk, nonce echoed.
#include <algorithm>
#include <cctype>

#include "compat-api/gateway/dispatch/common.hpp"

namespace ferry::compat::dispatch {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<Json> GuildMembersChunks(ServerContext& ctx, Snowflake guild_id, const std::string& query,
                                     const std::vector<Snowflake>& user_ids, int limit, const Json& nonce) {
  constexpr std::size_t kChunk = 1000;
  std::vector<Json> members;
  Json not_found = Json::array();
  if (!user_ids.empty()) {
    for (Snowflake u : user_ids) {
      if (members.size() >= 100) break;  // Discord's cap for user_ids requests
      Member m;
      if (ctx.store.GetMember(guild_id, u, &m).ok()) members.push_back(objects::MemberJson(ctx, m, true));
      else not_found.push_back(objects::Id(u));
    }
  } else {
    std::string q = Lower(query);
    std::size_t cap = limit > 0 ? static_cast<std::size_t>(limit) : SIZE_MAX;
    if (!q.empty()) cap = std::min<std::size_t>(cap, 100);
    Snowflake after = 0;
    while (members.size() < cap) {
      std::vector<Member> page;
      if (!ctx.store.ListMembers(guild_id, after, 1000, &page).ok() || page.empty()) break;
      after = page.back().user_id;
      for (const auto& m : page) {
        if (members.size() >= cap) break;
        Json mj = objects::MemberJson(ctx, m, true);
        if (!q.empty()) {
          std::string name = Lower(mj["user"]["username"].get<std::string>());
          std::string nick = m.nick ? Lower(*m.nick) : "";
          if (name.rfind(q, 0) != 0 && nick.rfind(q, 0) != 0) continue;
        }
        members.push_back(std::move(mj));
      }
      if (page.size() < 1000) break;
    }
  }
  std::vector<Json> chunks;
  std::size_t count = std::max<std::size_t>(1, (members.size() + kChunk - 1) / kChunk);
  for (std::size_t i = 0; i < count; ++i) {
    Json part = Json::array();
    for (std::size_t j = i * kChunk; j < std::min(members.size(), (i + 1) * kChunk); ++j) part.push_back(members[j]);
    Json c = {{"guild_id", objects::Id(guild_id)},
              {"members", std::move(part)},
              {"chunk_index", i},
              {"chunk_count", count}};
    if (i == 0 && !not_found.empty()) c["not_found"] = not_found;
    if (!nonce.is_null()) c["nonce"] = nonce;
    chunks.push_back(std::move(c));
  }
  return chunks;
}

}  // namespace ferry::compat::dispatch
