#include "importers/package/layout.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "store/snowflake.hpp"

namespace ferry::package {
namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('/', i);
    if (j == std::string::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool AllDigits(const std::string& s, size_t min, size_t max) {
  if (s.size() < min || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Parent(const std::string& path) {
  auto p = path.rfind('/');
  return p == std::string::npos ? "" : path.substr(0, p);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Snowflake> ChannelFolderId(const std::string& name, bool* c_prefix) {
  bool c = !name.empty() && (name[0] == 'c' || name[0] == 'C');
  std::string digits = c ? name.substr(1) : name;
  if (!AllDigits(digits, 16, 20)) return std::nullopt;
  auto id = ParseSnowflake(digits);
  if (!id || *id == 0) return std::nullopt;
  if (c_prefix) *c_prefix = c;
  return id;
}

Layout FindLayout(const std::vector<std::string>& names) {
  Layout l;
  // Candidate messages roots: the folder two levels above c?<id>/{channel.json,messages.*}.
  std::map<std::string, int> msg_roots, srv_roots;
  for (const auto& n : names) {
    auto parts = Split(n);
    if (parts.size() < 3) continue;
    const std::string file = Lower(parts.back());
    const std::string& dir = parts[parts.size() - 2];
    if (file == "channel.json" || file == "messages.json" || file == "messages.csv") {
      if (ChannelFolderId(dir, nullptr)) msg_roots[Join(parts, parts.size() - 2)]++;
    } else if (file == "guild.json") {
      if (AllDigits(dir, 16, 20)) srv_roots[Join(parts, parts.size() - 2)]++;
    }
  }
  auto best = [](const std::map<std::string, int>& m) {
    std::string out;
    int count = 0;
    for (const auto& [k, v] : m)
      if (v > count || (v == count && k.size() < out.size())) out = k, count = v;
    return out;
  };
  l.messages_dir = best(msg_roots);
  l.servers_dir = best(srv_roots);
  // The package root is the folder holding those; a package may sit under one extra folder when re-zipped.
  if (!l.messages_dir.empty()) {
    l.root = Parent(l.messages_dir);
  } else if (!l.servers_dir.empty()) {
    l.root = Parent(l.servers_dir);
  } else {
    // Account-only package: README.txt or the shallowest user.json decides.
    std::string found;
    size_t depth = SIZE_MAX;
    for (const auto& n : names) {
      auto parts = Split(n);
      std::string f = Lower(parts.back());
      if ((f == "user.json" && parts.size() >= 2) || f == "readme.txt") {
        size_t d = parts.size() - (f == "user.json" ? 2 : 1);
        if (d < depth) depth = d, found = Join(parts, d);
      }
    }
    l.root = found;
  }
  const std::string prefix = l.root.empty() ? "" : l.root + "/";
  const size_t root_depth = l.root.empty() ? 0 : Split(l.root).size();

  std::set<std::string> tops;
  std::vector<std::string> root_index_candidates;
  for (const auto& n : names) {
    if (n.compare(0, prefix.size(), prefix) != 0) continue;
    auto parts = Split(n);
    if (parts.size() <= root_depth) continue;
    std::string rel = n.substr(prefix.size());
    auto rel_parts = Split(rel);
    if (rel_parts.size() == 1) {
      if (Lower(rel_parts[0]) == "readme.txt") l.readme = n;
      continue;
    }
    tops.insert(rel_parts[0]);
    const std::string file = Lower(rel_parts.back());
    if (rel_parts.size() == 2 && file == "user.json" && l.account_dir.empty()) {
      l.account_dir = prefix + rel_parts[0];
      l.user_json = n;
    }
    if (rel_parts.size() == 2 && file == "index.json") root_index_candidates.push_back(n);
  }
  l.top_folders.assign(tops.begin(), tops.end());
  if (!l.account_dir.empty()) {
    for (const auto& n : names)
      if (Parent(n) == l.account_dir && Lower(n.substr(l.account_dir.size() + 1)).rfind("avatar.", 0) == 0) l.avatar = n;
  }
  for (const auto& n : root_index_candidates) {
    std::string dir = Parent(n);
    if (dir == l.messages_dir) l.messages_index = n;
    else if (dir == l.servers_dir) l.servers_index = n;
  }
  // A servers folder with only its index.json (no guild folders) is recognised after reading the
  // candidates (see package.cpp); here the other root index files are offered as candidates.
  if (l.servers_dir.empty()) {
    for (const auto& n : root_index_candidates) {
      std::string dir = Parent(n);
      if (dir != l.messages_dir) {
        l.servers_index = n;  // tentative: package.cpp checks it maps guild ids to names
        break;
      }
    }
  }

  if (!l.messages_dir.empty()) {
    const std::string mp = l.messages_dir + "/";
    for (const auto& n : names) {
      if (n.compare(0, mp.size(), mp) != 0) continue;
      auto rel = Split(n.substr(mp.size()));
      if (rel.size() != 2) continue;
      bool c = false;
      auto id = ChannelFolderId(rel[0], &c);
      if (!id) continue;
      auto& ch = l.channels[*id];
      ch.id = *id;
      ch.folder = mp + rel[0];
      ch.c_prefix = c;
      std::string f = Lower(rel[1]);
      if (f == "channel.json") ch.channel_json = n;
      else if (f == "messages.json") ch.messages_file = n, ch.csv = false;
      else if (f == "messages.csv" && ch.messages_file.empty()) ch.messages_file = n, ch.csv = true;
    }
  }
  if (!l.servers_dir.empty()) {
    const std::string sp = l.servers_dir + "/";
    for (const auto& n : names) {
      if (n.compare(0, sp.size(), sp) != 0) continue;
      auto rel = Split(n.substr(sp.size()));
      if (rel.size() == 2 && Lower(rel[1]) == "guild.json" && AllDigits(rel[0], 16, 20))
        if (auto id = ParseSnowflake(rel[0])) l.guild_json[*id] = n;
    }
  }
  return l;
}

std::optional<int> ChannelTypeFromJson(const Json& t) {
  if (t.is_number_integer() || t.is_number_unsigned()) {
    auto v = t.get<std::int64_t>();
    if (v < 0 || v > 1000) return std::nullopt;
    return static_cast<int>(v);
  }
  if (!t.is_string()) return std::nullopt;
  static const std::map<std::string, int> kNames = {
      {"GUILD_TEXT", 0}, {"DM", 1}, {"GUILD_VOICE", 2}, {"GROUP_DM", 3}, {"GUILD_CATEGORY", 4},
      {"GUILD_ANNOUNCEMENT", 5}, {"GUILD_NEWS", 5}, {"GUILD_STORE", 6}, {"ANNOUNCEMENT_THREAD", 10},
      {"GUILD_NEWS_THREAD", 10}, {"PUBLIC_THREAD", 11}, {"GUILD_PUBLIC_THREAD", 11}, {"PRIVATE_THREAD", 12},
      {"GUILD_PRIVATE_THREAD", 12}, {"GUILD_STAGE_VOICE", 13}, {"GUILD_DIRECTORY", 14}, {"GUILD_FORUM", 15},
      {"GUILD_MEDIA", 16}, {"LOBBY", 17}, {"EPHEMERAL_DM", 18}};
  std::string s = t.get<std::string>();
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto it = kNames.find(s);
  if (it != kNames.end()) return it->second;
  if (AllDigits(s, 1, 4)) return std::stoi(s);
  return std::nullopt;
}

std::optional<AttachmentRef> ParseAttachmentUrl(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return std::nullopt;
  auto path_start = url.find('/', scheme + 3);
  if (path_start == std::string::npos) return std::nullopt;
  auto path_end = url.find_first_of("?#", path_start);
  std::string path = url.substr(path_start + 1, path_end == std::string::npos ? std::string::npos : path_end - path_start - 1);
  auto parts = Split(path);
  // attachments/<channel>/<attachment>/<name>, also ephemeral-attachments/… on the same hosts
  for (size_t i = 0; i + 3 < parts.size(); ++i) {
    if (parts[i] != "attachments" && parts[i] != "ephemeral-attachments") continue;
    auto att = ParseSnowflake(parts[i + 2]);
    if (!ParseSnowflake(parts[i + 1]) || !att || *att == 0) continue;
    const std::string& raw = parts[i + 3];
    std::string name;
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] == '%' && k + 2 < raw.size() && HexValue(raw[k + 1]) >= 0 && HexValue(raw[k + 2]) >= 0) {
        name += static_cast<char>(HexValue(raw[k + 1]) * 16 + HexValue(raw[k + 2]));
        k += 2;
      } else {
        name += raw[k];
      }
    }
    if (name.empty()) return std::nullopt;
    return AttachmentRef{*att, name, url};
  }
  return std::nullopt;
}

}  // namespace ferry::package
