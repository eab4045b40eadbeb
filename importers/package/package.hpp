// Importer for Discord's personal data package (Privacy & Safety → Request all of my data), every era:
//   A  messages/<id>/messages.csv          B  messages/c<id>/messages.csv
//   C  messages/c<id>/messages.json, int channel types      D  … string channel types
//   E  capitalised, localised top-level folders (Messages/, Nachrichten/, Wiadomości/ …)
// read straight from the zip (libarchive, streamed) or from the unpacked folder.
//
// Folders are recognised by what they hold, never by their (translated) names: the messages folder holds
// c?<id>/channel.json, the servers folder <id>/guild.json, the account folder user.json one level below the
// package root. Whatever is missing (partial packages) is reported in Result::summary["absent"].
//
// What the package can and cannot say, and how that merges with DCE exports (store.hpp merge rules):
//  - Only the owner's own messages: id, time, raw content, attachment URLs. The owner is the author
//    (Account/user.json, else the user id common to the DM channels' recipients).
//  - It never knows message type, edits, pins, replies, embeds, stickers, reactions, mentions, attachment
//    sizes or bytes, nor other users' profiles. Those are left unset (never written); each row's extra.package
//    lists what this source lacked and the run's notes say it once for the whole run.
//  - Every write is gap-filling (Source.source_time_ms = 0): a DCE export of any date completes and corrects
//    the package's rows, the package never replaces what a DCE export said, and the union is the same in either
//    import order. Raw content (which a default DCE export lacks) is kept in extra.package.contents. The
//    package's own date (newest plausible entry time: when Discord built the zip) is the run's source_time_ms.
//  - For messages already stored, the model's non-optional fields (type, flags, timestamp text) are carried
//    over from the stored row and attachments merged by id, so even a gap-filling write cannot reset them.
//  - Names from index.json / the servers index, and other users' names from DM labels, only fill names the
//    store does not know yet.
//
// Atomic and resumable: metadata is one transaction, then one transaction per channel (its messages file),
// each also recording the file as done (Store::SetRunFile). A killed import is resumed by running it again:
// finished channels are skipped (keyed by the package's sha256 and the entry name); --force redoes them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "importers/package/source.hpp"
#include "store/model.hpp"
#include "store/progress.hpp"
#include "store/status.hpp"
#include "store/store.hpp"

namespace ferry::package {

// Discord's "Deleted User" account: packages write the literal string "Deleted User" in DM recipients.
constexpr Snowflake kDeletedUserId = 456226577798135808ULL;

struct Options {
  bool force = false;                      // redo entries an earlier run already finished
  Progress* progress = nullptr;            // nullptr = none
  std::function<bool()> interrupted;       // polled between messages; true stops cleanly (kInterrupted)
  Limits limits;
};

struct Result {
  ImportRun run;            // run.id == 0 when nothing was started (already imported, or bad input)
  bool already_imported = false;
  // {"kind":"package","path","run_id","status","eras":[..],"folders":{..},"absent":[..],"owner_id",
  //  "source_time","counts":{..},"warnings":[..]} — printed by `ferry import package --json`.
  Json summary = Json::object();
};

// Cheap check for `ferry import PATH`: is `path` (zip or folder) a data package? Reads entry names (and
// README.txt) only. `why` says what was found, or what was missing.
Status Detect(const std::string& path, bool* is_package, std::string* why);

Status Import(Store* store, const std::string& path, const Options& options, Result* result);

}  // namespace ferry::package
