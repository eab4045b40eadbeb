// ferry bot create|list|revoke: bot accounts for `ferry serve`.
//
//   ferry bot create --store S --name Helper [--guild ID]... [--permissions N] [--no-privileged-intents]
//       prints the token and ONLY the token on stdout (scripts capture it); the store keeps sha256(token).
//       The bot user gets a new snowflake and joins the given guilds (all guilds when none is given) through a
//       managed role named after it holding permission integer N (default 0: it has what @everyone has).
//   ferry bot list --store S [--json]
//   ferry bot revoke --store S ID|NAME
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/store_open.hpp"
#include "compat-api/http/auth.hpp"
#include "store/snowflake.hpp"
#include "store/timestamp.hpp"

namespace ferry::cli {
namespace {

struct CreateOptions {
  std::string store;
  std::string name;
  std::vector<std::string> guilds;
  std::string permissions = "0";
  bool no_privileged_intents = false;
};

int Create(const CreateOptions& o) {
  std::size_t chars = 0;
  for (unsigned char c : o.name) chars += (c & 0xC0) != 0x80;
  if (chars < 2 || chars > 32) {
    std::fprintf(stderr, "ferry bot create: --name \"%s\": a bot name has 2 to 32 characters (Discord's rule)\n",
                 o.name.c_str());
    return kExitUsage;
  }
  auto perms = ParseSnowflake(o.permissions);  // a decimal uint64, like Discord's permission strings
  if (!perms) {
    std::fprintf(stderr, "ferry bot create: --permissions \"%s\": expected a decimal permission integer\n",
                 o.permissions.c_str());
    return kExitUsage;
  }
  std::unique_ptr<Store> store;
  if (int rc = OpenExistingStore(o.store, &store); rc != kExitOk) return rc;

  std::vector<BotInfo> existing;
  if (Status st = store->ListBots(&existing); !st.ok()) {
    std::fprintf(stderr, "ferry bot create: %s\n", st.ToString().c_str());
    return kExitStore;
  }
  for (const auto& b : existing) {
    if (!b.bot.revoked && b.bot.name == o.name) {
      std::fprintf(stderr,
                   "ferry bot create: a bot named \"%s\" already exists (id %llu); revoke it first "
                   "(`ferry bot revoke --store %s %s`) or choose another --name\n",
                   o.name.c_str(), static_cast<unsigned long long>(b.bot.user_id), o.store.c_str(), o.name.c_str());
      return kExitUsage;
    }
  }

  std::vector<Guild> guilds;
  if (o.guilds.empty()) {
    if (Status st = store->ListGuilds(&guilds); !st.ok()) {
      std::fprintf(stderr, "ferry bot create: %s\n", st.ToString().c_str());
      return kExitStore;
    }
  } else {
    for (const auto& g : o.guilds) {
      auto id = ParseSnowflake(g);
      Guild guild;
      if (!id || !store->GetGuild(*id, &guild).ok()) {
        std::fprintf(stderr, "ferry bot create: --guild %s: no such guild in %s (see `ferry stats --store %s`)\n",
                     g.c_str(), o.store.c_str(), o.store.c_str());
        return kExitUsage;
      }
      guilds.push_back(guild);
    }
  }

  Snowflake floor = 0;
  store->MaxSnowflake(&floor);
  SnowflakeGenerator ids(1, 1);
  ids.SetFloor(floor);
  std::int64_t now = NowMs();
  Source src{0, now};

  Bot bot;
  bot.user_id = ids.Next();
  bot.name = o.name;
  bot.permissions = *perms;
  bot.privileged_intents = !o.no_privileged_intents;
  bot.created_ms = now;
  for (const auto& g : guilds) bot.guild_ids.push_back(g.id);

  User user;
  user.id = bot.user_id;
  user.username = o.name;
  user.discriminator = "0";
  user.bot = true;

  std::string token = compat::http::GenerateToken(bot.user_id);
  auto fail = [&](const Status& st) {
    store->Rollback();
    std::fprintf(stderr, "ferry bot create: %s (nothing was written)\n", st.ToString().c_str());
    return kExitStore;
  };
  if (Status st = store->Begin(); !st.ok()) return fail(st);
  if (Status st = store->UpsertUser(user, src); !st.ok()) return fail(st);
  for (const auto& g : guilds) {
    // Discord puts a bot's managed role right above @everyone.
    Role role;
    role.id = ids.Next();
    role.guild_id = g.id;
    role.name = o.name;
    role.color = 0;
    role.position = 1;
    role.permissions = *perms;
    role.hoist = false;
    role.managed = true;
    role.mentionable = false;
    role.extra = Json{{"bot_id", std::to_string(bot.user_id)}};
    if (Status st = store->UpsertRole(role, src); !st.ok()) return fail(st);
    Member m;
    m.guild_id = g.id;
    m.user_id = bot.user_id;
    m.joined_at_ms = now;
    m.role_ids = std::vector<Snowflake>{role.id};
    if (Status st = store->UpsertMember(m, src); !st.ok()) return fail(st);
  }
  if (Status st = store->CreateBot(bot, compat::http::TokenHash(token), compat::http::TokenPrefix(token)); !st.ok())
    return fail(st);
  if (Status st = store->Commit(); !st.ok()) return fail(st);
  std::printf("%s\n", token.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "ferry bot create: %s (id %llu) joined %zu guild(s); the token above is shown only once\n",
               o.name.c_str(), static_cast<unsigned long long>(bot.user_id), guilds.size());
  return kExitOk;
}

static Registrar create_reg("bot create", "Create a bot account for `ferry serve`; prints only its token",
                            [](CLI::App& app) {
                              auto o = std::make_shared<CreateOptions>();
                              app.add_option("--store", o->store, "Store file")->required();
                              app.add_option("--name", o->name, "Bot name (2-32 characters)")->required();
                              app.add_option("--guild", o->guilds, "Guild id to join (repeatable; default: all)");
                              app.add_option("--permissions", o->permissions,
                                             "Permission integer of its managed role (default 0)");
                              app.add_flag("--no-privileged-intents", o->no_privileged_intents,
                                           "Do not grant message content, members and presence intents");
                              return [o]() { return Create(*o); };
                            });

struct ListOptions {
  std::string store;
};

static Registrar list_reg("bot list", "List bot accounts (never their tokens)", [](CLI::App& app) {
  auto o = std::make_shared<ListOptions>();
  app.add_option("--store", o->store, "Store file")->required();
  static bool json_flag = false;  // read through JsonOutput()
  app.add_flag("--json", json_flag, "One JSON array on stdout");
  return [o]() -> int {
    std::unique_ptr<Store> store;
    if (int rc = OpenExistingStore(o->store, &store); rc != kExitOk) return rc;
    std::vector<BotInfo> bots;
    if (Status st = store->ListBots(&bots); !st.ok()) {
      std::fprintf(stderr, "ferry bot list: %s\n", st.ToString().c_str());
      return kExitStore;
    }
    if (JsonOutput()) {
      Json out = Json::array();
      for (const auto& b : bots) {
        Json guilds = Json::array();
        for (Snowflake g : b.bot.guild_ids) guilds.push_back(std::to_string(g));
        out.push_back({{"id", std::to_string(b.bot.user_id)},
                       {"name", b.bot.name},
                       {"token_prefix", b.token_prefix},
                       {"permissions", std::to_string(b.bot.permissions)},
                       {"privileged_intents", b.bot.privileged_intents},
                       {"guilds", guilds},
                       {"created", FormatApiTimestamp(b.bot.created_ms)},
                       {"revoked", b.bot.revoked}});
      }
      std::printf("%s\n", out.dump(2).c_str());
      return kExitOk;
    }
    std::printf("%-20s %-24s %-16s %-14s %-10s %-6s %s\n", "ID", "NAME", "TOKEN", "PERMISSIONS", "PRIVILEGED",
                "GUILDS", "STATUS");
    for (const auto& b : bots)
      std::printf("%-20llu %-24s %-16s %-14llu %-10s %-6zu %s\n", static_cast<unsigned long long>(b.bot.user_id),
                  b.bot.name.c_str(), (b.token_prefix + "…").c_str(),
                  static_cast<unsigned long long>(b.bot.permissions), b.bot.privileged_intents ? "yes" : "no",
                  b.bot.guild_ids.size(), b.bot.revoked ? "revoked" : "active");
    return kExitOk;
  };
});

struct RevokeOptions {
  std::string store;
  std::string who;
};

static Registrar revoke_reg("bot revoke", "Revoke a bot's token (by bot id or name)", [](CLI::App& app) {
  auto o = std::make_shared<RevokeOptions>();
  app.add_option("--store", o->store, "Store file")->required();
  app.add_option("bot", o->who, "Bot id or name")->required();
  return [o]() -> int {
    std::unique_ptr<Store> store;
    if (int rc = OpenExistingStore(o->store, &store); rc != kExitOk) return rc;
    Status st = store->RevokeBot(o->who);
    if (st.IsNotFound()) {
      std::fprintf(stderr, "ferry bot revoke: no bot \"%s\" in %s (see `ferry bot list --store %s`)\n", o->who.c_str(),
                   o->store.c_str(), o->store.c_str());
      return kExitInputFailed;
    }
    if (!st.ok()) {
      std::fprintf(stderr, "ferry bot revoke: %s\n", st.ToString().c_str());
      return kExitStore;
    }
    std::fprintf(stderr, "ferry bot revoke: %s revoked; a running server refuses its token within 5 s\n",
                 o->who.c_str());
    return kExitOk;
  };
});

}  // namespace
}  // namespace ferry::cli
