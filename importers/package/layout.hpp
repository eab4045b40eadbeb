// Finding a data package's parts from its entry names alone, whatever language the folders are named in
// and whether the package was re-zipped under an extra top folder.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/model.hpp"

namespace ferry::package {

struct ChannelDir {
  Snowflake id = 0;
  std::string folder;         // "Messages/c123"
  bool c_prefix = false;      // era B and later
  std::string channel_json;   // entry name, empty if absent
  std::string messages_file;  // entry name of messages.json / messages.csv, empty if absent
  bool csv = false;
};

struct Layout {
  std::string root;           // "" or "extra-folder/" — prefix of the package's top-level folders
  std::string messages_dir;   // "Messages", "messages", "Nachrichten", … (full entry path); empty if absent
  std::string servers_dir;
  std::string account_dir;
  std::string readme;         // entry name of README.txt, empty if absent
  std::string messages_index; // entry names of the index files, empty if absent
  std::string servers_index;
  std::string user_json;
  std::string avatar;         // Account/avatar.<ext>
  std::map<Snowflake, ChannelDir> channels;
  std::map<Snowflake, std::string> guild_json;
  std::vector<std::string> top_folders;  // every top-level folder name (under root), for the summary

  bool empty() const { return messages_dir.empty() && servers_dir.empty() && account_dir.empty(); }
};

// "c1234…" / "1234…" (16–20 digits) → the id; nullopt otherwise.
std::optional<Snowflake> ChannelFolderId(const std::string& name, bool* c_prefix);

// Builds the layout from every entry name of the package.
Layout FindLayout(const std::vector<std::string>& names);

// Discord's channel type for a channel.json "type": int (eras A–C) or name (D–E). nullopt if unknown.
std::optional<int> ChannelTypeFromJson(const Json& type);

struct AttachmentRef {
  Snowflake id = 0;
  std::string filename;  // percent-decoded last path segment, e.g. "SPOILER_b.txt"
  std::string url;
};
// Attachment id and file name from a CDN URL (…/attachments/<channel>/<attachment>/<name>[?ex=…]).
std::optional<AttachmentRef> ParseAttachmentUrl(const std::string& url);

}  // namespace ferry::package
