// ferry search --store FILE "query" [--guild ID] [--channel ID] [--author ID] [--limit N] [--json]
#include <cstdio>

#include "cli/command.hpp"
#include "cli/store_open.hpp"
#include "store/snowflake.hpp"
#include "store/timestamp.hpp"

namespace ferry::cli {
namespace {

struct Options {
  std::string store, query, guild, channel, author;
  int limit = 25;
  bool json = false;
};

bool ParseIdOption(const std::string& flag, const std::string& value, std::optional<Snowflake>* out) {
  if (value.empty()) return true;
  auto id = ParseSnowflake(value);
  if (!id) {
    std::fprintf(stderr, "ferry: %s expects a snowflake id (digits), got \"%s\"\n", flag.c_str(), value.c_str());
    return false;
  }
  *out = *id;
  return true;
}

int Run(const Options& o) {
  SearchQuery q;
  q.text = o.query;
  q.limit = o.limit;
  if (!ParseIdOption("--guild", o.guild, &q.guild_id) || !ParseIdOption("--channel", o.channel, &q.channel_id) ||
      !ParseIdOption("--author", o.author, &q.author_id))
    return kExitUsage;
  std::unique_ptr<Store> store;
  if (int rc = OpenExistingStore(o.store, &store)) return rc;
  std::vector<SearchHit> hits;
  Status st = store->Search(q, &hits);
  if (st.code() == Status::Code::kInvalidInput) {
    std::fprintf(stderr, "ferry: %s\n", st.ToString().c_str());
    return kExitUsage;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "ferry: search failed: %s\n", st.ToString().c_str());
    return kExitStore;
  }
  if (o.json) {
    Json out = Json::array();
    for (const auto& h : hits) {
      const Message& m = h.message;
      out.push_back({{"id", std::to_string(m.id)},
                     {"channel_id", std::to_string(m.channel_id)},
                     {"guild_id", m.guild_id ? Json(std::to_string(*m.guild_id)) : Json(nullptr)},
                     {"author_id", m.author_id ? Json(std::to_string(*m.author_id)) : Json(nullptr)},
                     {"timestamp", FormatApiTimestamp(m.timestamp.ms)},
                     {"content", m.content.value_or("")},
                     {"snippet", h.snippet}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  for (const auto& h : hits) {
    const Message& m = h.message;
    std::string author = m.author_id ? std::to_string(*m.author_id) : "?";
    User u;
    if (m.author_id && store->GetUser(*m.author_id, &u).ok())
      author = u.global_name.value_or(u.username.value_or(author));
    std::string channel = std::to_string(m.channel_id);
    Channel c;
    if (store->GetChannel(m.channel_id, &c).ok() && c.name) channel = "#" + *c.name;
    std::printf("%s  %-16s %-20s %s\n    %s\n", FormatApiTimestamp(m.timestamp.ms).substr(0, 19).c_str(),
                channel.c_str(), author.c_str(), std::to_string(m.id).c_str(), h.snippet.c_str());
  }
  if (hits.empty()) std::fprintf(stderr, "no messages match \"%s\"\n", o.query.c_str());
  return kExitOk;
}

Registrar reg("search", "Full-text search over message content", [](CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--store", o->store, "Store file")->required();
  app.add_option("query", o->query, "Words to find (all must match; word* for a prefix)")->required();
  app.add_option("--guild", o->guild, "Only this guild");
  app.add_option("--channel", o->channel, "Only this channel");
  app.add_option("--author", o->author, "Only this author");
  app.add_option("--limit", o->limit, "Most results to show")->check(CLI::Range(1, 1000));
  app.add_flag("--json", o->json, "Print a JSON array");
  return [o]() { return Run(*o); };
});

}  // namespace
}  // namespace ferry::cli
