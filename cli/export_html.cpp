// `ferry export html --store S --out DIR [--guild ID]... [--channel ID]...`: the offline HTML archive.
#include <chrono>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/export_common.hpp"
#include "exporters/html/html_exporter.hpp"
#include "store/snowflake.hpp"
#include "store/store.hpp"

namespace {

struct Opts {
  std::string store, out;
  std::vector<std::string> guilds, channels;
  int page_size = 200;
  bool no_search = false, json = false;
};

int ExitFor(const ferry::Status& st) { return ferry::cli::ExportExitCode(st); }

int Fail(const Opts& o, const std::string& msg, int code) {
  return ferry::cli::ExportFail("export html", o.json, msg, code);
}

ferry::cli::Registrar reg(
    "export html", "Write a browsable, searchable offline HTML archive (opens from file://, no server)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--store", o->store, "Ferry store (SQLite file)")->required();
      app.add_option("--out", o->out, "Output folder (created if missing)")->required();
      app.add_option("--guild", o->guilds, "Only this guild (repeatable)");
      app.add_option("--channel", o->channels, "Only this channel and its threads (repeatable)");
      app.add_option("--page-size", o->page_size, "Messages per page (default 200)")->check(CLI::Range(1, 100000));
      app.add_flag("--no-search", o->no_search, "Skip building the search index");
      app.add_flag("--json", o->json, "Print a JSON summary on stdout instead of progress");
      return [o]() -> int {
        ferry::html::HtmlExportOptions opt;
        opt.out_dir = o->out;
        opt.page_size = o->page_size;
        opt.search = !o->no_search;
        opt.interrupted = [] { return ferry::cli::InterruptRequested(); };
        std::string bad_id;
        if (!ferry::cli::ParseIdList("--guild", o->guilds, &opt.guild_ids, &bad_id) ||
            !ferry::cli::ParseIdList("--channel", o->channels, &opt.channel_ids, &bad_id))
          return Fail(*o, bad_id, ferry::cli::kExitUsage);
        ferry::OpenOptions oo;
        oo.create_if_missing = false;
        oo.read_only = true;
        std::unique_ptr<ferry::Store> store;
        ferry::Status st = ferry::Store::Open(o->store, oo, &store);
        if (!st.ok()) return Fail(*o, "cannot open store " + o->store + ": " + st.ToString(), ferry::cli::kExitStore);
        auto progress = ferry::MakeProgress(o->json || ferry::cli::JsonOutput(), false, "msg");
        ferry::html::HtmlExportSummary sum;
        auto t0 = std::chrono::steady_clock::now();
        st = ferry::html::ExportHtml(*store, opt, progress.get(), &sum);
        progress->Finish();
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!st.ok()) return Fail(*o, st.ToString(), ExitFor(st));
        if (o->json) {
          nlohmann::ordered_json j;
          j["ok"] = true;
          j["out"] = o->out;
          j["guilds"] = sum.guilds;
          j["channels"] = sum.channels;
          j["pages"] = sum.pages;
          j["messages"] = sum.messages;
          j["files_copied"] = sum.files_copied;
          j["files_missing"] = sum.files_missing;
          j["bytes_copied"] = sum.bytes_copied;
          j["search_docs"] = sum.search_docs;
          j["seconds"] = secs;
          std::printf("%s\n", j.dump().c_str());
        } else {
          std::printf("Exported %lld messages in %lld channels (%lld pages) to %s/index.html in %.1f s; %lld files copied, "
                      "%lld missing.\n",
                      static_cast<long long>(sum.messages), static_cast<long long>(sum.channels),
                      static_cast<long long>(sum.pages), o->out.c_str(), secs,
                      static_cast<long long>(sum.files_copied), static_cast<long long>(sum.files_missing));
        }
        return ferry::cli::kExitOk;
      };
    });

}  // namespace
