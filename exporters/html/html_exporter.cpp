#include "exporters/html/html_exporter.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "exporters/html/markdown.hpp"
#include "exporters/html/scope.hpp"
#include "exporters/html/search_index.hpp"
#include "store/snowflake.hpp"
#include "store/timestamp.hpp"

namespace ferry::html {
namespace fs = std::filesystem;
using exporters::ScopeGuild;
namespace {

// Caches are dropped when they reach this size: output does not depend on them, memory stays bounded.
constexpr size_t kCacheCap = 20000;
constexpr size_t kReplySnippetBytes = 120;

// Allows only resources from the archive folder ('self' for http(s) hosting, file: for opening from disk);
// inline style attributes carry role colours we generate ourselves. No inline script is ever written.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self' file:; style-src 'self' file: 'unsafe-inline'; img-src 'self' file:; "
    "media-src 'self' file:; font-src 'self' file:; form-action 'self' file:; base-uri 'none'";

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

bool IsHexSha(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool IsColorText(const std::string& s) {
  if (s.size() != 7 || s[0] != '#') return false;
  for (size_t i = 1; i < 7; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

std::string ColorHex(std::uint32_t c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%06x", c & 0xFFFFFFu);
  return buf;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ExtensionOf(const std::string& filename) {
  size_t dot = filename.rfind('.');
  if (dot == std::string::npos || dot + 1 >= filename.size() || filename.size() - dot > 9) return "";
  std::string ext = Lower(filename.substr(dot + 1));
  for (char c : ext)
    if (!std::isalnum(static_cast<unsigned char>(c))) return "";
  return ext;
}

// A file name that is safe in a path and in an href: [A-Za-z0-9._-], no leading dot, at most 80 bytes.
std::string SafeFileName(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  while (!out.empty() && out[0] == '.') out.erase(0, 1);
  if (out.size() > 80) {
    std::string ext = ExtensionOf(out);
    out = out.substr(0, 70) + (ext.empty() ? "" : "." + ext);
  }
  return out.empty() ? "file" : out;
}

std::string SniffExtension(const std::string& path, const std::string& fallback) {
  unsigned char b[16] = {0};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  size_t n = 0;
  if (f) {
    n = std::fread(b, 1, sizeof b, f);
    std::fclose(f);
  }
  if (n >= 8 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "png";
  if (n >= 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8') return "gif";
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "jpg";
  if (n >= 12 && std::memcmp(b, "RIFF", 4) == 0 && std::memcmp(b + 8, "WEBP", 4) == 0) return "webp";
  return fallback;
}

bool IsImageExt(const std::string& e) {
  return e == "png" || e == "jpg" || e == "jpeg" || e == "gif" || e == "webp" || e == "avif" || e == "bmp" ||
         e == "svg" || e == "apng";
}
bool IsVideoExt(const std::string& e) { return e == "mp4" || e == "webm" || e == "mov" || e == "m4v"; }
bool IsAudioExt(const std::string& e) {
  return e == "mp3" || e == "ogg" || e == "oga" || e == "wav" || e == "m4a" || e == "flac" || e == "opus";
}

std::string HumanSize(std::int64_t n) {
  char buf[32];
  if (n < 1024) std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(n));
  else if (n < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KB", n / 1024.0);
  else if (n < 1024LL * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f MB", n / (1024.0 * 1024));
  else std::snprintf(buf, sizeof buf, "%.2f GB", n / (1024.0 * 1024 * 1024));
  return buf;
}

// First `max` bytes of text on one line, cut on a UTF-8 boundary.
std::string OneLine(const std::string& s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max && (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      out += "…";
      break;
    }
    out.push_back(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
  }
  return out;
}

std::string TimeEl(std::int64_t ms, char style = 'f') {
  std::string s = "<time class=\"ts\" data-style=\"";
  s.push_back(style);
  s += "\" datetime=\"" + FormatIso(ms) + "\">" + FormatUtcText(ms) + "</time>";
  return s;
}

std::string PageName(Snowflake channel, std::int64_t page) {
  return "channel-" + std::to_string(channel) + "-p" + std::to_string(page) + ".html";
}

std::string SystemText(int type) {
  switch (type) {
    case 1: return "added someone to the group.";
    case 2: return "removed someone from the group.";
    case 3: return "started a call.";
    case 4: return "changed the channel name.";
    case 5: return "changed the channel icon.";
    case 6: return "pinned a message to this channel.";
    case 7: return "joined the server.";
    case 8: return "boosted the server.";
    case 9: case 10: case 11: return "boosted the server; it reached a new level.";
    case 12: return "followed a channel into this one.";
    case 18: return "started a thread.";
    default: return "";
  }
}

bool IsSystemType(int t) { return (t >= 1 && t <= 18) || t == 24 || t == 46; }

class Writer {
 public:
  Status Open(const std::string& path) {
    path_ = path;
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
    return Status::Ok();
  }
  void Put(const std::string& s) {
    buf_ += s;
    if (buf_.size() > (1 << 16)) Flush();
  }
  Status Close() {
    Flush();
    if (!f_) return Status::Ok();
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0 || failed_) return Status::IoError("cannot write " + path_ + ": " + std::strerror(errno));
    return Status::Ok();
  }
  ~Writer() {
    if (f_) std::fclose(f_);
  }

 private:
  void Flush() {
    if (f_ && !buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) failed_ = true;
    buf_.clear();
  }
  std::string path_, buf_;
  std::FILE* f_ = nullptr;
  bool failed_ = false;
};

struct ChanState {
  Channel ch;
  const ScopeGuild* guild = nullptr;
  std::vector<Snowflake> page_firsts;  // id of the first message of each page
  std::int64_t count = 0;
  int search_index = 0;
  std::string display;  // "#general", "Release planning", "@alice"
};

struct Author {
  std::string name, color, avatar, initial;
  bool bot = false;
};

class Exporter : public MentionResolver {
 public:
  Exporter(Store& store, const HtmlExportOptions& o, Progress* p, HtmlExportSummary* s)
      : store_(store), opt_(o), progress_(p), sum_(s), out_(o.out_dir) {}

  Status Run();

  // MentionResolver
  std::string UserName(Snowflake id) override { return AuthorOf(id).name; }
  std::string RoleName(Snowflake id, std::uint32_t* color) override {
    auto it = roles_.find(id);
    if (it == roles_.end()) return {};
    *color = it->second.color.value_or(0);
    return it->second.name.value_or("");
  }
  std::string ChannelName(Snowflake id, std::string* href) override {
    auto it = chans_.find(id);
    if (it != chans_.end()) {
      *href = PageName(id, 1);
      return it->second.ch.name.value_or(std::to_string(id));
    }
    auto n = channel_names_.find(id);
    if (n != channel_names_.end()) return n->second;
    if (channel_names_.size() > kCacheCap) channel_names_.clear();
    Channel c;
    std::string name = store_.GetChannel(id, &c).ok() ? c.name.value_or("") : "";
    channel_names_[id] = name;
    return name;
  }
  std::string EmojiSrc(Snowflake id, bool animated) override {
    auto it = emoji_src_.find(id);
    return it == emoji_src_.end() ? std::string() : it->second;
  }

 private:
  Status Prepass();
  Status WriteAssets();
  Status WriteChannel(ChanState& cs);
  Status WriteIndex();
  void PageHeader(Writer& w, const ChanState& cs, std::int64_t page, std::int64_t pages);
  void PageFooter(Writer& w, const ChanState& cs, std::int64_t page, std::int64_t pages);
  std::string Pager(const ChanState& cs, std::int64_t page, std::int64_t pages);
  void RenderMessage(const Message& m, const ChanState& cs, std::string* out);
  void RenderReference(const Message& m, std::string* out);
  void RenderAttachments(const Message& m, std::string* out);
  void RenderEmbeds(const Message& m, std::string* out);
  void RenderStickers(const Message& m, std::string* out);
  void RenderReactions(const Message& m, std::string* out);
  const Author& AuthorOf(Snowflake uid);
  std::string Href(Snowflake channel, Snowflake message);  // empty when not in the archive
  std::string CopyBlob(const std::string& sha, const std::string& dir, const std::string& name);
  std::string EmojiImage(const Emoji& e);
  std::string Top(const std::string& title, const std::string& crumbs);
  Status EnterGuild(const ScopeGuild& g);

  Store& store_;
  const HtmlExportOptions& opt_;
  Progress* progress_;
  HtmlExportSummary* sum_;
  std::string out_;
  exporters::ExportScope scope_;
  std::map<Snowflake, ChanState> chans_;
  std::map<Snowflake, std::vector<Snowflake>> threads_by_parent_;
  Snowflake guild_id_ = 0;
  std::map<Snowflake, Role> roles_;
  std::unordered_map<Snowflake, Author> authors_;
  std::unordered_map<Snowflake, std::string> channel_names_;
  std::unordered_map<Snowflake, std::string> emoji_src_;
  std::set<std::string> copied_;  // destination paths copied in this run (capped)
  SearchIndexWriter search_;
  std::int64_t total_ = 0, done_ = 0;
};

Status Exporter::Prepass() {
  int idx = 0;
  for (const auto& g : scope_.guilds) {
    for (const Channel& c : g.selected) {
      ChanState& cs = chans_[c.id];
      cs.ch = c;
      cs.guild = &g;
      cs.search_index = idx++;
      if (c.guild_id.value_or(0) == 0) {
        std::string name = c.name.value_or("");
        if (name.empty()) {
          for (Snowflake r : c.recipient_ids) {
            User u;
            if (!store_.GetUser(r, &u).ok()) continue;
            if (!name.empty()) name += ", ";
            name += u.global_name.value_or(u.username.value_or(std::to_string(r)));
          }
        }
        cs.display = "@" + (name.empty() ? std::to_string(c.id) : name);
      } else if (IsThreadType(c.type)) {
        cs.display = c.name.value_or(std::to_string(c.id));
      } else {
        cs.display = "#" + c.name.value_or(std::to_string(c.id));
      }
      if (IsThreadType(c.type) && c.parent_id) threads_by_parent_[*c.parent_id].push_back(c.id);
      // Page boundaries: one id per page lets any message's page be found without a per-message map.
      std::int64_t n = 0;
      const std::int64_t ps = opt_.page_size;
      FERRY_RETURN_IF_ERROR(store_.ForEachMessage(c.id, [&](const Message& m) {
        if (n % ps == 0) cs.page_firsts.push_back(m.id);
        ++n;
        return true;
      }));
      cs.count = n;
      total_ += n;
      if (opt_.interrupted && opt_.interrupted()) return Status::Interrupted("export interrupted");
    }
  }
  return Status::Ok();
}

std::string Exporter::Href(Snowflake channel, Snowflake message) {
  auto it = chans_.find(channel);
  if (it == chans_.end() || it->second.page_firsts.empty()) return "";
  const auto& f = it->second.page_firsts;
  auto pos = std::upper_bound(f.begin(), f.end(), message);
  if (pos == f.begin()) return "";
  std::int64_t page = pos - f.begin();
  return PageName(channel, page) + "#m" + std::to_string(message);
}

std::string Exporter::CopyBlob(const std::string& sha, const std::string& dir, const std::string& name) {
  if (!IsHexSha(sha)) return "";
  std::string src = store_.BlobPath(sha);
  if (src.empty()) return "";
  std::string rel = dir + "/" + name;
  if (copied_.count(rel)) return rel;
  std::string dst = out_ + "/" + rel;
  std::error_code ec;
  auto size = fs::file_size(src, ec);
  if (ec) return "";
  auto dsize = fs::file_size(dst, ec);
  if (ec || dsize != size) {
    fs::create_directories(fs::path(dst).parent_path(), ec);
    fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      progress_->Note("could not copy blob " + sha + " to " + dst + ": " + ec.message());
      return "";
    }
    sum_->bytes_copied += static_cast<std::int64_t>(size);
  }
  if (copied_.size() > kCacheCap) copied_.clear();
  copied_.insert(rel);
  return rel;
}

std::string Exporter::EmojiImage(const Emoji& e) {
  std::string src;
  if (e.id && e.sha256) {
    std::string blob = store_.BlobPath(*e.sha256);
    if (!blob.empty()) {
      src = CopyBlob(*e.sha256, "emoji", std::to_string(e.id) + "." + SniffExtension(blob, e.animated ? "gif" : "png"));
      if (!src.empty()) {
        if (emoji_src_.size() > kCacheCap) emoji_src_.clear();
        emoji_src_[e.id] = src;
      }
    }
  }
  if (!src.empty()) return "<img class=\"emoji\" src=\"" + Escape(src) + "\" alt=\":" + Escape(e.name) + ":\" title=\":" +
                            Escape(e.name) + ":\">";
  if (e.id) return "<span class=\"emoji-text\">:" + Escape(e.name) + ":</span>";
  return "<span class=\"emoji-uni\">" + Escape(e.name) + "</span>";
}

const Author& Exporter::AuthorOf(Snowflake uid) {
  auto it = authors_.find(uid);
  if (it != authors_.end()) return it->second;
  if (authors_.size() > kCacheCap) authors_.clear();
  Author a;
  User u;
  bool have_user = store_.GetUser(uid, &u).ok();
  Member mem;
  bool have_member = guild_id_ && store_.GetMember(guild_id_, uid, &mem).ok();
  if (have_member && mem.nick && !mem.nick->empty()) a.name = *mem.nick;
  else if (have_user && u.global_name && !u.global_name->empty()) a.name = *u.global_name;
  else if (have_user && u.username && !u.username->empty()) a.name = *u.username;
  a.bot = have_user && u.bot.value_or(false);
  if (have_member) {
    if (mem.color && IsColorText(*mem.color)) a.color = Lower(*mem.color);
    if (a.color.empty() && mem.role_ids) {
      int best = -1;
      for (Snowflake r : *mem.role_ids) {
        auto ri = roles_.find(r);
        if (ri == roles_.end() || !ri->second.color.value_or(0)) continue;
        if (ri->second.position.value_or(0) > best) {
          best = ri->second.position.value_or(0);
          a.color = ColorHex(*ri->second.color);
        }
      }
    }
  }
  if (have_user && u.avatar_sha256) {
    std::string blob = store_.BlobPath(*u.avatar_sha256);
    if (!blob.empty())
      a.avatar = CopyBlob(*u.avatar_sha256, "avatars", *u.avatar_sha256 + "." + SniffExtension(blob, "png"));
  }
  std::string shown = a.name.empty() ? "?" : a.name;
  size_t len = 1;
  unsigned char c0 = static_cast<unsigned char>(shown[0]);
  if (c0 >= 0xF0) len = 4;
  else if (c0 >= 0xE0) len = 3;
  else if (c0 >= 0xC0) len = 2;
  a.initial = shown.substr(0, std::min(len, shown.size()));
  if (a.initial.size() == 1) a.initial[0] = static_cast<char>(std::toupper(c0));
  return authors_.emplace(uid, std::move(a)).first->second;
}

std::string Exporter::Top(const std::string& title, const std::string& crumbs) {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"";
  s += kCsp;
  s += "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<meta name=\"color-scheme\" content=\"light dark\">\n<title>";
  s += Escape(title);
  s += "</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n<script src=\"archive.js\" defer></script>\n</head>\n<body>\n"
       "<a class=\"skip\" href=\"#main\">Skip to messages</a>\n<header class=\"top\">\n<nav class=\"crumbs\" "
       "aria-label=\"Breadcrumb\">";
  s += crumbs;
  s += "</nav>\n<form class=\"search\" action=\"search.html\" method=\"get\" role=\"search\">"
       "<input type=\"search\" name=\"q\" placeholder=\"Search the archive\" aria-label=\"Search the archive\">"
       "<button type=\"submit\">Search</button></form>\n</header>\n";
  return s;
}

std::string Exporter::Pager(const ChanState& cs, std::int64_t page, std::int64_t pages) {
  if (pages <= 1) return "";
  std::string s = "<nav class=\"pager\" aria-label=\"Pages\">";
  auto link = [&](std::int64_t p, const std::string& label, const std::string& aria) {
    if (p < 1 || p > pages || p == page)
      s += "<span class=\"off\" aria-hidden=\"true\">" + label + "</span>";
    else
      s += "<a href=\"" + PageName(cs.ch.id, p) + "\" aria-label=\"" + aria + "\">" + label + "</a>";
  };
  link(1, "« First", "First page");
  link(page - 1, "‹ Previous", "Previous page");
  s += "<span class=\"where\">Page " + std::to_string(page) + " of " + std::to_string(pages) + "</span>";
  link(page + 1, "Next ›", "Next page");
  link(pages, "Last »", "Last page");
  s += "</nav>\n";
  return s;
}

void Exporter::PageHeader(Writer& w, const ChanState& cs, std::int64_t page, std::int64_t pages) {
  const std::string gname = cs.guild->guild.name.value_or(std::to_string(cs.guild->guild.id));
  std::string crumbs = "<a href=\"index.html\">Archive</a> <span aria-hidden=\"true\">›</span> " +
                       Escape(gname) + " <span aria-hidden=\"true\">›</span> ";
  if (IsThreadType(cs.ch.type) && cs.ch.parent_id) {
    auto p = chans_.find(*cs.ch.parent_id);
    if (p != chans_.end())
      crumbs += "<a href=\"" + PageName(p->first, 1) + "\">" + Escape(p->second.display) +
                "</a> <span aria-hidden=\"true\">›</span> ";
  }
  crumbs += "<span aria-current=\"page\">" + Escape(cs.display) + "</span>";
  std::string title = cs.display + " — " + gname + (pages > 1 ? " (page " + std::to_string(page) + ")" : "");
  std::string s = Top(title, crumbs);
  s += "<main id=\"main\" class=\"channel\" data-channel=\"" + std::to_string(cs.ch.id) + "\">\n<h1>" + Escape(cs.display) +
       "</h1>\n";
  if (cs.ch.topic && !cs.ch.topic->empty())
    s += "<p class=\"topic\">" + RenderMarkdown(*cs.ch.topic, this) + "</p>\n";
  s += "<p class=\"count\">" + std::to_string(cs.count) + (cs.count == 1 ? " message" : " messages") + "</p>\n";
  auto th = threads_by_parent_.find(cs.ch.id);
  if (page == 1 && th != threads_by_parent_.end()) {
    s += "<details class=\"threads\"><summary>Threads (" + std::to_string(th->second.size()) + ")</summary><ul>";
    for (Snowflake t : th->second) {
      const ChanState& tc = chans_.at(t);
      s += "<li><a href=\"" + PageName(t, 1) + "\">" + Escape(tc.display) + "</a> <span class=\"n\">" +
           std::to_string(tc.count) + "</span></li>";
    }
    s += "</ul></details>\n";
  }
  s += Pager(cs, page, pages);
  s += "<ol class=\"log\">\n";
  w.Put(s);
}

void Exporter::PageFooter(Writer& w, const ChanState& cs, std::int64_t page, std::int64_t pages) {
  std::string s = "</ol>\n";
  if (cs.count == 0) s += "<p class=\"empty\">No messages in this archive.</p>\n";
  s += Pager(cs, page, pages);
  s += "</main>\n</body>\n</html>\n";
  w.Put(s);
}

void Exporter::RenderReference(const Message& m, std::string* out) {
  if (!m.reference) return;
  const MessageReference& r = *m.reference;
  Snowflake tc = r.channel_id.value_or(m.channel_id);
  if (m.type == 18) return;  // thread created: linked below the message text (RenderMessage)
  if (!r.message_id) return;
  Message target;
  bool found = store_.GetMessage(tc, *r.message_id, &target).ok() && !target.deleted;
  std::string href = found ? Href(tc, *r.message_id) : "";
  std::string label = r.type == 1 ? "Forwarded from" : (m.type == 6 ? "Pinned" : "Replying to");
  *out += "<div class=\"reply\">";
  if (!found) {
    *out += "<span class=\"gone\">" + label + " a message that is not in this archive</span></div>";
    return;
  }
  std::string inner = "<span class=\"label\">" + label + "</span> ";
  if (target.author_id) inner += "<span class=\"name\">" + Escape(AuthorOf(*target.author_id).name) + "</span> ";
  std::string text = target.content.value_or("");
  if (text.empty() && target.attachments && !target.attachments->empty()) text = "[attachment]";
  inner += "<span class=\"snip\">" + Escape(OneLine(text, kReplySnippetBytes)) + "</span>";
  if (href.empty()) *out += inner;
  else *out += "<a href=\"" + Escape(href) + "\" aria-label=\"Go to the original message\">" + inner + "</a>";
  *out += "</div>";
}

void Exporter::RenderAttachments(const Message& m, std::string* out) {
  if (!m.attachments || m.attachments->empty()) return;
  *out += "<div class=\"attachments\">";
  for (const Attachment& a : *m.attachments) {
    std::string ext = ExtensionOf(a.filename);
    std::string ct = a.content_type.value_or("");
    std::string rel;
    if (a.sha256 && IsHexSha(*a.sha256)) {
      std::string name = SafeFileName(a.filename);
      rel = CopyBlob(*a.sha256, "files/" + a.sha256->substr(0, 2) + "/" + a.sha256->substr(0, 16), name);
    }
    std::string size = a.size ? HumanSize(*a.size) : "unknown size";
    if (rel.empty()) {
      ++sum_->files_missing;
      *out += "<div class=\"file missing\"><span class=\"icon\" aria-hidden=\"true\">📎</span> " + Escape(a.filename) +
              " <span class=\"size\">(" + size + ")</span> <span class=\"gap\">file not in the archive</span></div>";
      continue;
    }
    ++sum_->files_copied;
    std::string href = Escape(rel);
    if (IsImageExt(ext) || ct.rfind("image/", 0) == 0) {
      *out += "<a class=\"image\" href=\"" + href + "\"><img src=\"" + href + "\" alt=\"" + Escape(a.filename) +
              "\" loading=\"lazy\"";
      if (a.width && a.height && *a.width > 0 && *a.height > 0)
        *out += " width=\"" + std::to_string(*a.width) + "\" height=\"" + std::to_string(*a.height) + "\"";
      *out += "></a>";
    } else if (IsVideoExt(ext) || ct.rfind("video/", 0) == 0) {
      *out += "<video controls preload=\"none\" src=\"" + href + "\" aria-label=\"" + Escape(a.filename) + "\"></video>";
    } else if (IsAudioExt(ext) || ct.rfind("audio/", 0) == 0) {
      *out += "<audio controls preload=\"none\" src=\"" + href + "\" aria-label=\"" + Escape(a.filename) + "\"></audio>";
    }
    *out += "<div class=\"file\"><span class=\"icon\" aria-hidden=\"true\">📎</span> <a href=\"" + href + "\" download=\"" +
            Escape(a.filename) + "\">" + Escape(a.filename) + "</a> <span class=\"size\">(" + size + ")</span></div>";
  }
  *out += "</div>";
}

void Exporter::RenderEmbeds(const Message& m, std::string* out) {
  if (!m.embeds) return;
  for (const Json& e : *m.embeds) {
    if (!e.is_object()) continue;
    auto str = [](const Json& o, const char* k) -> std::string {
      auto it = o.find(k);
      return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::string style;
    if (auto c = e.find("color"); c != e.end() && c->is_number_integer())
      style = " style=\"border-left-color:" + ColorHex(static_cast<std::uint32_t>(c->get<std::int64_t>())) + "\"";
    *out += "<div class=\"embed\"" + style + ">";
    if (auto a = e.find("author"); a != e.end() && a->is_object()) {
      std::string name = str(*a, "name"), url = str(*a, "url");
      if (!name.empty()) {
        *out += "<div class=\"e-author\">";
        if (IsSafeHttpUrl(url)) *out += "<a href=\"" + Escape(url) + "\" rel=\"noopener noreferrer nofollow\">" + Escape(name) + "</a>";
        else *out += Escape(name);
        *out += "</div>";
      }
    }
    std::string title = str(e, "title"), url = str(e, "url");
    if (!title.empty()) {
      *out += "<div class=\"e-title\">";
      if (IsSafeHttpUrl(url)) *out += "<a href=\"" + Escape(url) + "\" rel=\"noopener noreferrer nofollow\">" + RenderMarkdown(title, this) + "</a>";
      else *out += RenderMarkdown(title, this);
      *out += "</div>";
    }
    std::string desc = str(e, "description");
    if (!desc.empty()) *out += "<div class=\"e-desc\">" + RenderMarkdown(desc, this) + "</div>";
    if (auto f = e.find("fields"); f != e.end() && f->is_array() && !f->empty()) {
      *out += "<dl class=\"e-fields\">";
      for (const Json& fld : *f) {
        if (!fld.is_object()) continue;
        bool inl = BoolField(fld, "inline");
        *out += std::string("<div class=\"e-field") + (inl ? " inline" : "") + "\"><dt>" +
                RenderMarkdown(str(fld, "name"), this) + "</dt><dd>" + RenderMarkdown(str(fld, "value"), this) +
                "</dd></div>";
      }
      *out += "</dl>";
    }
    // Embed media lives on third-party hosts: link it, never load it.
    for (const char* k : {"image", "thumbnail", "video"}) {
      auto it = e.find(k);
      if (it == e.end() || !it->is_object()) continue;
      std::string sha = str(*it, "sha256");
      std::string local;
      if (IsHexSha(sha)) {
        std::string blob = store_.BlobPath(sha);
        if (!blob.empty()) local = CopyBlob(sha, "files/" + sha.substr(0, 2) + "/" + sha.substr(0, 16), "embed." + SniffExtension(blob, "bin"));
      }
      if (!local.empty() && std::string(k) != "video") {
        *out += "<img class=\"e-img\" src=\"" + Escape(local) + "\" alt=\"\" loading=\"lazy\">";
        continue;
      }
      std::string u = str(*it, "url");
      if (IsSafeHttpUrl(u))
        *out += "<div class=\"e-media\">" + std::string(k) + ": <a href=\"" + Escape(u) +
                "\" rel=\"noopener noreferrer nofollow\">" + Escape(OneLine(u, 80)) + "</a></div>";
    }
    std::string footer;
    if (auto f = e.find("footer"); f != e.end() && f->is_object()) footer = Escape(str(*f, "text"));
    std::string ts = str(e, "timestamp");
    if (auto ms = ParseTimestampMs(ts)) footer += std::string(footer.empty() ? "" : " · ") + TimeEl(*ms);
    if (!footer.empty()) *out += "<div class=\"e-footer\">" + footer + "</div>";
    *out += "</div>";
  }
}

void Exporter::RenderStickers(const Message& m, std::string* out) {
  if (!m.stickers) return;
  for (const Sticker& st : *m.stickers) {
    std::string rel;
    if (st.sha256 && st.format != 3) {
      std::string blob = store_.BlobPath(*st.sha256);
      if (!blob.empty())
        rel = CopyBlob(*st.sha256, "stickers", std::to_string(st.id) + "." + SniffExtension(blob, st.format == 4 ? "gif" : "png"));
    }
    if (!rel.empty())
      *out += "<img class=\"sticker\" src=\"" + Escape(rel) + "\" alt=\"Sticker: " + Escape(st.name) + "\" title=\"" +
              Escape(st.name) + "\" loading=\"lazy\">";
    else
      *out += "<div class=\"sticker-missing\">Sticker: " + Escape(st.name) + "</div>";
  }
}

void Exporter::RenderReactions(const Message& m, std::string* out) {
  if (!m.reactions || m.reactions->empty()) return;
  *out += "<ul class=\"reactions\" aria-label=\"Reactions\">";
  for (const Reaction& r : *m.reactions) {
    std::string who;
    for (size_t i = 0; i < r.user_ids.size() && i < 20; ++i) {
      if (i) who += ", ";
      who += AuthorOf(r.user_ids[i]).name;
    }
    *out += "<li";
    if (!who.empty()) *out += " title=\"" + Escape(who) + "\"";
    *out += ">" + EmojiImage(r.emoji) + " <span class=\"n\">" + std::to_string(r.count) + "</span></li>";
  }
  *out += "</ul>";
}

void Exporter::RenderMessage(const Message& m, const ChanState& cs, std::string* out) {
  const Author& a = m.author_id ? AuthorOf(*m.author_id) : AuthorOf(0);
  std::string name = a.name.empty() ? (m.author_id ? "Unknown user " + std::to_string(*m.author_id) : "Unknown user") : a.name;
  bool system = IsSystemType(m.type);
  *out += "<li class=\"msg";
  if (system) *out += " system";
  if (m.pinned.value_or(false)) *out += " pinned";
  *out += "\" id=\"m" + std::to_string(m.id) + "\">";
  if (!a.avatar.empty())
    *out += "<img class=\"avatar\" src=\"" + Escape(a.avatar) + "\" alt=\"\" loading=\"lazy\" width=\"40\" height=\"40\">";
  else
    *out += "<span class=\"avatar ph\" aria-hidden=\"true\">" + Escape(a.initial) + "</span>";
  *out += "<div class=\"body\">";
  RenderReference(m, out);
  if (auto it = m.extra.find("interaction"); it != m.extra.end() && it->is_object()) {
    // A slash-command reply: who ran which command (ids are strings in DCE's shape).
    std::string who;
    if (auto u = it->find("user_id"); u != it->end() && u->is_string())
      if (auto id = ParseSnowflake(u->get<std::string>())) who = AuthorOf(*id).name;
    std::string cmd = StrField(*it, "name");
    if (!cmd.empty())
      *out += "<div class=\"reply\"><span class=\"label\">" + Escape(who.empty() ? std::string("Someone") : who) +
              " used</span> <span class=\"name\">/" + Escape(cmd) + "</span></div>";
  }
  if (auto it = m.extra.find("inlineEmojis"); it != m.extra.end() && it->is_array()) {
    // Custom emoji used in the content whose images the source had: make them available to the renderer.
    for (const Json& e : *it) {
      if (!e.is_object() || !e.contains("sha256") || !e["sha256"].is_string()) continue;
      Emoji em;
      auto id = ParseSnowflake(StrField(e, "id"));
      if (!id || !*id) continue;
      em.id = *id;
      em.name = StrField(e, "name");
      em.animated = BoolField(e, "isAnimated");
      em.sha256 = e["sha256"].get<std::string>();
      EmojiImage(em);
    }
  }
  *out += "<div class=\"meta\"><span class=\"author\"";
  if (!a.color.empty()) *out += " style=\"color:" + a.color + "\"";
  *out += " title=\"" + (m.author_id ? std::to_string(*m.author_id) : std::string("unknown")) + "\">" + Escape(name) + "</span>";
  if (a.bot) *out += " <span class=\"tag\">BOT</span>";
  *out += " <a class=\"stamp\" href=\"#m" + std::to_string(m.id) + "\">" + TimeEl(m.timestamp.ms) + "</a>";
  if (m.edited) *out += " <span class=\"edited\">(edited " + TimeEl(m.edited->ms) + ")</span>";
  if (m.pinned.value_or(false)) *out += " <span class=\"pin\"><span aria-hidden=\"true\">📌</span> Pinned</span>";
  *out += "</div>";
  std::string content = m.content.value_or("");
  if (system && content.empty()) content = SystemText(m.type);
  if (!content.empty()) {
    *out += system ? "<div class=\"content sys\">" : "<div class=\"content\">";
    *out += RenderMarkdown(content, this);
    *out += "</div>";
  }
  if (auto fw = m.extra.find("forwardedMessage"); fw != m.extra.end() && fw->is_object()) {
    std::string text = StrField(*fw, "content");
    *out += "<blockquote class=\"forwarded\"><div class=\"label\">Forwarded</div>" + RenderMarkdown(text, this) +
            "</blockquote>";
  }
  if (m.type == 18 && m.reference && m.reference->channel_id) {  // the reference names the new thread
    auto it = chans_.find(*m.reference->channel_id);
    if (it != chans_.end())
      *out += "<div class=\"thread-link\">Thread: <a href=\"" + PageName(it->first, 1) + "\">" +
              Escape(it->second.display) + "</a> <span class=\"n\">" + std::to_string(it->second.count) +
              " messages</span></div>";
  }
  auto thread = chans_.find(m.id);  // a thread started from this message has the message's id
  if (thread != chans_.end() && IsThreadType(thread->second.ch.type) && m.type != 18)
    *out += "<div class=\"thread-link\">Thread: <a href=\"" + PageName(m.id, 1) + "\">" + Escape(thread->second.display) +
            "</a> <span class=\"n\">" + std::to_string(thread->second.count) + " messages</span></div>";
  RenderAttachments(m, out);
  RenderEmbeds(m, out);
  RenderStickers(m, out);
  RenderReactions(m, out);
  *out += "</div></li>\n";
}

Status Exporter::EnterGuild(const ScopeGuild& g) {
  guild_id_ = g.guild.id;
  roles_.clear();
  authors_.clear();
  if (guild_id_) {
    std::vector<Role> roles;
    FERRY_RETURN_IF_ERROR(store_.ListRoles(guild_id_, &roles));
    for (Role& r : roles) roles_[r.id] = std::move(r);
  }
  for (const Channel& c : g.channels) channel_names_[c.id] = c.name.value_or("");
  return Status::Ok();
}

Status Exporter::WriteChannel(ChanState& cs) {
  const std::int64_t ps = opt_.page_size;
  const std::int64_t pages = std::max<std::int64_t>(1, static_cast<std::int64_t>(cs.page_firsts.size()));
  Writer w;
  std::int64_t n = 0, page = 0;
  std::string html;
  Status inner;
  const std::string label = cs.display;
  Status st = store_.ForEachMessage(cs.ch.id, [&](const Message& m) {
    if (n % ps == 0) {
      if (page > 0) {
        PageFooter(w, cs, page, pages);
        inner = w.Close();
        if (!inner.ok()) return false;
        ++sum_->pages;
      }
      ++page;
      inner = w.Open(out_ + "/" + PageName(cs.ch.id, page));
      if (!inner.ok()) return false;
      PageHeader(w, cs, page, pages);
    }
    ++n;
    html.clear();
    RenderMessage(m, cs, &html);
    w.Put(html);
    if (opt_.search) {
      std::string text = m.content.value_or("");
      if (m.attachments)
        for (const Attachment& a : *m.attachments) text += "\n" + a.filename;
      if (m.embeds)
        for (const Json& e : *m.embeds)
          if (e.is_object()) text += "\n" + StrField(e, "title") + "\n" + StrField(e, "description");
      if (!text.empty()) {
        const Author& a = m.author_id ? AuthorOf(*m.author_id) : AuthorOf(0);
        inner = search_.AddDoc(cs.search_index, m.id, static_cast<int>(page), a.name, m.timestamp.ms, text);
        if (!inner.ok()) return false;
      }
    }
    ++done_;
    ++sum_->messages;
    if ((done_ & 255) == 0) {
      progress_->Update("html " + label, done_, total_, done_);
      if (opt_.interrupted && opt_.interrupted()) {
        inner = Status::Interrupted("export interrupted");
        return false;
      }
    }
    return true;
  });
  FERRY_RETURN_IF_ERROR(st);
  FERRY_RETURN_IF_ERROR(inner);
  if (page == 0) {  // an empty channel still gets its page
    page = 1;
    FERRY_RETURN_IF_ERROR(w.Open(out_ + "/" + PageName(cs.ch.id, 1)));
    PageHeader(w, cs, 1, 1);
  }
  PageFooter(w, cs, page, pages);
  FERRY_RETURN_IF_ERROR(w.Close());
  ++sum_->pages;
  ++sum_->channels;
  progress_->Update("html " + label, done_, total_, done_);
  return Status::Ok();
}

Status Exporter::WriteIndex() {
  std::string s = Top("Archive", "<span aria-current=\"page\">Archive</span>");
  s += "<main id=\"main\" class=\"index\">\n<h1>Archive</h1>\n";
  for (const auto& g : scope_.guilds) {
    std::string gname = g.guild.name.value_or(std::to_string(g.guild.id));
    s += "<section class=\"guild\" id=\"g" + std::to_string(g.guild.id) + "\">\n<h2>";
    if (g.guild.icon_sha256) {
      std::string blob = store_.BlobPath(*g.guild.icon_sha256);
      std::string rel = blob.empty() ? "" : CopyBlob(*g.guild.icon_sha256, "icons", *g.guild.icon_sha256 + "." + SniffExtension(blob, "png"));
      if (!rel.empty()) s += "<img class=\"gicon\" src=\"" + Escape(rel) + "\" alt=\"\" width=\"32\" height=\"32\">";
    }
    s += Escape(gname) + "</h2>\n";
    // Group top-level channels under their category, in the store's order; threads under their parent.
    std::map<Snowflake, std::string> categories;
    for (const Channel& c : g.channels)
      if (c.type == kGuildCategory) categories[c.id] = c.name.value_or(std::to_string(c.id));
    std::vector<Snowflake> cat_order = {0};
    for (const Channel& c : g.channels)
      if (c.type == kGuildCategory) cat_order.push_back(c.id);
    for (Snowflake cat : cat_order) {
      std::string items;
      for (const Channel& c : g.selected) {
        if (IsThreadType(c.type) && c.parent_id && chans_.count(*c.parent_id)) continue;
        Snowflake parent = c.parent_id.value_or(0);
        if (!categories.count(parent)) parent = 0;
        if (IsThreadType(c.type)) parent = 0;
        if (parent != cat) continue;
        const ChanState& cs = chans_.at(c.id);
        items += "<li><a href=\"" + PageName(c.id, 1) + "\">" + Escape(cs.display) + "</a> <span class=\"n\">" +
                 std::to_string(cs.count) + "</span>";
        auto th = threads_by_parent_.find(c.id);
        if (th != threads_by_parent_.end()) {
          items += "<ul class=\"threadlist\">";
          for (Snowflake t : th->second) {
            const ChanState& tc = chans_.at(t);
            items += "<li><a href=\"" + PageName(t, 1) + "\">" + Escape(tc.display) + "</a> <span class=\"n\">" +
                     std::to_string(tc.count) + "</span></li>";
          }
          items += "</ul>";
        }
        items += "</li>\n";
      }
      if (items.empty()) continue;
      if (cat) s += "<h3>" + Escape(categories[cat]) + "</h3>\n";
      s += "<ul class=\"channels\">\n" + items + "</ul>\n";
    }
    s += "</section>\n";
  }
  if (scope_.guilds.empty()) s += "<p class=\"empty\">The store holds no channels to show.</p>\n";
  s += "</main>\n</body>\n</html>\n";
  Writer w;
  FERRY_RETURN_IF_ERROR(w.Open(out_ + "/index.html"));
  w.Put(s);
  return w.Close();
}

Status Exporter::WriteAssets() {
  auto write = [&](const std::string& name, const std::string& data) {
    Writer w;
    FERRY_RETURN_IF_ERROR(w.Open(out_ + "/" + name));
    w.Put(data);
    return w.Close();
  };
  FERRY_RETURN_IF_ERROR(write("style.css", ArchiveCss()));
  FERRY_RETURN_IF_ERROR(write("archive.js", ArchiveJs()));
  std::string s = Top("Search", "<a href=\"index.html\">Archive</a> <span aria-hidden=\"true\">›</span> <span aria-current=\"page\">Search</span>");
  s += "<main id=\"main\" class=\"searchpage\">\n<h1>Search</h1>\n"
       "<p id=\"search-status\" role=\"status\" aria-live=\"polite\" data-index=\"" + std::string(opt_.search ? "1" : "0") + "\">";
  s += opt_.search ? "Type words to find messages in every channel of this archive. Searching needs JavaScript."
                   : "This archive was exported without a search index.";
  s += "</p>\n<ol id=\"search-results\" class=\"results\"></ol>\n"
       "<button id=\"search-more\" type=\"button\" hidden>Show more results</button>\n</main>\n";
  s += "</body>\n</html>\n";
  return write("search.html", s);
}

Status Exporter::Run() {
  if (opt_.page_size < 1) return Status::InvalidInput("--page-size must be at least 1");
  FERRY_RETURN_IF_ERROR(exporters::PrepareOutputDir(out_));
  FERRY_RETURN_IF_ERROR(exporters::ResolveScope(store_, opt_.guild_ids, opt_.channel_ids, &scope_));
  FERRY_RETURN_IF_ERROR(Prepass());
  FERRY_RETURN_IF_ERROR(WriteAssets());
  if (opt_.search) FERRY_RETURN_IF_ERROR(search_.Open(out_ + "/search", total_));
  for (const auto& g : scope_.guilds) {
    FERRY_RETURN_IF_ERROR(EnterGuild(g));
    ++sum_->guilds;
    for (const Channel& c : g.selected) FERRY_RETURN_IF_ERROR(WriteChannel(chans_.at(c.id)));
  }
  guild_id_ = 0;
  FERRY_RETURN_IF_ERROR(WriteIndex());
  if (opt_.search) {
    std::vector<SearchChannel> table(chans_.size());
    for (const auto& [id, cs] : chans_)
      table[cs.search_index] = {cs.display, cs.guild->guild.name.value_or(""), "channel-" + std::to_string(id) + "-p"};
    FERRY_RETURN_IF_ERROR(search_.Finish(table));
    sum_->search_docs = search_.docs();
  }
  progress_->Finish();
  return Status::Ok();
}

}  // namespace

Status ExportHtml(Store& store, const HtmlExportOptions& options, Progress* progress, HtmlExportSummary* summary) {
  NullProgress null_progress;
  HtmlExportSummary local;
  Exporter e(store, options, progress ? progress : &null_progress, summary ? summary : &local);
  return e.Run();
}

}  // namespace ferry::html
