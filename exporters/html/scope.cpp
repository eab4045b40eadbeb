#include "exporters/html/scope.hpp"

#include <cstdio>
#include <filesystem>
#include <set>
#include <system_error>

namespace ferry::exporters {

Status ResolveScope(Store& store, const std::vector<Snowflake>& guild_ids, const std::vector<Snowflake>& channel_ids,
                    ExportScope* out) {
  out->guilds.clear();
  const bool everything = guild_ids.empty() && channel_ids.empty();
  std::set<Snowflake> want_guilds(guild_ids.begin(), guild_ids.end());
  std::set<Snowflake> want_channels(channel_ids.begin(), channel_ids.end());
  for (Snowflake g : guild_ids) {
    Guild guild;
    Status st = store.GetGuild(g, &guild);
    if (st.IsNotFound())
      return Status::NotFound("unknown guild id " + std::to_string(g) + ": it is not in the store " + store.path() +
                              " (ferry stats lists what the store holds)");
    FERRY_RETURN_IF_ERROR(st);
  }
  std::set<Snowflake> channel_guilds;  // guilds of the --channel ids (0 = DMs)
  for (Snowflake c : channel_ids) {
    Channel ch;
    Status st = store.GetChannel(c, &ch);
    if (st.IsNotFound())
      return Status::NotFound("unknown channel id " + std::to_string(c) + ": it is not in the store " + store.path() +
                              " (ferry stats lists what the store holds)");
    FERRY_RETURN_IF_ERROR(st);
    channel_guilds.insert(ch.guild_id.value_or(0));
  }

  std::vector<Guild> guilds;
  FERRY_RETURN_IF_ERROR(store.ListGuilds(&guilds));
  Guild dms;
  dms.id = 0;
  dms.name = "Direct Messages";
  guilds.push_back(dms);
  for (const Guild& g : guilds) {
    if (!everything && !want_guilds.count(g.id) && !channel_guilds.count(g.id)) continue;
    ScopeGuild sg;
    sg.guild = g;
    FERRY_RETURN_IF_ERROR(store.ListChannels(g.id, &sg.channels));
    const bool whole = everything || want_guilds.count(g.id);
    for (const Channel& c : sg.channels) {
      if (c.type == kGuildCategory) continue;
      bool take = whole || want_channels.count(c.id) ||
                  (IsThreadType(c.type) && c.parent_id && want_channels.count(*c.parent_id));
      if (take) sg.selected.push_back(c);
    }
    // A requested channel that ListChannels does not return (e.g. a thread stored without its guild) is
    // still exported.
    for (Snowflake id : want_channels) {
      bool present = false;
      for (const Channel& c : sg.selected) present = present || c.id == id;
      if (present) continue;
      Channel ch;
      if (store.GetChannel(id, &ch).ok() && ch.guild_id.value_or(0) == g.id && ch.type != kGuildCategory) {
        sg.selected.push_back(ch);
        sg.channels.push_back(ch);
      }
    }
    if (!sg.selected.empty()) out->guilds.push_back(std::move(sg));
  }
  return Status::Ok();
}

Status PrepareOutputDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create output folder " + dir + ": " + ec.message());
  if (!fs::is_directory(dir, ec)) return Status::IoError("output path " + dir + " exists and is not a folder");
  std::string probe = (fs::path(dir) / ".ferry-write-test").string();
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) return Status::IoError("cannot write to output folder " + dir + ": permission denied or read-only");
  std::fclose(f);
  fs::remove(probe, ec);
  return Status::Ok();
}

}  // namespace ferry::exporters
