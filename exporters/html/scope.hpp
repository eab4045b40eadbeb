// Which guilds and channels an export covers, from the --guild / --channel filters. Shared by the HTML and
// DCE exporters so both answer the same filters the same way.
//
// No filter: every guild (in ListGuilds order) and then direct messages (guild 0).
// --guild G: every channel and thread of G. --channel C: C and the threads whose parent is C. Both may
// repeat and combine (union). An id that is not in the store is an error (NotFound naming the id), not an
// empty export. Categories are kept for grouping but carry no messages; every other channel is exported.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace ferry::exporters {

struct ScopeGuild {
  Guild guild;                    // id 0 = direct messages (a pseudo guild named "Direct Messages")
  std::vector<Channel> channels;  // every channel of the guild (for names), in ListChannels order
  std::vector<Channel> selected;  // exported ones (not categories), in ListChannels order
};

struct ExportScope {
  std::vector<ScopeGuild> guilds;  // only guilds with at least one selected channel
};

Status ResolveScope(Store& store, const std::vector<Snowflake>& guild_ids, const std::vector<Snowflake>& channel_ids,
                    ExportScope* out);

// Creates `dir` (and parents) and proves it is writable; IoError naming the folder otherwise.
Status PrepareOutputDir(const std::string& dir);

}  // namespace ferry::exporters
