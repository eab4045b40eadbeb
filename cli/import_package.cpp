// ferry import package PATH... --store FILE [--json] [--force]
// Imports Discord data packages (the zip, or the unpacked folder). See importers/package/package.hpp.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/import_package.hpp"
#include "importers/package/package.hpp"
#include "store/store.hpp"

namespace ferry::cli {

void PrintPackageHuman(const Json& s) {
  auto str = [](const Json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
  const std::string status = s.value("status", std::string("failed"));
  std::printf("import package: %s\n", status == "already_imported" ? "already imported, nothing changed" : status.c_str());
  if (s.contains("container"))
    std::printf("  package    %s (%s)\n", s.value("path", std::string()).c_str(), s.value("container", std::string()).c_str());
  else
    std::printf("  package    %s\n", s.value("path", std::string()).c_str());
  if (s.contains("eras") && !s["eras"].empty()) {
    std::string eras;
    for (const auto& e : s["eras"]) eras += (eras.empty() ? "" : ", ") + str(e);
    std::printf("  format     era %s\n", eras.c_str());
  }
  if (s.contains("folders")) {
    std::string f;
    for (auto it = s["folders"].begin(); it != s["folders"].end(); ++it)
      f += (f.empty() ? "" : ", ") + it.key() + " '" + str(it.value()) + "'";
    std::printf("  folders    %s\n", f.c_str());
  }
  if (s.contains("absent") && !s["absent"].empty()) {
    std::string a;
    for (const auto& e : s["absent"]) a += (a.empty() ? "" : ", ") + str(e);
    std::printf("  absent     %s (imported what is there)\n", a.c_str());
  }
  if (s.contains("owner_id"))
    std::printf("  owner      %s (%s)\n", s["owner_id"].is_null() ? "unknown" : str(s["owner_id"]).c_str(),
                s.value("owner_from", std::string()).c_str());
  if (s.contains("counts") && status != "already_imported") {
    const Json& c = s["counts"];
    auto n = [&](const char* k) { return static_cast<long long>(c.value(k, std::int64_t{0})); };
    std::printf("  messages   %lld (%lld new, %lld merged with what the store had)\n", n("messages"),
                n("messages_new"), n("messages_merged"));
    std::printf("  channels   %lld new, %lld files imported, %lld already done earlier\n", n("channels"),
                n("channel_files"), n("channel_files_already_done"));
    std::printf("  guilds     %lld new   users %lld new   attachments %lld (URLs only; media missing)\n", n("guilds"),
                n("users"), n("attachments"));
  }
  if (s.contains("warnings") && !s["warnings"].empty())
    std::printf("  warnings   %zu (shown above)\n", s["warnings"].size());
  if (s.contains("run_id")) std::printf("  run        %s\n", str(s["run_id"]).c_str());
  if (s.contains("error")) std::printf("  FAILED     %s\n", str(s["error"]).c_str());
}

int RunPackageImport(Store* store, const std::string& path, bool force, bool json, Json* summary) {
  auto progress = MakeProgress(json);
  package::Options opts;
  opts.force = force;
  opts.progress = progress.get();
  opts.interrupted = [] { return InterruptRequested(); };
  package::Result res;
  Status st = package::Import(store, path, opts, &res);
  progress->Finish();
  *summary = res.summary;
  if (!summary->contains("path")) (*summary)["path"] = path, (*summary)["kind"] = "package";
  if (!st.ok()) {
    (*summary)["error"] = st.message();
    if (!summary->contains("status") || (*summary)["status"] == "running")
      (*summary)["status"] = st.code() == Status::Code::kInterrupted ? "interrupted" : "failed";
  }
  if (!json) {
    if (!st.ok() && st.code() != Status::Code::kInterrupted) std::fprintf(stderr, "error: %s\n", st.message().c_str());
    PrintPackageHuman(*summary);
  }
  if (st.ok()) return kExitOk;
  switch (st.code()) {
    case Status::Code::kInterrupted:
      std::fprintf(stderr, "interrupted: the store is consistent; run the same command again to finish\n");
      return kExitInterrupted;
    case Status::Code::kInvalidInput:
    case Status::Code::kNotFound:
    case Status::Code::kIoError:
      return kExitInputFailed;
    default:
      return kExitRuntime;
  }
}

}  // namespace ferry::cli

namespace {

struct Opts {
  std::vector<std::string> paths;
  std::string store;
  bool json = false;
  bool force = false;
};

ferry::cli::Registrar reg(
    "import package", "Import Discord data packages (package.zip, or the unpacked folder)", [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("paths", o->paths, "package.zip files or unpacked package folders")->required();
      app.add_option("--store", o->store, "the store (SQLite file; created if missing)")->required();
      app.add_flag("--json", o->json, "print one JSON summary on stdout instead of progress and text");
      app.add_flag("--force", o->force, "import again channels an earlier run already finished");
      return [o]() -> int {
        using namespace ferry;
        bool json = o->json || cli::JsonOutput();
        OpenOptions oo;
        oo.bulk_load = true;
        std::unique_ptr<Store> store;
        Status st = Store::Open(o->store, oo, &store);
        if (!st.ok()) {
          std::fprintf(stderr, "error: %s\n", st.message().c_str());
          return cli::kExitStore;
        }
        int rc = cli::kExitOk;
        Json all = Json::array();
        for (const auto& p : o->paths) {
          Json s;
          int r = cli::RunPackageImport(store.get(), p, o->force, json, &s);
          all.push_back(s);
          if (r != cli::kExitOk && (rc == cli::kExitOk || r == cli::kExitInterrupted)) rc = r;
          if (r == cli::kExitInterrupted) break;
        }
        // Durable before it is reported (a new store is written unsynced until here).
        st = store->Close();
        if (json) std::printf("%s\n", (all.size() == 1 ? all[0] : all).dump(2).c_str());
        if (!st.ok()) {
          std::fprintf(stderr, "error: %s\n", st.message().c_str());
          return cli::kExitStore;
        }
        return rc;
      };
    });

}  // namespace
