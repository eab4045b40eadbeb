// `ferry export dce --store S --out DIR [--guild ID]... [--channel ID]...`: DiscordChatExporter-compatible JSON.
#include <chrono>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/export_common.hpp"
#include "exporters/dce/dce_exporter.hpp"
#include "store/snowflake.hpp"
#include "store/store.hpp"

namespace {

struct Opts {
  std::string store, out;
  std::vector<std::string> guilds, channels;
  bool no_media = false, json = false;
};

int ExitFor(const ferry::Status& st) { return ferry::cli::ExportExitCode(st); }

int Fail(const Opts& o, const std::string& msg, int code) {
  return ferry::cli::ExportFail("export dce", o.json, msg, code);
}

ferry::cli::Registrar reg(
    "export dce", "Write DiscordChatExporter-compatible JSON, one file per channel and thread",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--store", o->store, "Ferry store (SQLite file)")->required();
      app.add_option("--out", o->out, "Output folder (created if missing)")->required();
      app.add_option("--guild", o->guilds, "Only this guild (repeatable)");
      app.add_option("--channel", o->channels, "Only this channel and its threads (repeatable)");
      app.add_flag("--no-media", o->no_media, "Keep original URLs instead of copying media into <file>.json_Files/");
      app.add_flag("--json", o->json, "Print a JSON summary on stdout instead of progress");
      return [o]() -> int {
        ferry::dce_export::DceExportOptions opt;
        opt.out_dir = o->out;
        opt.media = !o->no_media;
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
        ferry::dce_export::DceExportSummary sum;
        auto t0 = std::chrono::steady_clock::now();
        st = ferry::dce_export::ExportDce(*store, opt, progress.get(), &sum);
        progress->Finish();
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!st.ok()) return Fail(*o, st.ToString(), ExitFor(st));
        if (o->json) {
          nlohmann::ordered_json j;
          j["ok"] = true;
          j["out"] = o->out;
          j["files"] = sum.files;
          j["messages"] = sum.messages;
          j["media_copied"] = sum.media_copied;
          j["media_remote"] = sum.media_remote;
          j["bytes_copied"] = sum.bytes_copied;
          j["seconds"] = secs;
          j["paths"] = sum.paths;
          std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        } else {
          std::printf("Exported %lld messages to %lld DCE JSON files in %s in %.1f s; %lld media files copied, %lld "
                      "left as URLs.\n",
                      static_cast<long long>(sum.messages), static_cast<long long>(sum.files), o->out.c_str(), secs,
                      static_cast<long long>(sum.media_copied), static_cast<long long>(sum.media_remote));
        }
        return ferry::cli::kExitOk;
      };
    });

}  // namespace
