// `ferry export matrix`: replays a community from the store into a Matrix homeserver through the public
// Client-Server and Application Service APIs only (works with any homeserver that implements the spec).
//
// What lands where:
//   guild -> space; category -> sub-space; channel (text, announcement, forum, media, voice with messages)
//   -> room linked both ways (m.space.child with `order` from the position, m.space.parent), with name,
//   topic, and power levels for admin (100) and moderator (50) roles; threads and forum posts -> m.thread
//   relations inside their parent's room (root = the starter message, or a notice naming the thread);
//   private threads are left out (their room would show them to every member).
//   Every author and reactor -> ghost @<prefix><user id>:<server_name>, registered through the AS, with
//   display name and avatar. Every message is sent as its author with ts = the original time, each room
//   strictly oldest first; replies -> m.in_reply_to, edits -> final text plus an m.replace marking it edited,
//   reactions -> m.annotation by each known reactor (the rest by the AS bot with the count noted),
//   attachments/avatars -> uploaded media (a file that was never downloaded is stated in a notice),
//   pins -> m.room.pinned_events, markdown/mentions -> formatted_body with mention pills.
//
// Resumable and idempotent: every Matrix id is recorded through Store::PutMapping under target
// "matrix:<server_name>"; every event's transaction id is derived from Discord ids, and each event carries
// it in `org.ferry.txn`, so a rerun after kill -9 neither repeats nor skips anything (a room that was being
// written is re-read from its end to recover the one event whose answer was lost).
//
// Concurrency: rooms are exported in parallel (each room's order is kept), one connection per worker.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "exporters/matrix/client.hpp"
#include "exporters/matrix/registration.hpp"
#include "store/progress.hpp"
#include "store/store.hpp"

namespace ferry::matrix {

struct MatrixExportOptions {
  std::string homeserver;   // base URL
  std::string server_name;  // the homeserver's name (the part after ':' in user ids)
  Registration registration;
  std::vector<Snowflake> guild_ids;    // empty = every guild in the store
  std::vector<Snowflake> channel_ids;  // empty = every channel of those guilds
  std::string user_prefix = "discord_";
  bool dry_run = false;
  int parallel_rooms = 4;
  RetryPolicy retry;
  HttpOptions http;
  std::function<bool()> cancelled;
};

struct ExportFailure {
  std::string discord_id;  // message (or user/channel) id the failure is about
  std::string what;        // what Ferry tried
  std::string answer;      // the homeserver's answer
};

struct MatrixExportSummary {
  std::int64_t messages = 0;          // messages in scope
  std::int64_t sent = 0;              // sent in this run
  std::int64_t skipped_existing = 0;  // sent by an earlier run
  std::int64_t skipped_other = 0;     // nothing to send (pin notices, thread-created notices, empty)
  std::int64_t failed = 0;
  std::int64_t events = 0;            // Matrix events created in this run (messages, files, reactions, edits)
  std::int64_t reactions = 0;
  std::int64_t uploads = 0;
  std::int64_t media_missing = 0;     // attachments stated as not downloaded
  std::int64_t rooms = 0;             // rooms and spaces in scope
  std::int64_t rooms_created = 0;
  std::int64_t ghosts_registered = 0;
  std::int64_t private_threads_skipped = 0;
  std::int64_t requests = 0, rate_limited = 0, retries = 0;
  std::int64_t elapsed_ms = 0;
  bool interrupted = false;
  std::string fatal;                  // why the export stopped early, if it did
  std::vector<ExportFailure> failures;  // the first 200
  Json plan;                          // --dry-run: rooms and counts
  bool complete() const { return failed == 0 && !interrupted && fatal.empty(); }
  Json ToJson() const;
};

// Returns a non-ok Status only for problems that stop the whole export before it starts (bad options,
// unreadable store, homeserver refusing the as_token). Per-message failures, interruption and a homeserver
// lost mid-way are reported in `summary` (check summary->complete()).
Status ExportMatrix(Store* store, const MatrixExportOptions& options, Progress* progress, MatrixExportSummary* summary);

// The transaction id of one event of a Discord message: stable across runs, unique per event.
std::string TxnId(const std::string& kind, Snowflake message_id, const std::string& part = "");

}  // namespace ferry::matrix
