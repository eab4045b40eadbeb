// `ferry export dce`: DiscordChatExporter-compatible JSON, one file per channel and thread, so tools that
// read DCE exports (DCEF, chat-analytics, importers elsewhere) can use history from any source Ferry reads.
//
// Shape (../shared/notes/formats.md §2): the document, message, user, embed and emoji objects carry DCE's
// field names in DCE's key order, snowflakes as strings, timestamps in DCE's form (the source's own text when
// it already is one, so offsets survive; else UTC with the fraction trimmed), 2-space indentation, UTF-8.
// Fields the store keeps in `extra` (keys an input had that have no column) are written back after DCE's
// own keys, so a DCE → Ferry → DCE trip keeps them.
//
// File names follow DCE: "<Guild> - <Parent> - <Channel> [<id>].json" (parent = category, or the parent
// channel for threads; omitted when none; DMs under "Direct Messages"), invalid characters replaced by '_'.
// Media whose bytes are in the blob store are copied to "<file>.json_Files/" and referenced by relative
// path (DCE's "--media" layout); everything else keeps its original URL.
//
// Documented differences: one file per channel (no partitions); a message collection the store does not
// know (stickers from an export that predates them, ...) is left out rather than written as []; dateRange is {null, null} (the file holds
// everything the store has); exportedAt is the newest source time recorded in the store's import runs (not
// the wall clock) so the same store gives byte-identical files.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/progress.hpp"
#include "store/store.hpp"

namespace ferry::dce_export {

struct DceExportOptions {
  std::string out_dir;
  std::vector<Snowflake> guild_ids;
  std::vector<Snowflake> channel_ids;
  bool media = true;                  // copy blobs into <file>_Files/
  std::function<bool()> interrupted;
};

struct DceExportSummary {
  std::int64_t files = 0, messages = 0, media_copied = 0, media_remote = 0, bytes_copied = 0;
  std::vector<std::string> paths;  // written files, in export order
};

Status ExportDce(Store& store, const DceExportOptions& options, Progress* progress, DceExportSummary* summary);

// Exposed for tests.
std::string DceFileName(const std::string& guild, const std::string& parent, const std::string& channel, Snowflake id);
std::string DceChannelType(int type);
std::string DceMessageType(int type);
// DCE media file name for a URL: first 42 chars of the last path segment's stem, '-', 16 hex digits of
// SHA-256(url), extension.
std::string DceMediaName(const std::string& url);

}  // namespace ferry::dce_export
