// ferry import dce PATH... --store FILE [--json] [--batch N]
// Imports DiscordChatExporter JSON exports (files or folders). See importers/dce/dce.hpp for the contract.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "importers/dce/dce.hpp"
#include "store/store.hpp"

namespace {

struct Opts {
  std::vector<std::string> paths;
  std::string store;
  bool json = false;
  int batch = 2000;
};

// Warnings and errors must reach stderr even when it is not a terminal (no bar then); --json keeps them in
// the summary only.
class NotingProgress : public ferry::Progress {
 public:
  NotingProgress(std::unique_ptr<ferry::Progress> inner, bool terminal, bool quiet)
      : inner_(std::move(inner)), terminal_(terminal), quiet_(quiet) {}
  void Update(const std::string& l, std::int64_t d, std::int64_t t, std::int64_t i) override { inner_->Update(l, d, t, i); }
  void Note(const std::string& line) override {
    if (quiet_) return;
    if (terminal_) inner_->Note(line);
    else std::fprintf(stderr, "%s\n", line.c_str());
  }
  void Finish() override { inner_->Finish(); }

 private:
  std::unique_ptr<ferry::Progress> inner_;
  bool terminal_, quiet_;
};

void PrintHuman(const ferry::dce::DceImportResult& r) {
  std::printf("import dce: %s in %.1f s\n", r.status.c_str(), r.seconds);
  std::printf("  files      %lld imported, %lld unchanged (skipped), %lld failed, %lld ignored\n",
              static_cast<long long>(r.files_imported), static_cast<long long>(r.files_skipped),
              static_cast<long long>(r.files_failed), static_cast<long long>(r.files_ignored));
  std::printf("  messages   %lld (%lld skipped)\n", static_cast<long long>(r.messages),
              static_cast<long long>(r.messages_skipped));
  std::printf("  users      %lld\n", static_cast<long long>(r.users));
  std::printf("  attachments %lld (%lld without local bytes)\n", static_cast<long long>(r.attachments),
              static_cast<long long>(r.attachments_missing));
  std::printf("  media      %lld blobs copied, %lld local files missing, %lld remote URLs not downloaded\n",
              static_cast<long long>(r.blobs_copied), static_cast<long long>(r.media_missing),
              static_cast<long long>(r.media_remote));
  if (r.warnings_total) std::printf("  warnings   %lld (listed on stderr)\n", static_cast<long long>(r.warnings_total));
  for (auto& [file, why] : r.failed) std::printf("  FAILED     %s\n", why.c_str());
  for (auto& [file, why] : r.ignored) std::printf("  ignored    %s: %s\n", file.c_str(), why.c_str());
  for (auto id : r.run_ids) std::printf("  run        %lld\n", static_cast<long long>(id));
}

ferry::cli::Registrar reg(
    "import dce", "Import DiscordChatExporter JSON exports (files, or folders searched for them)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("paths", o->paths, "DCE .json files, or folders holding them (with their *_Files media)")
          ->required();
      app.add_option("--store", o->store, "the store (SQLite file; created if missing)")->required();
      app.add_flag("--json", o->json, "print one JSON summary on stdout instead of progress and text");
      app.add_option("--batch", o->batch, "messages per transaction")->check(CLI::Range(1, 1000000));
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
        auto progress = std::make_unique<NotingProgress>(MakeProgress(json), !json && ::isatty(2), json);
        dce::DceImportOptions opts;
        opts.batch_messages = o->batch;
        opts.interrupted = [] { return cli::InterruptRequested(); };
        dce::DceImportResult res;
        st = dce::ImportDce(*store, o->paths, opts, *progress, &res);
        // Durable before it is reported (a new store is written unsynced until here).
        Status closed = store->Close();
        if (st.ok() && !closed.ok()) st = closed;
        if (json) {
          auto j = res.ToJson();
          if (!st.ok() && st.code() != Status::Code::kInterrupted) j["error"] = st.message();
          std::printf("%s\n", j.dump(2).c_str());
        } else {
          if (!res.warnings.empty() && res.warnings_total > static_cast<std::int64_t>(res.warnings.size()))
            std::fprintf(stderr, "(%lld more warnings not shown)\n",
                         static_cast<long long>(res.warnings_total - static_cast<std::int64_t>(res.warnings.size())));
          PrintHuman(res);
        }
        if (st.code() == Status::Code::kInterrupted) {
          std::fprintf(stderr, "interrupted: the store is consistent; run the same command again to finish\n");
          return cli::kExitInterrupted;
        }
        if (!st.ok()) {
          std::fprintf(stderr, "error: %s\n", st.message().c_str());
          return cli::kExitRuntime;
        }
        return res.files_failed > 0 ? cli::kExitInputFailed : cli::kExitOk;
      };
    });

}  // namespace
