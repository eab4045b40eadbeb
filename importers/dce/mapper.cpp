#include "importers/dce/mapper.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cstring>
#include <utility>

#include "importers/dce/sha256.hpp"
#include "store/snowflake.hpp"
#include "store/timestamp.hpp"

namespace ferry::dce {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

namespace {

// ---- small helpers over simdjson elements --------------------------------------------------------------

bool IsNull(element e) { return e.type() == element_type::NULL_VALUE; }

// Typed access after a type() check (get() into a local keeps GCC's uninitialised-value analysis quiet).
object Obj(element e) {
  object o;
  [[maybe_unused]] auto err = e.get(o);  // callers checked type()
  return o;
}
array Arr(element e) {
  array a;
  [[maybe_unused]] auto err = e.get(a);  // callers checked type()
  return a;
}
std::string_view Sv(element e) {
  std::string_view v;
  [[maybe_unused]] auto err = e.get(v);  // callers checked type()
  return v;
}
template <typename T>
T As(element e) {
  T v{};
  [[maybe_unused]] auto err = e.get(v);  // callers checked type()
  return v;
}

std::optional<std::string_view> StrView(element e) {
  if (e.type() != element_type::STRING) return std::nullopt;
  return std::string_view(Sv(e));
}

std::optional<std::string> OptStr(element e) {
  auto v = StrView(e);
  if (!v) return std::nullopt;
  return std::string(*v);
}

// Snowflakes come as strings (DCE) but a bare number is accepted too.
std::optional<Snowflake> IdOf(element e) {
  switch (e.type()) {
    case element_type::STRING: return ParseSnowflake(Sv(e));
    case element_type::UINT64: return As<std::uint64_t>(e);
    case element_type::INT64: {
      auto v = As<std::int64_t>(e);
      if (v < 0) return std::nullopt;
      return static_cast<Snowflake>(v);
    }
    default: return std::nullopt;
  }
}

std::optional<std::int64_t> IntOf(element e) {
  switch (e.type()) {
    case element_type::INT64: return As<std::int64_t>(e);
    case element_type::UINT64: return static_cast<std::int64_t>(As<std::uint64_t>(e));
    case element_type::DOUBLE: return static_cast<std::int64_t>(As<double>(e));
    case element_type::STRING: {
      auto s = Sv(e);
      auto v = ParseSnowflake(s);
      if (v) return static_cast<std::int64_t>(*v);
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

std::optional<bool> BoolOf(element e) {
  if (e.type() != element_type::BOOL) return std::nullopt;
  return As<bool>(e);
}

std::optional<Timestamp> TimeOf(element e) {
  auto s = StrView(e);
  if (!s) return std::nullopt;
  Timestamp t;
  t.text = std::string(*s);
  auto ms = ParseTimestampMs(*s);
  if (!ms) return std::nullopt;
  t.ms = *ms;
  return t;
}

// Enough to tell "same as what was queued" from "changed". Fingerprints only live in this run's caches (never stored), so any good 64-bit mix will do. Eight bytes a
// step: byte-at-a-time FNV-1a was one multiply's latency per byte, ~250 bytes for every author of every message.
struct Fp {
  std::uint64_t h = 1469598103934665603ULL;
  void Mix(std::uint64_t w) {
    h ^= w;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
  }
  void Add(std::string_view s) {
    const char* p = s.data();
    std::size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      Mix(w);
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    Mix(tail ^ (static_cast<std::uint64_t>(n + 1) << 56));  // the length ends the field: "ab"+"c" != "a"+"bc"
  }
  void Add(std::uint64_t v) {
    Mix(v);
    Mix(0x9e3779b97f4a7c15ULL);
  }
  std::uint64_t Done() const { return h ? h : 1; }
};

// Fingerprint of a JSON value without serialising it (this runs for every author of every message).
void AddElement(Fp* f, element e) {
  switch (e.type()) {
    case element_type::OBJECT:
      for (auto [k, v] : Obj(e)) {
        f->Add(k);
        AddElement(f, v);
      }
      f->Add("}");
      break;
    case element_type::ARRAY:
      for (auto v : Arr(e)) AddElement(f, v);
      f->Add("]");
      break;
    case element_type::STRING: f->Add(Sv(e)); break;
    case element_type::INT64: f->Add(static_cast<std::uint64_t>(As<std::int64_t>(e))); break;
    case element_type::UINT64: f->Add(As<std::uint64_t>(e)); break;
    case element_type::DOUBLE: {
      double d = As<double>(e);
      std::uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      f->Add(bits);
      break;
    }
    case element_type::BOOL: f->Add(As<bool>(e) ? "true" : "false"); break;
    case element_type::NULL_VALUE: f->Add("null"); break;
  }
}

std::uint64_t HashStr(std::string_view s) {
  Fp f;
  f.Add(s);
  return f.Done();
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Length of a raw Discord token starting at s[i] == '<', or 0.
std::size_t RawTokenAt(std::string_view s, std::size_t i) {
  auto digits = [&](std::size_t j) {
    std::size_t k = j;
    while (k < s.size() && s[k] >= '0' && s[k] <= '9') ++k;
    return k - j;
  };
  std::size_t j = i + 1;
  if (j >= s.size()) return 0;
  if (s[j] == '@') {
    ++j;
    if (j < s.size() && (s[j] == '!' || s[j] == '&')) ++j;
    std::size_t d = digits(j);
    if (d >= 15 && j + d < s.size() && s[j + d] == '>') return j + d + 1 - i;
    return 0;
  }
  if (s[j] == '#') {
    ++j;
    std::size_t d = digits(j);
    if (d >= 15 && j + d < s.size() && s[j + d] == '>') return j + d + 1 - i;
    return 0;
  }
  if (s[j] == 't' && j + 1 < s.size() && s[j + 1] == ':') {
    j += 2;
    std::size_t d = digits(j);
    if (d == 0) return 0;
    j += d;
    if (j + 1 < s.size() && s[j] == ':' && std::isalpha(static_cast<unsigned char>(s[j + 1]))) j += 2;
    if (j < s.size() && s[j] == '>') return j + 1 - i;
    return 0;
  }
  if (s[j] == 'a' && j + 1 < s.size() && s[j + 1] == ':') ++j;
  if (s[j] == ':' || s[j] == '/') {  // <:name:id>, </command:id>
    ++j;
    std::size_t n = j;
    while (n < s.size() && (IsWordChar(s[n]) || (s[j - 1] == '/' && s[n] == ' '))) ++n;
    if (n == j || n >= s.size() || s[n] != ':') return 0;
    std::size_t d = digits(n + 1);
    if (d >= 15 && n + 1 + d < s.size() && s[n + 1 + d] == '>') return n + 2 + d - i;
  }
  return 0;
}

}  // namespace

// ---- enumerations --------------------------------------------------------------------------------------

static int DecimalOrMinus(std::string_view s) {
  if (s.empty() || s.size() > 6) return -1;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

int ChannelTypeFromDce(std::string_view s) {
  static const std::pair<const char*, int> kNames[] = {
      {"GuildTextChat", 0},       {"DirectTextChat", 1},     {"GuildVoiceChat", 2},   {"DirectGroupTextChat", 3},
      {"GuildCategory", 4},       {"GuildNews", 5},          {"GuildStore", 6},       {"GuildNewsThread", 10},
      {"GuildPublicThread", 11},  {"GuildPrivateThread", 12}, {"GuildStageVoice", 13}, {"GuildDirectory", 14},
      {"GuildForum", 15},         {"GuildMedia", 16},
  };
  for (auto& [n, v] : kNames)
    if (s == n) return v;
  return DecimalOrMinus(s);
}

int MessageTypeFromDce(std::string_view s) {
  static const std::pair<const char*, int> kNames[] = {
      {"Default", 0},           {"RecipientAdd", 1},         {"RecipientRemove", 2},      {"Call", 3},
      {"ChannelNameChange", 4}, {"ChannelIconChange", 5},    {"ChannelPinnedMessage", 6}, {"GuildMemberJoin", 7},
      {"ThreadCreated", 18},    {"Reply", 19},
  };
  for (auto& [n, v] : kNames)
    if (s == n) return v;
  return DecimalOrMinus(s);
}

int StickerFormatFromDce(std::string_view s) {
  if (s == "Png") return 1;
  if (s == "Apng") return 2;
  if (s == "Lottie") return 3;
  if (s == "Gif") return 4;
  int v = DecimalOrMinus(s);
  return v > 0 ? v : 0;
}

std::optional<std::uint32_t> ParseHexColor(std::string_view s) {
  if (s.size() != 7 || s[0] != '#') return std::nullopt;
  std::uint32_t v = 0;
  for (std::size_t i = 1; i < 7; ++i) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
    else return std::nullopt;
  }
  return v;
}

bool IsRemoteUrl(std::string_view url) {
  return StartsWith(url, "http://") || StartsWith(url, "https://") || StartsWith(url, "data:") ||
         StartsWith(url, "HTTP://") || StartsWith(url, "HTTPS://");
}

std::string_view ContentEvidence(std::string_view content, const std::vector<std::string_view>& mention_names,
                                 const std::vector<std::string_view>& emoji_names) {
  // Code spans are never rewritten by DCE, so what they contain says nothing about the mode.
  std::string stripped;
  std::string_view s = content;
  if (content.find('`') != std::string_view::npos) {
    stripped.reserve(content.size());
    for (std::size_t i = 0; i < content.size();) {
      if (content.compare(i, 3, "```") == 0) {
        auto e = content.find("```", i + 3);
        i = e == std::string_view::npos ? content.size() : e + 3;
      } else if (content[i] == '`') {
        auto e = content.find('`', i + 1);
        i = e == std::string_view::npos ? content.size() : e + 1;
      } else {
        stripped.push_back(content[i++]);
      }
    }
    s = stripped;
  }
  for (std::size_t i = s.find('<'); i != std::string_view::npos; i = s.find('<', i + 1))
    if (RawTokenAt(s, i)) return "raw";
  for (auto n : mention_names) {
    if (n.empty()) continue;
    for (std::size_t i = s.find('@'); i != std::string_view::npos; i = s.find('@', i + 1))
      if (s.compare(i + 1, n.size(), n) == 0) return "display";
  }
  for (auto n : emoji_names) {
    if (n.empty()) continue;
    std::string tok = ":" + std::string(n) + ":";
    for (std::size_t i = s.find(tok); i != std::string_view::npos; i = s.find(tok, i + 1)) {
      if (i == 0 || (s[i - 1] != '<' && s[i - 1] != 'a')) return "display";
    }
  }
  if (s.find("@Unknown") != std::string_view::npos || s.find("@deleted-role") != std::string_view::npos ||
      s.find("#deleted-channel") != std::string_view::npos)
    return "display";
  return "";
}

Json ToJson(element e) {
  switch (e.type()) {
    case element_type::OBJECT: {
      Json o = Json::object();
      for (auto [k, v] : Obj(e)) o[std::string(k)] = ToJson(v);
      return o;
    }
    case element_type::ARRAY: {
      Json a = Json::array();
      for (auto v : Arr(e)) a.push_back(ToJson(v));
      return a;
    }
    case element_type::STRING: return std::string(Sv(e));
    case element_type::INT64: return As<std::int64_t>(e);
    case element_type::UINT64: return As<std::uint64_t>(e);
    case element_type::DOUBLE: return As<double>(e);
    case element_type::BOOL: return As<bool>(e);
    case element_type::NULL_VALUE: return nullptr;
  }
  return nullptr;
}

namespace {

// DCE Img {url, canonicalUrl, width, height} → API {url, proxy_url, width, height}. Since DCE 2.46.1 `url`
// is the proxy (or a local path) and canonicalUrl the original.
Json ConvertImage(element e) {
  Json out = Json::object();
  if (e.type() != element_type::OBJECT) return out;
  std::optional<std::string> url, canonical;
  for (auto [k, v] : Obj(e)) {
    if (k == "url") url = OptStr(v);
    else if (k == "canonicalUrl") canonical = OptStr(v);
    else if (k == "width" || k == "height") {
      if (auto n = IntOf(v)) out[std::string(k)] = *n;
    } else {
      out["dce_" + std::string(k)] = ToJson(v);
    }
  }
  bool local = url && !IsRemoteUrl(*url);
  if (canonical) {
    out["url"] = *canonical;
    if (url && !local) out["proxy_url"] = *url;
  } else if (url && !local) {
    out["url"] = *url;
  }
  if (local) {
    out["dce_url"] = *url;
    if (!out.contains("url")) out["url"] = *url;
  }
  return out;
}

// author/footer icons: iconUrl (proxy or local) / iconCanonicalUrl (original).
void ConvertIcon(Json* out, std::optional<std::string> icon, std::optional<std::string> canonical) {
  bool local = icon && !IsRemoteUrl(*icon);
  if (canonical) {
    (*out)["icon_url"] = *canonical;
    if (icon && !local) (*out)["proxy_icon_url"] = *icon;
  } else if (icon) {
    (*out)["icon_url"] = *icon;
  }
  if (local) (*out)["dce_icon_url"] = *icon;
}

}  // namespace

Json ConvertEmbed(element embed) {
  Json out = {{"type", "rich"}};
  if (embed.type() != element_type::OBJECT) return out;
  for (auto [k, v] : Obj(embed)) {
    if (k == "title" || k == "description") {
      auto s = StrView(v);
      if (s && !s->empty()) out[std::string(k)] = std::string(*s);
    } else if (k == "url" || k == "timestamp") {
      if (auto s = OptStr(v)) out[std::string(k)] = *s;
    } else if (k == "color") {
      auto s = StrView(v);
      if (s) {
        if (auto c = ParseHexColor(*s)) out["color"] = *c;
        else out["dce_color"] = std::string(*s);
      } else if (auto n = IntOf(v)) {
        out["color"] = *n;
      }
    } else if (k == "author" && v.type() == element_type::OBJECT) {
      Json a = Json::object();
      std::optional<std::string> icon, canonical;
      for (auto [ak, av] : Obj(v)) {
        if (ak == "name" || ak == "url") {
          if (auto s = OptStr(av)) a[std::string(ak)] = *s;
        } else if (ak == "iconUrl") icon = OptStr(av);
        else if (ak == "iconCanonicalUrl") canonical = OptStr(av);
        else a["dce_" + std::string(ak)] = ToJson(av);
      }
      ConvertIcon(&a, icon, canonical);
      out["author"] = std::move(a);
    } else if (k == "footer" && v.type() == element_type::OBJECT) {
      Json f = Json::object();
      std::optional<std::string> icon, canonical;
      for (auto [fk, fv] : Obj(v)) {
        if (fk == "text") {
          if (auto s = OptStr(fv)) f["text"] = *s;
        } else if (fk == "iconUrl") icon = OptStr(fv);
        else if (fk == "iconCanonicalUrl") canonical = OptStr(fv);
        else f["dce_" + std::string(fk)] = ToJson(fv);
      }
      ConvertIcon(&f, icon, canonical);
      out["footer"] = std::move(f);
    } else if (k == "thumbnail" || k == "image" || k == "video") {
      if (v.type() == element_type::OBJECT) out[std::string(k)] = ConvertImage(v);
    } else if (k == "images") {
      // `image` is images[0]; only multi-image (Twitter-style) embeds carry more.
      if (v.type() == element_type::ARRAY) {
        auto arr = Arr(v);
        if (arr.size() > 1) {
          Json imgs = Json::array();
          for (auto i : arr) imgs.push_back(ConvertImage(i));
          out["dce_images"] = std::move(imgs);
        }
      }
    } else if (k == "fields") {
      if (v.type() == element_type::ARRAY) {
        Json fields = Json::array();
        for (auto f : Arr(v)) {
          if (f.type() != element_type::OBJECT) continue;
          Json jf = Json::object();
          for (auto [fk, fv] : Obj(f)) {
            if (fk == "name" || fk == "value") {
              if (auto s = OptStr(fv)) jf[std::string(fk)] = *s;
            } else if (fk == "isInline") {
              if (auto b = BoolOf(fv)) jf["inline"] = *b;
            } else {
              jf["dce_" + std::string(fk)] = ToJson(fv);
            }
          }
          fields.push_back(std::move(jf));
        }
        if (!fields.empty()) out["fields"] = std::move(fields);
      }
    } else if (k == "inlineEmojis") {
      if (v.type() == element_type::ARRAY && Arr(v).size() > 0)
        out["dce_inlineEmojis"] = ToJson(v);
    } else {
      out["dce_" + std::string(k)] = ToJson(v);
    }
  }
  return out;
}

// ---- U64Map --------------------------------------------------------------------------------------------

static inline std::size_t Mix(std::uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return static_cast<std::size_t>(k);
}

std::uint64_t* U64Map::Find(std::uint64_t key) {
  if (key == 0 || keys_.empty()) return nullptr;
  std::size_t mask = keys_.size() - 1;
  for (std::size_t i = Mix(key) & mask;; i = (i + 1) & mask) {
    if (keys_[i] == key) return &values_[i];
    if (keys_[i] == 0) return nullptr;
  }
}

void U64Map::Put(std::uint64_t key, std::uint64_t value) {
  if (key == 0) return;
  if ((size_ + 1) * 2 > keys_.size()) Grow();
  std::size_t mask = keys_.size() - 1;
  for (std::size_t i = Mix(key) & mask;; i = (i + 1) & mask) {
    if (keys_[i] == key) {
      values_[i] = value;
      return;
    }
    if (keys_[i] == 0) {
      keys_[i] = key;
      values_[i] = value;
      ++size_;
      return;
    }
  }
}

void U64Map::Grow() {
  std::vector<std::uint64_t> ok = std::move(keys_), ov = std::move(values_);
  std::size_t n = ok.empty() ? 1024 : ok.size() * 2;
  keys_.assign(n, 0);
  values_.assign(n, 0);
  size_ = 0;
  for (std::size_t i = 0; i < ok.size(); ++i)
    if (ok[i]) Put(ok[i], ov[i]);
}

void U64Map::Clear() {
  keys_.clear();
  values_.clear();
  keys_.shrink_to_fit();
  values_.shrink_to_fit();
  size_ = 0;
}

// ---- Mapper --------------------------------------------------------------------------------------------

Mapper::Mapper() : run_(std::make_shared<MapperRunState>()) {}
Mapper::Mapper(std::shared_ptr<MapperRunState> run) : run_(std::move(run)) {}
Mapper::~Mapper() = default;

void Mapper::BeginFile(const FileContext& ctx) {
  ctx_ = ctx;
  user_fp_.Clear();
  member_fp_.Clear();
  member_roles_.Clear();
  role_fp_.Clear();
  missing_seen_.Clear();
  noted_.Clear();
  raw_msgs_ = display_msgs_ = 0;
  file_mode_.clear();
}

void Mapper::ForgetQueuedBlobs() { run_->queued_blob.Clear(); }

std::vector<std::string> Mapper::TakeNotes() { return std::exchange(notes_, {}); }

void Mapper::Note(std::string s) {
  std::uint64_t h = HashStr(s);
  if (noted_.Find(h)) return;  // each distinct note once per file
  noted_.Put(h, 1);
  notes_.push_back(ctx_.file + ": " + s);
}

std::string Mapper::FileContentFormat() const {
  if (raw_msgs_ && display_msgs_) return "mixed";
  if (raw_msgs_) return "raw";
  if (display_msgs_) return "display";
  return "unknown";
}

static bool IsRegularFile(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::optional<std::string> Mapper::ResolveLocal(std::string_view url) const {
  if (url.empty() || IsRemoteUrl(url)) return std::nullopt;
  std::string p(url);
  if (StartsWith(p, "file://")) p = p.substr(7);
  for (auto& c : p)
    if (c == '\\') c = '/';
  bool windows_abs = p.size() > 2 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':' && p[2] == '/';
  if (!windows_abs) {
    std::string full = (!p.empty() && p[0] == '/') ? p : (ctx_.dir.empty() ? p : ctx_.dir + "/" + p);
    if (IsRegularFile(full)) return full;
  }
  // The media folder may have moved with the JSON (absolute paths from another machine) or belong to the
  // base file of a partition set: look for the bare file name in the known _Files folders.
  auto slash = p.rfind('/');
  std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  if (base.empty()) return std::nullopt;
  for (auto& d : ctx_.media_dirs) {
    std::string cand = d + "/" + base;
    if (IsRegularFile(cand)) return cand;
  }
  return std::nullopt;
}

Mapper::MediaResult Mapper::Media(std::string_view url, Batch* b) {
  MediaResult r;
  if (url.empty()) return r;
  if (IsRemoteUrl(url)) {
    std::uint64_t h = HashStr(url);
    if (!missing_seen_.Find(h)) {
      missing_seen_.Put(h, 1);
      ++run_->counters.media_remote;
    }
    return r;
  }
  r.local = true;
  auto path = ResolveLocal(url);
  if (!path) {
    std::uint64_t h = HashStr(url);
    if (!missing_seen_.Find(h)) {
      missing_seen_.Put(h, 1);
      ++run_->counters.media_missing;
      if (run_->counters.media_missing <= 20) Note("media file not found: " + std::string(url));
    }
    return r;
  }
  auto it = run_->media_cache.find(*path);
  if (it == run_->media_cache.end()) {
    if (run_->media_cache.size() > 50000) run_->media_cache.clear();  // bounded; a miss only costs a re-hash
    it = run_->media_cache.emplace(*path, Sha256File(*path)).first;
    ++run_->counters.media_local;
  }
  r.sha256 = it->second;
  if (r.sha256) {
    std::uint64_t key = std::stoull(r.sha256->substr(0, 16), nullptr, 16);
    if (!run_->queued_blob.Find(key)) {
      run_->queued_blob.Put(key, 1);
      b->blobs.push_back({*path, *r.sha256});
      ++run_->counters.blobs_queued;
    }
  }
  return r;
}

bool Mapper::MapHeader(element guild, element channel, Batch* b, std::string* error) {
  if (guild.type() != element_type::OBJECT) {
    *error = ctx_.file + ": \"guild\" is not a JSON object; not a DCE export";
    return false;
  }
  if (channel.type() != element_type::OBJECT) {
    *error = ctx_.file + ": \"channel\" is not a JSON object; not a DCE export";
    return false;
  }
  Guild g;
  std::optional<Snowflake> gid;
  for (auto [k, v] : Obj(guild)) {
    if (k == "id") gid = IdOf(v);
    else if (k == "name") g.name = OptStr(v);
    else if (k == "iconUrl") g.icon_url = OptStr(v);
    else g.extra[std::string(k)] = ToJson(v);
  }
  if (!gid) {
    *error = ctx_.file + ": \"guild\" has no valid \"id\"; not a DCE export";
    return false;
  }
  Channel c;
  std::optional<Snowflake> cid, category_id;
  std::optional<std::string> category_name;
  std::string type_text;
  for (auto [k, v] : Obj(channel)) {
    if (k == "id") cid = IdOf(v);
    else if (k == "type") {
      if (auto s = StrView(v)) type_text = std::string(*s);
      else if (auto n = IntOf(v)) type_text = std::to_string(*n);
    } else if (k == "categoryId") category_id = IdOf(v);
    else if (k == "category") category_name = OptStr(v);
    else if (k == "name") c.name = OptStr(v);
    else if (k == "topic") c.topic = OptStr(v);
    else if (k == "iconUrl") c.icon_url = OptStr(v);
    else if (k == "position") { if (auto n = IntOf(v)) c.position = static_cast<int>(*n); }
    else c.extra[std::string(k)] = ToJson(v);
  }
  if (!cid || *cid == 0) {
    *error = ctx_.file + ": \"channel\" has no valid \"id\"; not a DCE export";
    return false;
  }
  ctx_.guild_id = *gid;
  ctx_.channel_id = *cid;
  c.id = *cid;
  int type = ChannelTypeFromDce(type_text);
  if (type < 0) {
    Note("unknown channel type \"" + type_text + "\", stored as a text channel (original in extra.dce_type)");
    c.extra["dce_type"] = type_text;
    type = *gid == 0 ? kDm : kGuildText;
  }
  c.type = type;
  if (*gid != 0) {
    c.guild_id = *gid;
    g.id = *gid;
    if (g.icon_url && !IsRemoteUrl(*g.icon_url)) g.icon_sha256 = Media(*g.icon_url, b).sha256;
    else if (g.icon_url) Media(*g.icon_url, b);
    b->guilds.emplace_back(std::move(g), ctx_.src);
  } else {
    // DCE's pseudo-guild "Direct Messages": not a guild; kept on the channel so nothing is lost.
    Json pg = Json::object();
    for (auto [k, v] : Obj(guild)) pg[std::string(k)] = ToJson(v);
    c.extra["dce_guild"] = std::move(pg);
  }
  if (c.icon_url) {
    auto m = Media(*c.icon_url, b);
    if (m.sha256) c.extra["icon_sha256"] = *m.sha256;
  }
  // Up to ~2.40 uncategorised channels and DMs got a fallback category with id "0" or none.
  if (category_id && *category_id != 0 && *gid != 0) {
    c.parent_id = *category_id;
    Channel parent;
    parent.id = *category_id;
    parent.guild_id = *gid;
    parent.name = category_name;
    if (IsThreadType(type)) {
      // A thread file names its parent channel but not the parent's type (text, news or forum).
      parent.type = type == kAnnouncementThread ? kGuildAnnouncement : kGuildText;
      b->channels.emplace_back(std::move(parent), Source{ctx_.src.run_id, 0});
    } else {
      parent.type = kGuildCategory;
      b->channels.emplace_back(std::move(parent), ctx_.src);
    }
  } else if (category_name) {
    c.extra["dce_category"] = *category_name;
  }
  b->channels.emplace_back(std::move(c), ctx_.src);
  return true;
}

Snowflake Mapper::MapUser(element u, Batch* b, bool* ok) {
  *ok = false;
  if (u.type() != element_type::OBJECT) return 0;
  std::optional<Snowflake> id;
  std::optional<std::string_view> name, disc, nickname, color, avatar;
  std::optional<bool> bot;
  std::optional<element> roles;
  std::vector<std::pair<std::string_view, element>> other;
  for (auto [k, v] : Obj(u)) {
    if (k == "id") id = IdOf(v);
    else if (k == "name") name = StrView(v);
    else if (k == "discriminator") disc = StrView(v);
    else if (k == "nickname") nickname = StrView(v);
    else if (k == "color") color = StrView(v);
    else if (k == "isBot") bot = BoolOf(v);
    else if (k == "avatarUrl") avatar = StrView(v);
    else if (k == "roles") { if (v.type() == element_type::ARRAY) roles = v; }
    else other.emplace_back(k, v);
  }
  if (!id || *id == 0) return 0;
  *ok = true;
  run_->seen_users.Put(*id, 1);
  bool dm = ctx_.guild_id == 0;
  bool has_nick = nickname && name && *nickname != *name;

  Fp ufp;
  ufp.Add(name.value_or("\x01"));
  ufp.Add(disc.value_or("\x01"));
  ufp.Add(avatar.value_or("\x01"));
  ufp.Add(bot ? (*bot ? "1" : "0") : "\x01");
  if (dm) ufp.Add(nickname.value_or("\x01"));
  for (auto& [k, v] : other) {
    ufp.Add(k);
    AddElement(&ufp, v);
  }
  auto* seen = user_fp_.Find(*id);
  if (!seen || *seen != ufp.Done()) {
    user_fp_.Put(*id, ufp.Done());
    User user;
    user.id = *id;
    if (name) user.username = std::string(*name);
    if (disc) user.discriminator = std::string(*disc);
    if (bot) user.bot = *bot;
    if (avatar) {
      user.avatar_url = std::string(*avatar);
      auto m = Media(*avatar, b);
      if (m.sha256) user.avatar_sha256 = m.sha256;
    }
    if (dm && has_nick) user.global_name = std::string(*nickname);
    for (auto& [k, v] : other) user.extra[std::string(k)] = ToJson(v);
    b->users.push_back(std::move(user));
  }
  if (dm) return *id;

  Fp mfp;
  mfp.Add(has_nick ? *nickname : std::string_view("\x01"));
  mfp.Add(color.value_or("\x01"));
  std::uint64_t rfp = 0;
  std::vector<Snowflake> role_ids;
  if (roles) {
    Fp r;
    for (auto re : Arr(*roles)) {
      if (re.type() != element_type::OBJECT) continue;
      // The same roles come with nearly every message of their members: fingerprint first, and build the
      // Role only when this file has not queued it as it is now.
      std::optional<Snowflake> rid;
      Fp one;
      for (auto [k, v] : Obj(re)) {
        if (k == "id") rid = IdOf(v);
        one.Add(k);
        AddElement(&one, v);
      }
      if (!rid || *rid == 0) continue;
      role_ids.push_back(*rid);
      r.Add(*rid);
      auto* rs = role_fp_.Find(*rid);
      if (rs && *rs == one.Done()) continue;
      role_fp_.Put(*rid, one.Done());
      Role role;
      role.guild_id = ctx_.guild_id;
      role.id = *rid;
      for (auto [k, v] : Obj(re)) {
        if (k == "id") continue;
        if (k == "name") role.name = OptStr(v);
        else if (k == "color") {
          // null = the role has no colour (Discord's 0)
          if (IsNull(v)) role.color = 0;
          else if (auto s = StrView(v)) role.color = ParseHexColor(*s);
        } else if (k == "position") {
          if (auto n = IntOf(v)) role.position = static_cast<int>(*n);
        } else {
          role.extra[std::string(k)] = ToJson(v);
        }
      }
      b->roles.push_back(std::move(role));
    }
    rfp = r.Done();
  }
  auto* ms = member_fp_.Find(*id);
  auto* mr = member_roles_.Find(*id);
  bool base_changed = !ms || *ms != mfp.Done();
  bool roles_changed = roles && (!mr || *mr != rfp);
  if (base_changed || roles_changed) {
    member_fp_.Put(*id, mfp.Done());
    if (roles) member_roles_.Put(*id, rfp);
    Member m;
    m.guild_id = ctx_.guild_id;
    m.user_id = *id;
    if (has_nick) m.nick = std::string(*nickname);
    if (color) m.color = std::string(*color);
    if (roles) m.role_ids = std::move(role_ids);
    b->members.push_back(std::move(m));
  }
  return *id;
}

bool Mapper::MapMessage(element msg, std::uint64_t offset, std::int64_t index, Batch* b, std::string* warning) {
  auto where = [&]() {
    return ctx_.file + ": message #" + std::to_string(index) + " at byte " + std::to_string(offset);
  };
  if (msg.type() != element_type::OBJECT) {
    *warning = where() + " is not an object; skipped";
    return false;
  }
  std::optional<element> id_e, type_e, ts_e, edited_e, pinned_e, content_e, author_e, atts_e, embeds_e,
      stickers_e, reactions_e, mentions_e, ref_e, interaction_e, inline_e;
  Message m;
  for (auto [k, v] : Obj(msg)) {
    if (k == "id") id_e = v;
    else if (k == "type") type_e = v;
    else if (k == "timestamp") ts_e = v;
    else if (k == "timestampEdited") edited_e = v;
    else if (k == "isPinned") pinned_e = v;
    else if (k == "content") content_e = v;
    else if (k == "author") author_e = v;
    else if (k == "attachments") atts_e = v;
    else if (k == "embeds") embeds_e = v;
    else if (k == "stickers") stickers_e = v;
    else if (k == "reactions") reactions_e = v;
    else if (k == "mentions") mentions_e = v;
    else if (k == "reference") ref_e = v;
    else if (k == "interaction") interaction_e = v;
    else if (k == "inlineEmojis") inline_e = v;
    else if (k == "callEndedTimestamp") {
      if (!IsNull(v)) m.extra["callEndedTimestamp"] = ToJson(v);
    } else {
      m.extra[std::string(k)] = ToJson(v);  // forwardedMessage and anything newer DCE versions add
    }
  }
  std::optional<Snowflake> id;
  if (id_e) id = IdOf(*id_e);
  if (!id || *id == 0) {
    *warning = where() + (id_e ? " has an invalid \"id\"; skipped" : " has no \"id\"; skipped");
    return false;
  }
  m.id = *id;
  m.channel_id = ctx_.channel_id;

  if (type_e) {
    std::string t;
    if (auto s = StrView(*type_e)) t = std::string(*s);
    else if (auto n = IntOf(*type_e)) t = std::to_string(*n);
    int ty = MessageTypeFromDce(t);
    if (ty < 0) {
      Note("unknown message type \"" + t + "\", stored as 0 (original in extra.dce_type)");
      m.extra["dce_type"] = t;
      ty = 0;
    }
    m.type = ty;
  }
  if (ts_e && StrView(*ts_e)) {
    if (auto t = TimeOf(*ts_e)) {
      m.timestamp = *t;
    } else {
      m.timestamp.text = std::string(*StrView(*ts_e));
      m.timestamp.ms = SnowflakeTimeMs(*id);
      Note("unreadable timestamp \"" + m.timestamp.text + "\", time taken from the message id");
    }
  } else {
    m.timestamp.ms = SnowflakeTimeMs(*id);
  }
  if (edited_e) m.edited = TimeOf(*edited_e);
  if (pinned_e) m.pinned = BoolOf(*pinned_e);
  std::string_view content;
  if (content_e) {
    if (auto s = StrView(*content_e)) {
      content = *s;
      m.content = std::string(*s);
    }
  }
  bool ok;
  if (author_e) {
    Snowflake a = MapUser(*author_e, b, &ok);
    if (ok) m.author_id = a;
  }

  if (atts_e && atts_e->type() == element_type::ARRAY) {
    std::vector<Attachment> atts;
    for (auto ae : Arr(*atts_e)) {
      if (ae.type() != element_type::OBJECT) continue;
      Attachment a;
      std::optional<Snowflake> aid;
      for (auto [k, v] : Obj(ae)) {
        if (k == "id") aid = IdOf(v);
        else if (k == "url") a.url = OptStr(v);
        else if (k == "fileName") { if (auto s = StrView(v)) a.filename = std::string(*s); }
        else if (k == "fileSizeBytes") a.size = IntOf(v);
        else a.extra[std::string(k)] = ToJson(v);
      }
      if (!aid) continue;
      a.id = *aid;
      ++run_->counters.attachments;
      if (a.url) a.sha256 = Media(*a.url, b).sha256;
      if (!a.sha256) ++run_->counters.attachments_missing;
      atts.push_back(std::move(a));
    }
    m.attachments = std::move(atts);
  }

  if (embeds_e && embeds_e->type() == element_type::ARRAY) {
    std::vector<Json> embeds;
    for (auto ee : Arr(*embeds_e)) {
      Json e = ConvertEmbed(ee);
      for (const char* key : {"thumbnail", "image", "video"}) {
        auto it = e.find(key);
        if (it != e.end() && it->contains("dce_url")) {
          auto r = Media((*it)["dce_url"].get<std::string>(), b);
          if (r.sha256) (*it)["sha256"] = *r.sha256;
        }
      }
      for (const char* key : {"author", "footer"}) {
        auto it = e.find(key);
        if (it != e.end() && it->contains("dce_icon_url")) {
          auto r = Media((*it)["dce_icon_url"].get<std::string>(), b);
          if (r.sha256) (*it)["icon_sha256"] = *r.sha256;
        }
      }
      embeds.push_back(std::move(e));
    }
    m.embeds = std::move(embeds);
  }

  if (stickers_e && stickers_e->type() == element_type::ARRAY) {
    std::vector<Sticker> stickers;
    for (auto se : Arr(*stickers_e)) {
      if (se.type() != element_type::OBJECT) continue;
      Sticker s;
      std::optional<Snowflake> sid;
      for (auto [k, v] : Obj(se)) {
        if (k == "id") sid = IdOf(v);
        else if (k == "name") { if (auto x = StrView(v)) s.name = std::string(*x); }
        else if (k == "format") {
          if (auto x = StrView(v)) s.format = StickerFormatFromDce(*x);
          else if (auto n = IntOf(v)) s.format = static_cast<int>(*n);
        } else if (k == "sourceUrl") s.url = OptStr(v);
      }
      if (!sid) continue;
      s.id = *sid;
      if (s.format == 0) s.format = 1;
      if (s.url) s.sha256 = Media(*s.url, b).sha256;
      stickers.push_back(std::move(s));
    }
    m.stickers = std::move(stickers);
  }

  if (reactions_e && reactions_e->type() == element_type::ARRAY) {
    std::vector<Reaction> reactions;
    for (auto re : Arr(*reactions_e)) {
      if (re.type() != element_type::OBJECT) continue;
      Reaction r;
      for (auto [k, v] : Obj(re)) {
        if (k == "emoji" && v.type() == element_type::OBJECT) {
          for (auto [ek, ev] : Obj(v)) {
            if (ek == "id") r.emoji.id = IdOf(ev).value_or(0);  // "" for Unicode emoji
            else if (ek == "name") { if (auto s = StrView(ev)) r.emoji.name = std::string(*s); }
            else if (ek == "isAnimated") r.emoji.animated = BoolOf(ev).value_or(false);
            else if (ek == "imageUrl") r.emoji.image_url = OptStr(ev);
            else r.extra[std::string(ek)] = ToJson(ev);  // "code" (thumbsup) and newer fields
          }
        } else if (k == "count") {
          r.count = static_cast<int>(IntOf(v).value_or(0));
        } else if (k == "users" && v.type() == element_type::ARRAY) {
          for (auto ue : Arr(v)) {
            Snowflake uid = MapUser(ue, b, &ok);
            if (ok) r.user_ids.push_back(uid);
          }
        } else {
          r.extra[std::string(k)] = ToJson(v);
        }
      }
      if (r.emoji.name.empty() && r.emoji.id == 0) continue;
      if (r.emoji.image_url) r.emoji.sha256 = Media(*r.emoji.image_url, b).sha256;
      reactions.push_back(std::move(r));
    }
    m.reactions = std::move(reactions);
  }

  std::vector<std::string_view> mention_names;
  if (mentions_e && mentions_e->type() == element_type::ARRAY) {
    std::vector<Snowflake> ids;
    for (auto ue : Arr(*mentions_e)) {
      Snowflake uid = MapUser(ue, b, &ok);
      if (!ok) continue;
      ids.push_back(uid);
      for (const char* key : {"nickname", "name"}) {
        element f;
        if (!ue[key].get(f))
          if (auto s = StrView(f)) mention_names.push_back(*s);
      }
    }
    m.mention_user_ids = std::move(ids);
  }

  if (ref_e && ref_e->type() == element_type::OBJECT) {
    MessageReference r;
    for (auto [k, v] : Obj(*ref_e)) {
      if (k == "type") {
        auto s = StrView(v);
        if (s && *s == "Forward") r.type = 1;
        else if (auto n = IntOf(v)) r.type = static_cast<int>(*n);
      } else if (k == "messageId") r.message_id = IdOf(v);
      else if (k == "channelId") r.channel_id = IdOf(v);
      else if (k == "guildId") r.guild_id = IdOf(v);
    }
    if (r.guild_id && *r.guild_id == 0) r.guild_id.reset();
    // ThreadCreated points at the new thread: make sure the thread exists even if its file was not exported
    // (source time 0: the thread's own file fills in name and type).
    if (m.type == 18 && r.channel_id && ctx_.guild_id != 0) {
      Channel t;
      t.id = *r.channel_id;
      t.type = kPublicThread;
      t.guild_id = ctx_.guild_id;
      t.parent_id = ctx_.channel_id;
      b->channels.emplace_back(std::move(t), Source{ctx_.src.run_id, 0});
    }
    m.reference = r;
  }

  if (interaction_e && interaction_e->type() == element_type::OBJECT) {
    Json it = Json::object();
    for (auto [k, v] : Obj(*interaction_e)) {
      if (k == "user") {
        Snowflake uid = MapUser(v, b, &ok);
        if (ok) it["user_id"] = std::to_string(uid);
      } else {
        it[std::string(k)] = ToJson(v);
      }
    }
    m.extra["interaction"] = std::move(it);
  }

  std::vector<std::string_view> emoji_names;
  if (inline_e && inline_e->type() == element_type::ARRAY && Arr(*inline_e).size() > 0) {
    Json arr = Json::array();
    for (auto ee : Arr(*inline_e)) {
      Json j = ToJson(ee);
      if (ee.type() == element_type::OBJECT) {
        element n, u;
        if (!ee["name"].get(n))
          if (auto s = StrView(n)) emoji_names.push_back(*s);
        if (!ee["imageUrl"].get(u))
          if (auto s = StrView(u)) {
            auto r = Media(*s, b);
            if (r.sha256) j["sha256"] = *r.sha256;
          }
      }
      arr.push_back(std::move(j));
    }
    m.extra["inlineEmojis"] = std::move(arr);
  }

  auto ev = ContentEvidence(content, mention_names, emoji_names);
  if (!ev.empty()) {
    m.content_format = std::string(ev);
    if (file_mode_.empty()) file_mode_ = m.content_format;
    (ev == "raw" ? raw_msgs_ : display_msgs_)++;
  } else {
    m.content_format = file_mode_.empty() ? "unknown" : file_mode_;
  }
  b->messages.push_back(std::move(m));
  return true;
}

}  // namespace ferry::dce
