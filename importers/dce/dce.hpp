// `ferry import dce`: DiscordChatExporter JSON exports → the store.
//
// Contract:
//  - paths: .json files (must be DCE exports: anything else is a failed input) or folders (searched
//    recursively for *.json files that look like DCE exports; others are listed as ignored; `*_Files/` media
//    folders are not searched).
//  - One ImportRun (kind "dce", path = the arguments joined by spaces) per invocation. A run of the same
//    arguments that was killed or interrupted is resumed (same run id), so finishing it gives exactly the
//    store an uninterrupted run gives. Each file gets a run_files row: "running" while it is written, "done"
//    (with its sha256) in the transaction of its last batch, "failed" with the reason.
//  - A file already imported with the same sha256 (in any run) is skipped: re-running changes nothing.
//    Size+mtime of finished files are remembered (store meta) so unchanged files are not even re-hashed.
//  - Files are read side by side, up to 64 at a time, and their messages written in id order across them
//    (each export is in id order; the channels of a server interleave in time), so every table keyed by
//    message id grows at its end instead of having each file inserted into the middle of the files before it.
//  - Writes go in transactions of `batch_messages` messages (from any of the files; the last one fewer), on
//    a writer thread while the next messages are parsed; the parser hands them over 2,000 at a time at most.
//    `interrupted` is checked between hand-offs: the open transaction is committed and the run then ends
//    "interrupted".
//  - Not a DCE export (HTML, garbage, empty, other JSON) → the file fails before anything of it is written.
//    Truncated/corrupt tail → every complete message is imported and a warning names the file and byte offset.
//    A message without a usable id is skipped with a warning naming the file, its index and byte offset.
//  - Source time of a file = its exportedAt; legacy files without it use their newest message time (noted).
//  - Memory is bounded by one batch per thread, the open files' read buffers (4 MB between them, more only
//    for a message larger than its buffer) and per-file caches keyed by user/role id, whatever the size of
//    the files.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "store/progress.hpp"
#include "store/status.hpp"
#include "store/store.hpp"

namespace ferry::dce {

struct DceImportOptions {
  int batch_messages = 2000;  // per transaction
  std::function<bool()> interrupted;  // may be empty
  bool two_threads = true;            // parse and write side by side
};

struct DceImportResult {
  std::string status;  // "done", "interrupted", "failed"
  std::int64_t files = 0, files_imported = 0, files_skipped = 0, files_failed = 0, files_ignored = 0;
  std::int64_t messages = 0, messages_skipped = 0, users = 0, attachments = 0, attachments_missing = 0,
               blobs_copied = 0, media_missing = 0, media_remote = 0, bytes = 0;
  std::int64_t warnings_total = 0;
  std::vector<std::string> warnings;                         // the first 200
  std::vector<std::pair<std::string, std::string>> failed;   // file, reason
  std::vector<std::string> skipped;                          // already imported, unchanged
  std::vector<std::pair<std::string, std::string>> ignored;  // found in a folder, not DCE: file, why
  std::vector<std::int64_t> run_ids;
  double seconds = 0;
  Json ToJson() const;
};

// Cheap sniff (first bytes): a JSON object whose first key is "guild" (what every DCE version writes).
bool LooksLikeDce(const std::string& path, std::string* why = nullptr);

// Imports; returns Ok when the run finished (even if some files failed: see result->failed),
// kInterrupted when stopped between batches, or the store's error.
Status ImportDce(Store& store, const std::vector<std::string>& paths, const DceImportOptions& options,
                 Progress& progress, DceImportResult* result);

}  // namespace ferry::dce
