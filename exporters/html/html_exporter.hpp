// `ferry export html`: a static, browsable, searchable archive of the store that opens from file://.
//
// Output (all paths relative, no request ever leaves the folder):
//   index.html                       guilds, their channels (by category) and threads
//   channel-<id>-p<N>.html           page N (1 = oldest) of a channel or thread, `page_size` messages each;
//                                    every message is an element with id "m<message id>"
//   search.html, search/*.js         offline search over every exported message (see search_index.hpp)
//   style.css, archive.js            shared look (light/dark from the system) and behaviour (local times,
//                                    spoilers, search); pages work without the script too
//   files/, avatars/, emoji/, stickers/, icons/   media copied from the store's blob directory
//
// Deterministic: the same store and options give byte-identical files (no export time, no random names,
// every listing in a fixed order). Streaming: messages are read with Store::ForEachMessage and written as they
// come; memory is bounded by the page-boundary table (one id per page) and small capped caches.
// Safety: all store text is escaped (see markdown.hpp); pages carry a Content-Security-Policy that allows
// scripts, styles and media from the archive folder only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/progress.hpp"
#include "store/store.hpp"

namespace ferry::html {

struct HtmlExportOptions {
  std::string out_dir;
  std::vector<Snowflake> guild_ids;    // empty + empty channel_ids = everything
  std::vector<Snowflake> channel_ids;
  int page_size = 200;
  bool search = true;
  std::function<bool()> interrupted;   // checked between messages; export stops with kInterrupted
};

struct HtmlExportSummary {
  std::int64_t guilds = 0, channels = 0, pages = 0, messages = 0;
  std::int64_t files_copied = 0, files_missing = 0, bytes_copied = 0, search_docs = 0;
};

Status ExportHtml(Store& store, const HtmlExportOptions& options, Progress* progress, HtmlExportSummary* summary);

// The static assets (exposed for tests).
const char* ArchiveCss();
const char* ArchiveJs();

}  // namespace ferry::html
