// `ferry export xmpp`: turns the store into what a Prosody admin loads with one command.
//
// OUT/ after a successful run (every file except credentials.csv is byte-identical on a rerun):
//   load.sh              OUT/load.sh /path/to/prosody.cfg.lua — loads everything into that Prosody's storage
//   ferry-load.lua       the loader load.sh runs with Prosody's own Lua and libraries
//   LOAD.md              what to configure, how to load, how to serve the attachments
//   manifest.json        domains and counts (no timestamps, so reruns compare equal)
//   credentials.csv      jid,password for every account (only with --password-mode random; mode 0600)
//   xep0227/<user>@<domain>.xml   one XEP-0227 file per account: SCRAM verifiers, vCard, roster, and the
//                        personal MAM archive (1:1 DMs, both sides) — readable by prosody-migrator too
//   muc/rooms.jsonl      one persistent room per channel, thread and group DM: name, topic, members-only,
//                        hidden, affiliations, reserved nicks
//   muc/muc_log.tsv      room history, one stanza per line: node TAB key TAB when TAB with TAB jid TAB
//                        <message/>, jid = the author's real bare JID (empty if unknown), rooms one after
//                        another, each oldest first (Prosody orders an archive by insert order)
//   files/<attachment id>/<name>  attachment bytes, linked from the stanzas with XEP-0066 out-of-band URLs
//
// Archive keys are Discord snowflakes (plus a suffix for reaction and correction rows); the loader skips
// keys that are already stored, which is why loading twice does not duplicate history.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "store/progress.hpp"
#include "store/status.hpp"
#include "store/store.hpp"

namespace ferry::xmpp {

struct XmppExportOptions {
  std::string out_dir;
  std::string domain;       // account host, e.g. chat.example.org (validated and lowered)
  std::string muc_domain;   // MUC component host, e.g. rooms.chat.example.org
  std::optional<Snowflake> guild_id;  // empty = every guild in the store
  // "random": generated passwords + credentials.csv. "none": the accounts exist without any password, so
  // nobody can log in until the admin sets one (prosodyctl passwd); the XEP-0227 files then mark each
  // account with Prosody's extended attribute ferry_imported_without_password, since an account with no
  // properties at all would not be stored.
  std::string password_mode = "random";
  // Where OUT/files/ will be served; the OOB links point below it. Empty = https://<domain>:5281/files/
  // (Prosody's mod_http_files default path on its HTTPS port).
  std::string files_url;
  bool include_dms = true;
  int scram_iterations = 4096;
  std::function<bool()> interrupted;  // polled between messages; true stops with kInterrupted
};

struct XmppExportSummary {
  std::int64_t guilds = 0, accounts = 0, rooms = 0, room_messages = 0, reactions = 0, corrections = 0,
               replies = 0, attachments = 0, attachments_missing = 0, dm_channels = 0, dm_messages = 0,
               custom_emoji_reactions_skipped = 0, anonymous_reactions_skipped = 0, avatars = 0;
  std::string out_dir;
};

Status ExportXmpp(Store& store, const XmppExportOptions& options, Progress* progress, XmppExportSummary* summary);

// The text printed at the end of an export (and the start of LOAD.md): how to load OUT into Prosody.
std::string LoadHint(const XmppExportOptions& options);

}  // namespace ferry::xmpp
