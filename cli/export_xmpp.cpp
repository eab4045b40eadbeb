// `ferry export xmpp --store S --domain D --muc-domain M --out DIR [--guild ID] [--password-mode random|none]`:
// what a Prosody admin loads with OUT/load.sh (see exporters/xmpp/exporter.hpp for the layout).
#include <chrono>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/export_common.hpp"
#include "exporters/xmpp/exporter.hpp"
#include "store/snowflake.hpp"
#include "store/store.hpp"

namespace {

struct Opts {
  std::string store, out, domain, muc_domain, guild, password_mode = "random", files_url;
  bool no_dms = false, json = false;
};

int ExitFor(const ferry::Status& st) { return ferry::cli::ExportExitCode(st); }

int Fail(const Opts& o, const std::string& msg, int code) {
  return ferry::cli::ExportFail("export xmpp", o.json, msg, code);
}

ferry::cli::Registrar reg(
    "export xmpp", "Write accounts, rooms and history for a Prosody XMPP server (load with OUT/load.sh)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--store", o->store, "Ferry store (SQLite file)")->required();
      app.add_option("--domain", o->domain, "XMPP domain of the accounts, e.g. chat.example.org")->required();
      app.add_option("--muc-domain", o->muc_domain, "MUC component domain, e.g. rooms.chat.example.org")->required();
      app.add_option("--out", o->out, "Output folder (created if missing; must be empty or an earlier export)")->required();
      app.add_option("--guild", o->guild, "Only this guild (default: every guild in the store)");
      app.add_option("--password-mode", o->password_mode,
                     "random: generate passwords, write OUT/credentials.csv; none: accounts without a password "
                     "(nobody can log in until the admin sets one with prosodyctl passwd)")
          ->check(CLI::IsMember({"random", "none"}));
      app.add_option("--files-url", o->files_url,
                     "URL where OUT/files/ will be served (default https://DOMAIN:5281/files/)");
      app.add_flag("--no-dms", o->no_dms, "Leave DMs and group DMs out");
      app.add_flag("--json", o->json, "Print a JSON summary on stdout instead of progress");
      return [o]() -> int {
        ferry::xmpp::XmppExportOptions opt;
        opt.out_dir = o->out;
        opt.domain = o->domain;
        opt.muc_domain = o->muc_domain;
        opt.password_mode = o->password_mode;
        opt.files_url = o->files_url;
        opt.include_dms = !o->no_dms;
        opt.interrupted = [] { return ferry::cli::InterruptRequested(); };
        if (!o->guild.empty()) {
          auto id = ferry::ParseSnowflake(o->guild);
          if (!id) return Fail(*o, "--guild " + o->guild + " is not a snowflake id", ferry::cli::kExitUsage);
          opt.guild_id = *id;
        }
        ferry::OpenOptions oo;
        oo.create_if_missing = false;
        oo.read_only = true;
        std::unique_ptr<ferry::Store> store;
        ferry::Status st = ferry::Store::Open(o->store, oo, &store);
        if (!st.ok()) return Fail(*o, "cannot open store " + o->store + ": " + st.ToString(), ferry::cli::kExitStore);
        auto progress = ferry::MakeProgress(o->json || ferry::cli::JsonOutput(), false, "msg");
        ferry::xmpp::XmppExportSummary sum;
        auto t0 = std::chrono::steady_clock::now();
        st = ferry::xmpp::ExportXmpp(*store, opt, progress.get(), &sum);
        progress->Finish();
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!st.ok()) return Fail(*o, st.ToString(), ExitFor(st));
        nlohmann::ordered_json j;
        j["ok"] = true;
        j["out"] = o->out;
        j["guilds"] = sum.guilds;
        j["accounts"] = sum.accounts;
        j["rooms"] = sum.rooms;
        j["room_messages"] = sum.room_messages;
        j["replies"] = sum.replies;
        j["reactions"] = sum.reactions;
        j["corrections"] = sum.corrections;
        j["attachments"] = sum.attachments;
        j["attachments_missing"] = sum.attachments_missing;
        j["dm_channels"] = sum.dm_channels;
        j["dm_messages"] = sum.dm_messages;
        j["avatars"] = sum.avatars;
        j["custom_emoji_reactions_skipped"] = sum.custom_emoji_reactions_skipped;
        j["anonymous_reactions_skipped"] = sum.anonymous_reactions_skipped;
        j["seconds"] = secs;
        if (o->json) {
          std::printf("%s\n", j.dump().c_str());
        } else {
          std::printf("Exported %lld accounts, %lld rooms, %lld room messages, %lld DM messages to %s (%.1f s)\n",
                      static_cast<long long>(sum.accounts), static_cast<long long>(sum.rooms),
                      static_cast<long long>(sum.room_messages), static_cast<long long>(sum.dm_messages),
                      o->out.c_str(), secs);
          if (sum.custom_emoji_reactions_skipped)
            std::printf("Note: %lld custom-emoji reactions left out (XEP-0444 carries Unicode emoji only)\n",
                        static_cast<long long>(sum.custom_emoji_reactions_skipped));
          if (sum.attachments_missing)
            std::printf("Note: %lld attachments were never downloaded; their messages say so\n",
                        static_cast<long long>(sum.attachments_missing));
          if (opt.password_mode == "random")
            std::printf("Passwords: %s/credentials.csv (hand them out, then delete the file)\n", o->out.c_str());
          else
            std::printf("Passwords: none set; nobody can log in until you set one (prosodyctl passwd USER@%s)\n",
                        opt.domain.c_str());
          std::printf("%s\n", ferry::xmpp::LoadHint(opt).c_str());
        }
        return ferry::cli::kExitOk;
      };
    });

}  // namespace
