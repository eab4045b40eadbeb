// ferry stats --store FILE [--json]: what is in the store, and where it came from.
#include <cstdio>

#include "cli/command.hpp"
#include "cli/store_open.hpp"

namespace ferry::cli {
namespace {

struct Options {
  std::string store;
  bool json = false;
};

int Run(const Options& o) {
  std::unique_ptr<Store> store;
  if (int rc = OpenExistingStore(o.store, &store)) return rc;
  StoreStats s;
  Status st = store->Stats(&s);
  if (!st.ok()) {
    std::fprintf(stderr, "ferry: reading statistics of %s failed: %s\n", o.store.c_str(), st.ToString().c_str());
    return kExitStore;
  }
  if (o.json) {
    Json out = {{"store", o.store},
                {"schema_version", store->schema_version()},
                {"guilds", s.guilds},
                {"channels", s.channels},
                {"threads", s.threads},
                {"users", s.users},
                {"members", s.members},
                {"roles", s.roles},
                {"messages", s.messages},
                {"attachments", s.attachments},
                {"attachments_missing", s.attachments_missing},
                {"reactions", s.reactions},
                {"embeds", s.embeds},
                {"stickers", s.stickers},
                {"blobs", s.blobs},
                {"blob_bytes", s.blob_bytes},
                {"messages_by_source", s.messages_by_source},
                {"import_runs", s.runs}};
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("store        %s (schema version %d)\n", o.store.c_str(), store->schema_version());
  std::printf("guilds       %lld\n", static_cast<long long>(s.guilds));
  std::printf("channels     %lld (+ %lld threads)\n", static_cast<long long>(s.channels), static_cast<long long>(s.threads));
  std::printf("users        %lld (%lld guild members)\n", static_cast<long long>(s.users), static_cast<long long>(s.members));
  std::printf("roles        %lld\n", static_cast<long long>(s.roles));
  std::printf("messages     %lld\n", static_cast<long long>(s.messages));
  for (auto it = s.messages_by_source.begin(); it != s.messages_by_source.end(); ++it)
    std::printf("  from %-7s %lld\n", it.key().c_str(), static_cast<long long>(it.value().get<std::int64_t>()));
  std::printf("attachments  %lld (%lld without their media)\n", static_cast<long long>(s.attachments),
              static_cast<long long>(s.attachments_missing));
  std::printf("reactions    %lld\n", static_cast<long long>(s.reactions));
  std::printf("embeds       %lld\n", static_cast<long long>(s.embeds));
  std::printf("stickers     %lld\n", static_cast<long long>(s.stickers));
  std::printf("blobs        %lld (%.1f MB)\n", static_cast<long long>(s.blobs), s.blob_bytes / 1e6);
  std::printf("import runs  %lld\n", static_cast<long long>(s.import_runs));
  for (const auto& r : s.runs) {
    std::printf("  #%lld %-8s %-11s %s\n", static_cast<long long>(r["id"].get<std::int64_t>()),
                r["kind"].get<std::string>().c_str(), r["status"].get<std::string>().c_str(),
                r["path"].get<std::string>().c_str());
  }
  return kExitOk;
}

Registrar reg("stats", "Show what the store holds (counts, sources, import runs)", [](CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--store", o->store, "Store file")->required();
  app.add_flag("--json", o->json, "Print one JSON document instead of text");
  return [o]() { return Run(*o); };
});

}  // namespace
}  // namespace ferry::cli
