// `ferry export matrix`: replay the store into a Matrix homeserver as an application service.
//
//   ferry export matrix --store S --homeserver URL --server-name NAME --registration FILE
//                       [--guild ID]... [--channel ID]... [--user-prefix discord_] [--dry-run] [--parallel N] [--json]
//   ferry export matrix --write-registration FILE --server-name NAME [--user-prefix discord_]
//
// Exit codes: 0 everything in scope is on the homeserver; 1 some messages failed (listed; rerun retries
// them); 2 bad command line or input; 3 store cannot be opened; 4 interrupted (rerun resumes); 5 homeserver
// unreachable or refusing the registration.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/export_common.hpp"
#include "exporters/matrix/exporter.hpp"
#include "exporters/matrix/registration.hpp"
#include "store/snowflake.hpp"
#include "store/store.hpp"

namespace {

struct Opts {
  std::string store, homeserver, server_name, registration, write_registration;
  std::vector<std::string> guilds, channels;
  std::string user_prefix = "discord_";
  int parallel = 4;
  bool dry_run = false, json = false;
};

int Fail(const Opts& o, const std::string& msg, int code) {
  std::fprintf(stderr, "ferry export matrix: %s\n", msg.c_str());
  if (o.json) std::printf("%s\n", nlohmann::json{{"status", "error"}, {"error", msg}, {"exit_code", code}}.dump().c_str());
  return code;
}

int ExitFor(const ferry::Status& st) {
  using C = ferry::Status::Code;
  switch (st.code()) {
    case C::kNotFound: case C::kInvalidInput: return ferry::cli::kExitUsage;
    case C::kInterrupted: return ferry::cli::kExitInterrupted;
    case C::kStoreError: case C::kVersionMismatch: return ferry::cli::kExitStore;
    default: return ferry::cli::kExitRuntime;
  }
}

int WriteRegistration(const Opts& o) {
  if (o.server_name.empty()) return Fail(o, "--write-registration needs --server-name", ferry::cli::kExitUsage);
  auto reg = ferry::matrix::NewRegistration(o.server_name, o.user_prefix);
  ferry::Status st = ferry::matrix::WriteRegistration(o.write_registration, reg);
  if (!st.ok()) return Fail(o, st.ToString(), st.code() == ferry::Status::Code::kConflict ? ferry::cli::kExitUsage : ferry::cli::kExitRuntime);
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"status", "written"}, {"registration", o.write_registration},
                                       {"sender", "@" + reg.sender_localpart + ":" + o.server_name},
                                       {"user_regex", reg.users[0].regex}}.dump().c_str());
  } else {
    std::printf("Wrote %s (mode 0600; it holds the tokens).\n"
                "Give it to the homeserver admin: add it to the homeserver's application-service list\n"
                "(Synapse: app_service_config_files: [%s]) and restart the homeserver. Then run\n"
                "  ferry export matrix --store STORE --homeserver https://... --server-name %s --registration %s\n",
                o.write_registration.c_str(), o.write_registration.c_str(), o.server_name.c_str(),
                o.write_registration.c_str());
  }
  return ferry::cli::kExitOk;
}

void PrintPlan(const ferry::matrix::MatrixExportSummary& s) {
  const auto& p = s.plan;
  std::string hs = p.value("homeserver", std::string());
  std::printf("Plan for %s (server name %s):\n", hs.empty() ? "(no --homeserver given)" : hs.c_str(),
              p["server_name"].get<std::string>().c_str());
  for (const auto& r : p["rooms"]) {
    std::printf("  %-5s %-32s %7lld messages, %7lld to send%s%s\n", r["kind"].get<std::string>().c_str(),
                r["name"].get<std::string>().substr(0, 32).c_str(), static_cast<long long>(r["messages"].get<std::int64_t>()),
                static_cast<long long>(r["to_send"].get<std::int64_t>()), r["private"].get<bool>() ? "  (private)" : "",
                r["room_id"].is_string() ? ("  -> " + r["room_id"].get<std::string>()).c_str() : "  (new)");
  }
  std::printf("%lld messages to send, %lld already sent; %lld ghosts (%lld new, like %s); %lld attachments "
              "(%lld not downloaded, will be stated as missing); %lld reactions",
              static_cast<long long>(p["to_send"].get<std::int64_t>()), static_cast<long long>(p["already_sent"].get<std::int64_t>()),
              static_cast<long long>(p["ghosts"].get<std::int64_t>()), static_cast<long long>(p["ghosts_to_register"].get<std::int64_t>()),
              p["ghost_example"].get<std::string>().c_str(), static_cast<long long>(p["attachments"].get<std::int64_t>()),
              static_cast<long long>(p["attachments_missing"].get<std::int64_t>()), static_cast<long long>(p["reactions"].get<std::int64_t>()));
  if (s.private_threads_skipped) std::printf("; %lld private threads left out", static_cast<long long>(s.private_threads_skipped));
  std::printf(".\nNothing was sent (--dry-run).\n");
}

void PrintSummary(const ferry::matrix::MatrixExportSummary& s) {
  std::printf("%s: %lld messages sent, %lld skipped (%lld sent by earlier runs, %lld with nothing to send), %lld failed; "
              "%lld events, %lld reactions, %lld uploads, %lld attachments stated as missing; %lld rooms (%lld new), "
              "%lld ghosts registered; %lld requests, %lld rate-limited, %lld retried; %.1f s.\n",
              s.complete() ? "Complete" : "INCOMPLETE", static_cast<long long>(s.sent),
              static_cast<long long>(s.skipped_existing + s.skipped_other), static_cast<long long>(s.skipped_existing),
              static_cast<long long>(s.skipped_other), static_cast<long long>(s.failed), static_cast<long long>(s.events),
              static_cast<long long>(s.reactions), static_cast<long long>(s.uploads), static_cast<long long>(s.media_missing),
              static_cast<long long>(s.rooms), static_cast<long long>(s.rooms_created),
              static_cast<long long>(s.ghosts_registered), static_cast<long long>(s.requests),
              static_cast<long long>(s.rate_limited), static_cast<long long>(s.retries), s.elapsed_ms / 1000.0);
  for (const auto& f : s.failures)
    std::printf("  failed: Discord %s: %s: %s\n", f.discord_id.c_str(), f.what.c_str(), f.answer.c_str());
  if (s.failed > static_cast<std::int64_t>(s.failures.size()))
    std::printf("  ... and %lld more\n", static_cast<long long>(s.failed - static_cast<std::int64_t>(s.failures.size())));
  if (!s.fatal.empty()) std::printf("Stopped: %s\n", s.fatal.c_str());
  if (s.interrupted) std::printf("Interrupted; run the same command again to continue where it stopped.\n");
  else if (!s.complete()) std::printf("Run the same command again to retry what failed; nothing will be sent twice.\n");
}

ferry::cli::Registrar reg(
    "export matrix", "Replay history into a Matrix homeserver as an application service (original authors and times)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--store", o->store, "Ferry store (SQLite file)");
      app.add_option("--homeserver", o->homeserver, "Homeserver base URL, e.g. https://matrix.example.org");
      app.add_option("--server-name", o->server_name, "The homeserver's name, as in @user:NAME");
      app.add_option("--registration", o->registration, "Application-service registration YAML (as_token, sender, namespaces)");
      app.add_option("--guild", o->guilds, "Only this guild (repeatable; default: every guild in the store)");
      app.add_option("--channel", o->channels, "Only this channel or thread (repeatable)");
      app.add_option("--user-prefix", o->user_prefix, "Ghost localpart prefix: @<prefix><discord id>:<server-name>")
          ->default_str("discord_");
      app.add_flag("--dry-run", o->dry_run, "Print the plan and counts; send nothing");
      app.add_option("--write-registration", o->write_registration,
                     "Write a new registration file for the homeserver admin and exit");
      app.add_option("--parallel", o->parallel, "Rooms exported at the same time (default 4)")->check(CLI::Range(1, 64));
      app.add_flag("--json", o->json, "Print a JSON summary on stdout instead of progress and text");
      return [o]() -> int {
        if (ferry::cli::JsonOutput()) o->json = true;
        if (!o->write_registration.empty()) return WriteRegistration(*o);
        if (o->store.empty()) return Fail(*o, "--store is required", ferry::cli::kExitUsage);
        if (o->server_name.empty()) return Fail(*o, "--server-name is required", ferry::cli::kExitUsage);
        ferry::matrix::MatrixExportOptions opt;
        opt.homeserver = o->homeserver;
        opt.server_name = o->server_name;
        opt.user_prefix = o->user_prefix;
        opt.dry_run = o->dry_run;
        opt.parallel_rooms = o->parallel;
        opt.cancelled = [] { return ferry::cli::InterruptRequested(); };
        if (!o->dry_run && o->homeserver.empty()) return Fail(*o, "--homeserver is required (or --dry-run)", ferry::cli::kExitUsage);
        if (!o->dry_run && o->registration.empty())
          return Fail(*o, "--registration is required (write one with --write-registration FILE --server-name NAME)",
                      ferry::cli::kExitUsage);
        if (!o->registration.empty()) {
          ferry::Status st = ferry::matrix::ReadRegistration(o->registration, &opt.registration);
          if (!st.ok()) return Fail(*o, st.ToString(), ferry::cli::kExitUsage);
        }
        std::string bad_id;
        if (!ferry::cli::ParseIdList("--guild", o->guilds, &opt.guild_ids, &bad_id) ||
            !ferry::cli::ParseIdList("--channel", o->channels, &opt.channel_ids, &bad_id))
          return Fail(*o, bad_id, ferry::cli::kExitUsage);
        ferry::OpenOptions oo;
        oo.create_if_missing = false;
        oo.read_only = o->dry_run;
        std::unique_ptr<ferry::Store> store;
        ferry::Status st = ferry::Store::Open(o->store, oo, &store);
        if (!st.ok()) return Fail(*o, "cannot open store " + o->store + ": " + st.ToString(), ferry::cli::kExitStore);
        auto progress = ferry::MakeProgress(o->json, false, "msg");
        ferry::matrix::MatrixExportSummary sum;
        st = ferry::matrix::ExportMatrix(store.get(), opt, progress.get(), &sum);
        progress->Finish();
        if (!st.ok()) return Fail(*o, st.ToString(), ExitFor(st));
        if (o->json) {
          std::printf("%s\n", sum.ToJson().dump().c_str());
        } else if (o->dry_run) {
          PrintPlan(sum);
        } else {
          PrintSummary(sum);
        }
        if (o->dry_run) return ferry::cli::kExitOk;
        if (sum.interrupted) return ferry::cli::kExitInterrupted;
        if (!sum.fatal.empty()) return ferry::cli::kExitRuntime;
        if (sum.failed > 0) return ferry::cli::kExitInputFailed;
        return ferry::cli::kExitOk;
      };
    });

}  // namespace
