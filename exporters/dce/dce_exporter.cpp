#include "exporters/dce/dce_exporter.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "exporters/html/scope.hpp"
#include "store/timestamp.hpp"

namespace ferry::dce_export {
namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;

namespace {

constexpr size_t kCacheCap = 20000;
constexpr const char* kDefaultIcon = "https://cdn.discordapp.com/embed/avatars/0.png";

// A string member of a JSON object, or `def` when absent or not a string (extra data is not trusted).
std::string StrField(const Json& o, const char* key, const std::string& def = std::string()) {
  if (!o.is_object()) return def;
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : def;
}
bool BoolField(const Json& o, const char* key) {
  if (!o.is_object()) return false;
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

std::string Id(Snowflake v) { return std::to_string(v); }

std::string HexColor(std::uint32_t c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%06X", c & 0xFFFFFFu);
  return buf;
}

bool IsRemote(const std::string& u) {
  return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0 || u.rfind("data:", 0) == 0;
}

// DCE's JSON timestamp: the source's text when it already has that form (keeps the exporting machine's
// offset and precision), else UTC with a trimmed fraction.
std::string DceTime(const Timestamp& t) {
  const std::string& s = t.text;
  auto digit = [&](size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  bool ok = s.size() >= 25 && digit(0) && digit(1) && digit(2) && digit(3) && s[4] == '-' && s[7] == '-' &&
            s[10] == 'T' && s[13] == ':' && s[16] == ':';
  if (ok) {
    size_t p = 19;
    if (p < s.size() && s[p] == '.') {
      size_t q = p + 1;
      while (digit(q)) ++q;
      ok = q - p - 1 >= 1 && q - p - 1 <= 7 && s[q - 1] != '0';
      p = q;
    }
    ok = ok && p + 6 == s.size() && (s[p] == '+' || s[p] == '-') && digit(p + 1) && digit(p + 2) && s[p + 3] == ':' &&
         digit(p + 4) && digit(p + 5);
  }
  if (ok && ParseTimestampMs(s) == t.ms) return s;
  return FormatDceTimestamp(t.ms);
}

OJson ToOrdered(const Json& j) { return OJson::parse(j.dump()); }

std::string Sha256Hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

// Replaces characters no file system accepts (DCE's list plus control characters).
std::string SanitizeName(const std::string& s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    bool bad = u < 0x20 || c == '/' || c == '\\' || c == ':' || c == '*' || c == '?' || c == '"' || c == '<' ||
               c == '>' || c == '|';
    out.push_back(bad ? '_' : c);
  }
  return out;
}

// At most `max` bytes, cut on a UTF-8 boundary: keeps file names under the 255-byte limit.
std::string CutUtf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string SniffExt(const std::string& path) {
  unsigned char b[12] = {0};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  size_t n = 0;
  if (f) {
    n = std::fread(b, 1, sizeof b, f);
    std::fclose(f);
  }
  if (n >= 4 && b[0] == 0x89 && b[1] == 'P') return ".png";
  if (n >= 4 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F') return ".gif";
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8) return ".jpg";
  if (n >= 12 && std::memcmp(b, "RIFF", 4) == 0 && std::memcmp(b + 8, "WEBP", 4) == 0) return ".webp";
  return ".bin";
}

// Unicode emoji → Twemoji code point file name ("1f44d"), as DCE builds its image URLs.
std::string TwemojiCode(const std::string& s) {
  std::vector<std::uint32_t> cps;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    cps.push_back(cp);
    i += len;
  }
  bool zwj = std::find(cps.begin(), cps.end(), 0x200Du) != cps.end();
  std::string out;
  for (auto cp : cps) {
    if (cp == 0xFE0F && !zwj) continue;
    char buf[12];
    std::snprintf(buf, sizeof buf, "%x", cp);
    if (!out.empty()) out += "-";
    out += buf;
  }
  return out;
}

class Exporter {
 public:
  Exporter(Store& s, const DceExportOptions& o, Progress* p, DceExportSummary* sum)
      : store_(s), opt_(o), progress_(p), sum_(sum) {}
  Status Run();

 private:
  Status WriteChannel(const exporters::ScopeGuild& g, const Channel& c);
  OJson UserJson(Snowflake uid, bool with_roles);
  OJson MessageJson(const Message& m);
  OJson EmbedJson(const Json& e);
  OJson ImgJson(const Json& img);
  void IconJson(const Json& src, OJson* out);
  OJson EmojiJson(const Emoji& e, const Json& extra);
  std::string Media(const std::optional<std::string>& sha, const std::optional<std::string>& url,
                    const std::string& fallback);
  void AppendExtra(const Json& extra, OJson* out, const std::set<std::string>& skip = {});

  Store& store_;
  const DceExportOptions& opt_;
  Progress* progress_;
  DceExportSummary* sum_;
  Snowflake guild_id_ = 0;
  std::map<Snowflake, Role> roles_;
  std::unordered_map<Snowflake, OJson> users_with_roles_, users_plain_;
  std::string files_dir_rel_;  // "<file>.json_Files"
  std::set<std::string> media_done_;
  std::string exported_at_;
  std::int64_t total_ = 0, done_ = 0;
};

void Exporter::AppendExtra(const Json& extra, OJson* out, const std::set<std::string>& skip) {
  if (!extra.is_object()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (skip.count(it.key()) || out->contains(it.key())) continue;
    (*out)[it.key()] = ToOrdered(it.value());
  }
}

std::string Exporter::Media(const std::optional<std::string>& sha, const std::optional<std::string>& url,
                            const std::string& fallback) {
  if (opt_.media && sha && !sha->empty()) {
    std::string blob = store_.BlobPath(*sha);
    if (!blob.empty()) {
      std::string name;
      if (url && !url->empty() && !IsRemote(*url)) {
        // A path from an earlier DCE export: keep its file name, so a DCE → Ferry → DCE trip reproduces it.
        std::string u = *url;
        std::replace(u.begin(), u.end(), '\\', '/');
        name = SanitizeName(CutUtf8(u.substr(u.find_last_of('/') == std::string::npos ? 0 : u.find_last_of('/') + 1), 120));
        if (name.empty() || name == "." || name == "..") name.clear();
      } else if (url && !url->empty()) {
        name = DceMediaName(*url);
      }
      if (name.empty()) name = sha->substr(0, 16) + SniffExt(blob);
      std::string rel = files_dir_rel_ + "/" + name;
      if (media_done_.count(rel)) return rel;
      std::string dst = opt_.out_dir + "/" + rel;
      std::error_code ec;
      auto size = fs::file_size(blob, ec);
      if (ec) return url.value_or(fallback);
      auto dsize = fs::file_size(dst, ec);
      if (!ec && dsize != size) {
        // Same name, other bytes: keep both, the second one named by its content.
        std::string ext;
        auto dot = name.rfind('.');
        if (dot != std::string::npos) ext = name.substr(dot);
        name = name.substr(0, dot == std::string::npos ? name.size() : dot) + "-" + sha->substr(0, 16) + ext;
        rel = files_dir_rel_ + "/" + name;
        dst = opt_.out_dir + "/" + rel;
        dsize = fs::file_size(dst, ec);
      }
      if (ec || dsize != size) {
        fs::create_directories(fs::path(dst).parent_path(), ec);
        fs::copy_file(blob, dst, fs::copy_options::overwrite_existing, ec);
        if (ec) {
          progress_->Note("could not copy " + blob + " to " + dst + ": " + ec.message());
          ++sum_->media_remote;
          return url.value_or(fallback);
        }
        sum_->bytes_copied += static_cast<std::int64_t>(size);
      }
      if (media_done_.size() > kCacheCap) media_done_.clear();
      media_done_.insert(rel);
      ++sum_->media_copied;
      return rel;
    }
  }
  if (url && !url->empty()) {
    ++sum_->media_remote;
    return *url;
  }
  return fallback;
}

OJson Exporter::UserJson(Snowflake uid, bool with_roles) {
  auto& cache = with_roles ? users_with_roles_ : users_plain_;
  auto it = cache.find(uid);
  if (it != cache.end()) return it->second;
  if (cache.size() > kCacheCap) cache.clear();
  User u;
  bool have = store_.GetUser(uid, &u).ok();
  Member mem;
  bool have_member = guild_id_ && store_.GetMember(guild_id_, uid, &mem).ok();
  OJson j;
  j["id"] = Id(uid);
  std::string name = have && u.username ? *u.username : "Unknown User";
  j["name"] = name;
  std::string disc = have && u.discriminator ? *u.discriminator : "0000";
  if (disc == "0" || disc.empty()) disc = "0000";
  j["discriminator"] = disc;
  std::string nick = name;
  if (have_member && mem.nick && !mem.nick->empty()) nick = *mem.nick;
  else if (have && u.global_name && !u.global_name->empty()) nick = *u.global_name;
  j["nickname"] = nick;
  if (have_member && mem.color) j["color"] = *mem.color;
  else j["color"] = nullptr;
  j["isBot"] = have && u.bot.value_or(false);
  if (with_roles && have_member && mem.role_ids) {
    OJson roles = OJson::array();
    for (Snowflake r : *mem.role_ids) {
      OJson rj;
      rj["id"] = Id(r);
      auto ri = roles_.find(r);
      if (ri != roles_.end()) {
        rj["name"] = ri->second.name.value_or("");
        if (ri->second.color.value_or(0)) rj["color"] = HexColor(*ri->second.color);
        else rj["color"] = nullptr;
        rj["position"] = ri->second.position.value_or(0);
        AppendExtra(ri->second.extra, &rj);
      } else {
        rj["name"] = "";
        rj["color"] = nullptr;
        rj["position"] = 0;
      }
      roles.push_back(std::move(rj));
    }
    j["roles"] = std::move(roles);
  } else if (with_roles && guild_id_ == 0 && have && u.extra.contains("roles")) {
    j["roles"] = ToOrdered(u.extra["roles"]);
  }
  std::string fallback = "https://cdn.discordapp.com/embed/avatars/" + std::to_string((uid >> 22) % 6) + ".png";
  j["avatarUrl"] = have ? Media(u.avatar_sha256, u.avatar_url, fallback) : fallback;
  if (have) AppendExtra(u.extra, &j);
  cache[uid] = j;
  return j;
}

OJson Exporter::ImgJson(const Json& img) {
  OJson j;
  if (!img.is_object()) return j;
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto it = img.find(k);
    if (it != img.end() && it->is_string()) return it->get<std::string>();
    return std::nullopt;
  };
  auto url = str("url"), proxy = str("proxy_url"), local = str("dce_url"), sha = str("sha256");
  std::optional<std::string> shown, canonical;
  if (local) {
    shown = Media(sha, local, *local);
    if (url && *url != *local) canonical = url;
  } else if (proxy) {
    shown = proxy;
    canonical = url;
  } else {
    shown = url;
  }
  if (shown) j["url"] = *shown;
  if (canonical) j["canonicalUrl"] = *canonical;
  auto num = [&](const char* k) -> OJson {
    auto it = img.find(k);
    return it != img.end() && it->is_number_integer() ? OJson(it->get<std::int64_t>()) : OJson(nullptr);
  };
  j["width"] = num("width");
  j["height"] = num("height");
  for (auto it = img.begin(); it != img.end(); ++it)
    if (it.key().rfind("dce_", 0) == 0 && it.key() != "dce_url") j[it.key().substr(4)] = ToOrdered(it.value());
  return j;
}

void Exporter::IconJson(const Json& src, OJson* out) {
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto it = src.find(k);
    if (it != src.end() && it->is_string()) return it->get<std::string>();
    return std::nullopt;
  };
  auto icon = str("icon_url"), proxy = str("proxy_icon_url"), local = str("dce_icon_url"), sha = str("icon_sha256");
  if (local) {
    (*out)["iconUrl"] = Media(sha, local, *local);
    if (icon && *icon != *local) (*out)["iconCanonicalUrl"] = *icon;
  } else if (proxy) {
    (*out)["iconUrl"] = *proxy;
    if (icon) (*out)["iconCanonicalUrl"] = *icon;
  } else if (icon) {
    (*out)["iconUrl"] = *icon;
  }
}

OJson Exporter::EmbedJson(const Json& e) {
  OJson j;
  auto str = [&](const Json& o, const char* k) -> std::optional<std::string> {
    auto it = o.find(k);
    if (it != o.end() && it->is_string()) return it->get<std::string>();
    return std::nullopt;
  };
  j["title"] = str(e, "title").value_or("");
  if (auto u = str(e, "url")) j["url"] = *u; else j["url"] = nullptr;
  if (auto t = str(e, "timestamp")) j["timestamp"] = *t; else j["timestamp"] = nullptr;
  j["description"] = str(e, "description").value_or("");
  if (auto c = e.find("color"); c != e.end() && c->is_number_integer())
    j["color"] = HexColor(static_cast<std::uint32_t>(c->get<std::int64_t>()));
  else if (auto dc = str(e, "dce_color"))
    j["color"] = *dc;
  if (auto a = e.find("author"); a != e.end() && a->is_object()) {
    OJson aj;
    if (auto n = str(*a, "name")) aj["name"] = *n; else aj["name"] = nullptr;
    if (auto u = str(*a, "url")) aj["url"] = *u; else aj["url"] = nullptr;
    IconJson(*a, &aj);
    for (auto it = a->begin(); it != a->end(); ++it)
      if (it.key().rfind("dce_", 0) == 0 && it.key() != "dce_icon_url") aj[it.key().substr(4)] = ToOrdered(it.value());
    j["author"] = std::move(aj);
  }
  for (const char* k : {"thumbnail", "image", "video"})
    if (auto it = e.find(k); it != e.end() && it->is_object()) j[k] = ImgJson(*it);
  if (auto f = e.find("footer"); f != e.end() && f->is_object()) {
    OJson fj;
    if (auto t = str(*f, "text")) fj["text"] = *t; else fj["text"] = nullptr;
    IconJson(*f, &fj);
    for (auto it = f->begin(); it != f->end(); ++it)
      if (it.key().rfind("dce_", 0) == 0 && it.key() != "dce_icon_url") fj[it.key().substr(4)] = ToOrdered(it.value());
    j["footer"] = std::move(fj);
  }
  OJson images = OJson::array();
  if (auto di = e.find("dce_images"); di != e.end() && di->is_array()) {
    for (const Json& i : *di) images.push_back(ImgJson(i));
  } else if (auto im = e.find("image"); im != e.end() && im->is_object()) {
    images.push_back(j["image"]);
  }
  j["images"] = std::move(images);
  OJson fields = OJson::array();
  if (auto fs_ = e.find("fields"); fs_ != e.end() && fs_->is_array()) {
    for (const Json& f : *fs_) {
      if (!f.is_object()) continue;
      OJson fj;
      fj["name"] = str(f, "name").value_or("");
      fj["value"] = str(f, "value").value_or("");
      fj["isInline"] = BoolField(f, "inline");
      for (auto it = f.begin(); it != f.end(); ++it)
        if (it.key().rfind("dce_", 0) == 0) fj[it.key().substr(4)] = ToOrdered(it.value());
      fields.push_back(std::move(fj));
    }
  }
  j["fields"] = std::move(fields);
  OJson inl = OJson::array();
  if (auto ie = e.find("dce_inlineEmojis"); ie != e.end() && ie->is_array())
    for (const Json& x : *ie) inl.push_back(ToOrdered(x));
  j["inlineEmojis"] = std::move(inl);
  static const std::set<std::string> known = {"dce_color", "dce_images", "dce_inlineEmojis"};
  for (auto it = e.begin(); it != e.end(); ++it)
    if (it.key().rfind("dce_", 0) == 0 && !known.count(it.key()) && !j.contains(it.key().substr(4)))
      j[it.key().substr(4)] = ToOrdered(it.value());
  return j;
}

OJson Exporter::EmojiJson(const Emoji& e, const Json& extra) {
  OJson j;
  j["id"] = e.id ? Id(e.id) : std::string();
  j["name"] = e.name.empty() ? std::string("Unknown Emoji") : e.name;
  std::string code = e.name;
  if (extra.is_object() && extra.contains("code") && extra["code"].is_string()) code = extra["code"].get<std::string>();
  j["code"] = code;
  j["isAnimated"] = e.animated;
  std::string fallback =
      e.id ? "https://cdn.discordapp.com/emojis/" + Id(e.id) + (e.animated ? ".gif" : ".png")
           : "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/" + TwemojiCode(e.name) + ".svg";
  j["imageUrl"] = Media(e.sha256, e.image_url, fallback);
  return j;
}

OJson Exporter::MessageJson(const Message& m) {
  OJson j;
  j["id"] = Id(m.id);
  if (m.extra.contains("dce_type") && m.extra["dce_type"].is_string()) j["type"] = m.extra["dce_type"].get<std::string>();
  else j["type"] = DceMessageType(m.type);
  j["timestamp"] = DceTime(m.timestamp);
  if (m.edited) j["timestampEdited"] = DceTime(*m.edited); else j["timestampEdited"] = nullptr;
  if (m.extra.contains("callEndedTimestamp")) j["callEndedTimestamp"] = ToOrdered(m.extra["callEndedTimestamp"]);
  else j["callEndedTimestamp"] = nullptr;
  j["isPinned"] = m.pinned.value_or(false);
  j["content"] = m.content.value_or("");
  if (m.author_id) j["author"] = UserJson(*m.author_id, true);
  else j["author"] = UserJson(0, true);

  OJson atts = OJson::array();
  if (m.attachments) {
    for (const Attachment& a : *m.attachments) {
      OJson aj;
      aj["id"] = Id(a.id);
      aj["url"] = Media(a.sha256, a.url, "");
      aj["fileName"] = a.filename;
      aj["fileSizeBytes"] = a.size.value_or(0);
      AppendExtra(a.extra, &aj);
      atts.push_back(std::move(aj));
    }
  }
  if (m.attachments) j["attachments"] = std::move(atts);
  OJson embeds = OJson::array();
  if (m.embeds)
    for (const Json& e : *m.embeds)
      if (e.is_object()) embeds.push_back(EmbedJson(e));
  if (m.embeds) j["embeds"] = std::move(embeds);
  OJson stickers = OJson::array();
  if (m.stickers) {
    static const char* kFormats[] = {"Png", "Png", "Apng", "Lottie", "Gif"};
    for (const Sticker& s : *m.stickers) {
      OJson sj;
      sj["id"] = Id(s.id);
      sj["name"] = s.name;
      sj["format"] = s.format >= 1 && s.format <= 4 ? std::string(kFormats[s.format]) : std::to_string(s.format);
      sj["sourceUrl"] = Media(s.sha256, s.url,
                              "https://cdn.discordapp.com/stickers/" + Id(s.id) +
                                  (s.format == 3 ? ".json" : s.format == 4 ? ".gif" : ".png"));
      stickers.push_back(std::move(sj));
    }
  }
  if (m.stickers) j["stickers"] = std::move(stickers);
  OJson reactions = OJson::array();
  if (m.reactions) {
    for (const Reaction& r : *m.reactions) {
      OJson rj;
      rj["emoji"] = EmojiJson(r.emoji, r.extra);
      rj["count"] = r.count;
      OJson users = OJson::array();
      for (Snowflake u : r.user_ids) users.push_back(UserJson(u, false));
      rj["users"] = std::move(users);
      AppendExtra(r.extra, &rj, {"code"});
      reactions.push_back(std::move(rj));
    }
  }
  if (m.reactions) j["reactions"] = std::move(reactions);
  OJson mentions = OJson::array();
  if (m.mention_user_ids)
    for (Snowflake u : *m.mention_user_ids) mentions.push_back(UserJson(u, true));
  if (m.mention_user_ids) j["mentions"] = std::move(mentions);
  if (m.reference) {
    OJson rj;
    rj["type"] = m.reference->type == 1 ? "Forward" : "Default";
    if (m.reference->message_id) rj["messageId"] = Id(*m.reference->message_id); else rj["messageId"] = nullptr;
    if (m.reference->channel_id) rj["channelId"] = Id(*m.reference->channel_id); else rj["channelId"] = nullptr;
    if (m.reference->guild_id) rj["guildId"] = Id(*m.reference->guild_id); else rj["guildId"] = nullptr;
    j["reference"] = std::move(rj);
  }
  if (m.extra.contains("forwardedMessage")) j["forwardedMessage"] = ToOrdered(m.extra["forwardedMessage"]);
  if (auto it = m.extra.find("interaction"); it != m.extra.end() && it->is_object()) {
    OJson ij;
    ij["id"] = StrField(*it, "id");
    ij["name"] = StrField(*it, "name");
    Snowflake uid = 0;
    if (auto u = it->find("user_id"); u != it->end() && u->is_string()) uid = std::strtoull(u->get<std::string>().c_str(), nullptr, 10);
    ij["user"] = UserJson(uid, true);
    for (auto k = it->begin(); k != it->end(); ++k)
      if (k.key() != "user_id" && !ij.contains(k.key())) ij[k.key()] = ToOrdered(k.value());
    j["interaction"] = std::move(ij);
  }
  OJson inl = OJson::array();
  if (auto it = m.extra.find("inlineEmojis"); it != m.extra.end() && it->is_array()) {
    for (const Json& x : *it) {
      if (!x.is_object()) continue;
      OJson ej;
      ej["id"] = StrField(x, "id");
      ej["name"] = StrField(x, "name");
      ej["code"] = StrField(x, "code", StrField(x, "name"));
      ej["isAnimated"] = BoolField(x, "isAnimated");
      std::optional<std::string> sha, url;
      if (x.contains("sha256") && x["sha256"].is_string()) sha = x["sha256"].get<std::string>();
      if (x.contains("imageUrl") && x["imageUrl"].is_string()) url = x["imageUrl"].get<std::string>();
      ej["imageUrl"] = Media(sha, url, "");
      for (auto k = x.begin(); k != x.end(); ++k)
        if (k.key() != "sha256" && !ej.contains(k.key())) ej[k.key()] = ToOrdered(k.value());
      inl.push_back(std::move(ej));
    }
  }
  j["inlineEmojis"] = std::move(inl);
  static const std::set<std::string> handled = {"dce_type", "callEndedTimestamp", "forwardedMessage", "interaction",
                                                "inlineEmojis"};
  AppendExtra(m.extra, &j, handled);
  return j;
}

// Writes `j` indented by `indent` spaces beyond its own nesting (System.Text.Json's indented layout).
void PutIndented(std::string* out, const OJson& j, int indent) {
  std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string pad(indent, ' ');
  out->append(pad);
  for (char c : s) {
    out->push_back(c);
    if (c == '\n') out->append(pad);
  }
}

Status Exporter::WriteChannel(const exporters::ScopeGuild& g, const Channel& c) {
  // Names: guild, parent (category or parent channel), channel.
  std::string guild_name = g.guild.id ? g.guild.name.value_or("Unknown Guild") : "Direct Messages";
  std::optional<Channel> parent;
  if (c.parent_id) {
    Channel p;
    if (store_.GetChannel(*c.parent_id, &p).ok()) parent = p;
  }
  std::string channel_name = c.name.value_or(Id(c.id));
  std::string parent_name = parent ? parent->name.value_or("") : "";
  if (!parent && c.extra.contains("dce_category") && c.extra["dce_category"].is_string() && g.guild.id)
    parent_name = c.extra["dce_category"].get<std::string>();
  std::string file = DceFileName(guild_name, parent_name, channel_name, c.id);
  files_dir_rel_ = file + "_Files";
  media_done_.clear();
  std::string path = opt_.out_dir + "/" + file;
  std::string tmp = path + ".tmp";

  OJson guild;
  if (g.guild.id) {
    guild["id"] = Id(g.guild.id);
    guild["name"] = guild_name;
    guild["iconUrl"] = Media(g.guild.icon_sha256, g.guild.icon_url, kDefaultIcon);
    AppendExtra(g.guild.extra, &guild);
  } else {
    Json pg = c.extra.contains("dce_guild") ? c.extra["dce_guild"] : Json::object();
    guild["id"] = "0";
    guild["name"] = StrField(pg, "name", "Direct Messages");
    guild["iconUrl"] = StrField(pg, "iconUrl", kDefaultIcon);
    AppendExtra(pg, &guild);
  }
  OJson ch;
  ch["id"] = Id(c.id);
  if (c.extra.contains("dce_type") && c.extra["dce_type"].is_string()) ch["type"] = c.extra["dce_type"].get<std::string>();
  else ch["type"] = DceChannelType(c.type);
  if (c.parent_id) ch["categoryId"] = Id(*c.parent_id); else ch["categoryId"] = nullptr;
  if (parent || !parent_name.empty()) ch["category"] = parent_name; else ch["category"] = nullptr;
  if (!c.parent_id && c.extra.contains("dce_category")) ch["category"] = ToOrdered(c.extra["dce_category"]);
  ch["name"] = channel_name;
  if (c.topic) ch["topic"] = *c.topic; else ch["topic"] = nullptr;
  if (c.icon_url) {
    std::optional<std::string> sha;
    if (c.extra.contains("icon_sha256") && c.extra["icon_sha256"].is_string()) sha = c.extra["icon_sha256"].get<std::string>();
    ch["iconUrl"] = Media(sha, c.icon_url, *c.icon_url);
  }
  AppendExtra(c.extra, &ch, {"dce_type", "dce_guild", "dce_category", "icon_sha256"});
  OJson range;
  range["after"] = nullptr;
  range["before"] = nullptr;

  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
  std::string buf = "{\n  \"guild\": ";
  std::string gs = guild.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  auto nest = [](const std::string& s) {
    std::string o;
    for (char ch_ : s) {
      o.push_back(ch_);
      if (ch_ == '\n') o.append("  ");
    }
    return o;
  };
  buf += nest(gs) + ",\n  \"channel\": " + nest(ch.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) +
         ",\n  \"dateRange\": " + nest(range.dump(2)) + ",\n  \"exportedAt\": " + OJson(exported_at_).dump() +
         ",\n  \"messages\": [";
  std::int64_t n = 0;
  bool write_failed = false;
  Status inner;
  auto flush = [&]() {
    if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) write_failed = true;
    buf.clear();
  };
  Status st = store_.ForEachMessage(c.id, [&](const Message& m) {
    buf += n == 0 ? "\n" : ",\n";
    PutIndented(&buf, MessageJson(m), 4);
    ++n;
    ++done_;
    if (buf.size() > (1 << 16)) flush();
    if ((done_ & 255) == 0) {
      progress_->Update("dce " + channel_name, done_, total_, done_);
      if (opt_.interrupted && opt_.interrupted()) {
        inner = Status::Interrupted("export interrupted");
        return false;
      }
    }
    return !write_failed;
  });
  buf += n == 0 ? "],\n" : "\n  ],\n";
  buf += "  \"messageCount\": " + std::to_string(n) + "\n}\n";
  flush();
  int rc = std::fclose(f);
  if (!st.ok() || !inner.ok() || write_failed || rc != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    if (!st.ok()) return st;
    if (!inner.ok()) return inner;
    return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::IoError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  sum_->messages += n;
  ++sum_->files;
  sum_->paths.push_back(path);
  return Status::Ok();
}

Status Exporter::Run() {
  FERRY_RETURN_IF_ERROR(exporters::PrepareOutputDir(opt_.out_dir));
  exporters::ExportScope scope;
  FERRY_RETURN_IF_ERROR(exporters::ResolveScope(store_, opt_.guild_ids, opt_.channel_ids, &scope));
  // exportedAt: the newest moment any import described (deterministic for a given store).
  std::vector<ImportRun> runs;
  FERRY_RETURN_IF_ERROR(store_.ListRuns(&runs));
  std::int64_t newest = 0;
  for (const ImportRun& r : runs) newest = std::max(newest, r.source_time_ms);
  exported_at_ = FormatDceTimestamp(newest);
  for (const auto& g : scope.guilds)
    for (const Channel& c : g.selected) {
      std::int64_t n = 0;
      FERRY_RETURN_IF_ERROR(store_.CountMessages(c.id, &n));
      total_ += n;
    }
  for (const auto& g : scope.guilds) {
    guild_id_ = g.guild.id;
    roles_.clear();
    users_with_roles_.clear();
    users_plain_.clear();
    if (guild_id_) {
      std::vector<Role> roles;
      FERRY_RETURN_IF_ERROR(store_.ListRoles(guild_id_, &roles));
      for (Role& r : roles) roles_[r.id] = std::move(r);
    }
    for (const Channel& c : g.selected) {
      // Avatars and emoji are copied per file (each file has its own _Files folder, as in DCE).
      users_with_roles_.clear();
      users_plain_.clear();
      FERRY_RETURN_IF_ERROR(WriteChannel(g, c));
    }
  }
  progress_->Update("dce", done_, total_, done_);
  progress_->Finish();
  return Status::Ok();
}

}  // namespace

std::string DceChannelType(int type) {
  switch (type) {
    case 0: return "GuildTextChat";
    case 1: return "DirectTextChat";
    case 2: return "GuildVoiceChat";
    case 3: return "DirectGroupTextChat";
    case 4: return "GuildCategory";
    case 5: return "GuildNews";
    case 6: return "GuildStore";
    case 10: return "GuildNewsThread";
    case 11: return "GuildPublicThread";
    case 12: return "GuildPrivateThread";
    case 13: return "GuildStageVoice";
    case 14: return "GuildDirectory";
    case 15: return "GuildForum";
    default: return std::to_string(type);
  }
}

std::string DceMessageType(int type) {
  switch (type) {
    case 0: return "Default";
    case 1: return "RecipientAdd";
    case 2: return "RecipientRemove";
    case 3: return "Call";
    case 4: return "ChannelNameChange";
    case 5: return "ChannelIconChange";
    case 6: return "ChannelPinnedMessage";
    case 7: return "GuildMemberJoin";
    case 18: return "ThreadCreated";
    case 19: return "Reply";
    default: return std::to_string(type);
  }
}

std::string DceFileName(const std::string& guild, const std::string& parent, const std::string& channel, Snowflake id) {
  std::string base = CutUtf8(guild, 60);
  if (!parent.empty()) base += " - " + CutUtf8(parent, 60);
  base += " - " + CutUtf8(channel, 80);
  std::string name = SanitizeName(base) + " [" + std::to_string(id) + "].json";
  while (!name.empty() && (name[0] == '.' || name[0] == ' ')) name.erase(0, 1);
  return name;
}

std::string DceMediaName(const std::string& url) {
  std::string path = url;
  size_t q = path.find_first_of("?#");
  if (q != std::string::npos) path = path.substr(0, q);
  size_t slash = path.find_last_of('/');
  std::string seg = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string stem = seg, ext;
  size_t dot = seg.rfind('.');
  if (dot != std::string::npos && seg.size() - dot <= 42) {
    stem = seg.substr(0, dot);
    ext = seg.substr(dot);
  }
  stem = CutUtf8(stem, 42);
  std::string name = stem + "-" + Sha256Hex(url).substr(0, 16) + ext;
  return SanitizeName(name);
}

Status ExportDce(Store& store, const DceExportOptions& options, Progress* progress, DceExportSummary* summary) {
  NullProgress null_progress;
  DceExportSummary local;
  Exporter e(store, options, progress ? progress : &null_progress, summary ? summary : &local);
  return e.Run();
}

}  // namespace ferry::dce_export
