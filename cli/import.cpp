// ferry import PATH... --store FILE [--json]
// Recognises each input by its content, never by its name: a data package (zip or folder, found by its
// structure: importers/package/package.hpp), or DiscordChatExporter JSON (a file, or a folder holding such
// files). Says what it took each input for, then imports packages one by one and all DCE inputs as one run.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/import_package.hpp"
#include "importers/dce/dce.hpp"
#include "importers/package/package.hpp"
#include "store/store.hpp"

namespace {

namespace fs = std::filesystem;

struct Opts {
  std::vector<std::string> paths;
  std::string store;
  bool json = false;
  bool force = false;
};

struct Detected {
  std::string path;
  std::string kind;  // "package", "dce", "unknown"
  std::string what;  // human description
};

bool IsZip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char b[4] = {};
  in.read(b, 4);
  return in.gcount() == 4 && b[0] == 'P' && b[1] == 'K' && ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6));
}

// A folder counts as DCE when one of its .json files (outside *_Files media folders) is a DCE export.
bool FolderHasDce(const std::string& dir, std::string* example) {
  std::error_code ec;
  int looked = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const auto& p = it->path();
    if (it->is_directory(ec) && p.filename().string().size() > 6 &&
        p.filename().string().rfind("_Files") == p.filename().string().size() - 6) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || p.extension() != ".json") continue;
    if (ferry::dce::LooksLikeDce(p.string())) {
      *example = p.filename().string();
      return true;
    }
    if (++looked > 10000) break;
  }
  return false;
}

Detected Detect(const std::string& path) {
  Detected d{path, "unknown", ""};
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    d.what = "no such file or folder";
    return d;
  }
  bool is_dir = fs::is_directory(st);
  if (is_dir || IsZip(path)) {
    bool pkg = false;
    std::string why;
    ferry::Status s = ferry::package::Detect(path, &pkg, &why);
    if (!s.ok()) {
      d.what = s.message();
      return d;
    }
    if (pkg) {
      d.kind = "package";
      d.what = std::string("Discord data package (") + (is_dir ? "folder" : "zip") + ": " + why + ")";
      return d;
    }
    if (!is_dir) {
      d.what = "a zip that is not a Discord data package: " + why;
      return d;
    }
    std::string example;
    if (FolderHasDce(path, &example)) {
      d.kind = "dce";
      d.what = "folder of DiscordChatExporter JSON exports (e.g. " + example + ")";
      return d;
    }
    d.what = "a folder with neither a data package (" + why + ") nor DiscordChatExporter JSON files";
    return d;
  }
  std::string why;
  if (ferry::dce::LooksLikeDce(path, &why)) {
    d.kind = "dce";
    d.what = "DiscordChatExporter JSON export";
    return d;
  }
  d.what = "not recognised: neither a DiscordChatExporter JSON export nor a Discord data package" +
           (why.empty() ? std::string() : " (" + why + ")");
  return d;
}

ferry::cli::Registrar reg(
    "import", "Import inputs of any supported kind, recognised by their content (or use a subcommand)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      // Not ->required(): `ferry import dce …` must parse without these on the group.
      app.add_option("paths", o->paths, "files or folders: DCE JSON exports, data package zips or folders");
      app.add_option("--store", o->store, "the store (SQLite file; created if missing)");
      app.add_flag("--json", o->json, "print one JSON summary on stdout instead of progress and text");
      app.add_flag("--force", o->force, "data packages: import again channels an earlier run finished");
      return [o]() -> int {
        using namespace ferry;
        if (o->paths.empty() || o->store.empty()) {
          std::fprintf(stderr, "usage: ferry import PATH... --store FILE [--json]   (or: ferry import dce|package …)\n");
          return cli::kExitUsage;
        }
        bool json = o->json || cli::JsonOutput();
        std::vector<Detected> found;
        for (const auto& p : o->paths) {
          found.push_back(Detect(p));
          if (!json) std::fprintf(stderr, "%s: %s\n", p.c_str(), found.back().what.c_str());
        }
        OpenOptions oo;
        oo.bulk_load = true;
        std::unique_ptr<Store> store;
        Status st = Store::Open(o->store, oo, &store);
        if (!st.ok()) {
          std::fprintf(stderr, "error: %s\n", st.message().c_str());
          return cli::kExitStore;
        }
        int rc = cli::kExitOk;
        auto worse = [&](int r) {
          if (r == cli::kExitOk) return;
          if (rc == cli::kExitOk || r == cli::kExitInterrupted) rc = r;
        };
        Json out = {{"inputs", Json::array()}, {"results", Json::array()}};
        std::vector<std::string> dce_paths;
        for (const auto& d : found) {
          out["inputs"].push_back({{"path", d.path}, {"detected", d.kind}, {"why", d.what}});
          if (d.kind == "unknown") worse(cli::kExitInputFailed);
          if (d.kind == "dce") dce_paths.push_back(d.path);
        }
        for (const auto& d : found) {
          if (d.kind != "package" || rc == cli::kExitInterrupted) continue;
          Json s;
          worse(cli::RunPackageImport(store.get(), d.path, o->force, json, &s));
          out["results"].push_back(s);
        }
        if (!dce_paths.empty() && rc != cli::kExitInterrupted) {
          auto progress = MakeProgress(json);
          dce::DceImportOptions opts;
          opts.interrupted = [] { return cli::InterruptRequested(); };
          dce::DceImportResult res;
          st = dce::ImportDce(*store, dce_paths, opts, *progress, &res);
          progress->Finish();
          Json j = res.ToJson();
          j["kind"] = "dce";
          if (!st.ok() && st.code() != Status::Code::kInterrupted) j["error"] = st.message();
          out["results"].push_back(j);
          if (!json) {
            std::printf("import dce: %s (%lld files imported, %lld unchanged, %lld failed; %lld messages)\n",
                        res.status.c_str(), static_cast<long long>(res.files_imported),
                        static_cast<long long>(res.files_skipped), static_cast<long long>(res.files_failed),
                        static_cast<long long>(res.messages));
            for (auto& [file, why] : res.failed) std::printf("  FAILED     %s\n", why.c_str());
          }
          if (st.code() == Status::Code::kInterrupted) worse(cli::kExitInterrupted);
          else if (!st.ok()) worse(cli::kExitRuntime);
          else if (res.files_failed > 0) worse(cli::kExitInputFailed);
        }
        if (json) std::printf("%s\n", out.dump(2).c_str());
        return rc;
      };
    });

}  // namespace
