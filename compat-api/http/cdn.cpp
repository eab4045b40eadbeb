// The CDN: blob bytes at the paths Discord's CDN uses, so attachment `url`s and avatar/icon/emoji URLs built by
// the libraries resolve. Public like Discord's CDN (no token): ids are unguessable only in the sense that
// Discord's are, so a deployment that must keep history private serves on loopback or behind its own auth.
#include <sys/stat.h>

#include <cctype>
#include <fstream>

#include "compat-api/http/api.hpp"
#include "compat-api/http/errors.hpp"
#include "store/snowflake.hpp"

namespace ferry::compat::http {
namespace {


std::string StemOf(std::string_view name) { return std::string(name.substr(0, name.find('.'))); }

Response NotFound() { return Error(404, 0, "404: Not Found"); }

Response Redirect(const std::string& url) {
  Response r;
  r.status = 302;
  r.content_type.clear();
  r.AddHeader("Location", url);
  return r;
}

bool IsHttpUrl(const std::optional<std::string>& u) {
  return u && (u->rfind("http://", 0) == 0 || u->rfind("https://", 0) == 0);
}

Response ServeBlob(ServerContext& ctx, const std::optional<std::string>& sha256, const std::string& filename,
                   const std::optional<std::string>& content_type, const std::optional<std::string>& source_url) {
  std::string path = sha256 ? ctx.store.BlobPath(*sha256) : std::string();
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    if (IsHttpUrl(source_url)) return Redirect(*source_url);
    return NotFound();
  }
  Response r;
  r.status = 200;
  r.file_path = path;
  std::string head(512, '\0');
  {
    std::ifstream in(path, std::ios::binary);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
  }
  r.content_type = content_type && !content_type->empty() ? *content_type : SniffContentType(head, filename);
  r.AddHeader("Cache-Control", "public, max-age=31536000, immutable");
  // Never let a browser render uploaded HTML/SVG as a page of this origin.
  r.AddHeader("X-Content-Type-Options", "nosniff");
  r.AddHeader("Content-Security-Policy", "default-src 'none'; sandbox");
  return r;
}

}  // namespace

std::string SniffContentType(std::string_view head, std::string_view filename) {
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts("\x89PNG\r\n\x1a\n")) return "image/png";
  if (starts("\xff\xd8\xff")) return "image/jpeg";
  if (starts("GIF87a") || starts("GIF89a")) return "image/gif";
  if (head.size() >= 12 && starts("RIFF") && head.substr(8, 4) == "WEBP") return "image/webp";
  if (starts("%PDF-")) return "application/pdf";
  if (head.size() >= 8 && head.substr(4, 4) == "ftyp") return "video/mp4";
  if (starts("\x1a\x45\xdf\xa3")) return "video/webm";
  if (starts("OggS")) return "audio/ogg";
  if (starts("ID3")) return "audio/mpeg";
  std::string ext;
  auto dot = filename.rfind('.');
  if (dot != std::string_view::npos)
    for (char c : filename.substr(dot + 1)) ext.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static const std::pair<const char*, const char*> by_ext[] = {
      {"txt", "text/plain; charset=utf-8"}, {"log", "text/plain; charset=utf-8"}, {"md", "text/plain; charset=utf-8"},
      {"json", "application/json"},         {"mp3", "audio/mpeg"},                {"wav", "audio/wav"},
      {"mov", "video/quicktime"},           {"zip", "application/zip"},           {"svg", "image/svg+xml"},
  };
  for (const auto& [e, t] : by_ext)
    if (ext == e) return t;
  return "application/octet-stream";
}

Response ServeCdn(ServerContext& ctx, std::string_view path) {
  auto segs = SplitPath(path);  // "cdn", kind, ...
  if (segs.size() < 3) return NotFound();
  std::string_view kind = segs[1];
  if (kind == "attachments" || kind == "ephemeral-attachments") {
    if (segs.size() != 5) return NotFound();
    auto channel_id = ParseSnowflake(segs[2]);
    auto attachment_id = ParseSnowflake(segs[3]);
    if (!channel_id || !attachment_id) return NotFound();
    Attachment a;
    Snowflake message_id = 0, owner_channel = 0;
    if (!ctx.store.FindAttachment(*attachment_id, &a, &message_id, &owner_channel).ok() || owner_channel != *channel_id)
      return NotFound();
    return ServeBlob(ctx, a.sha256, a.filename, a.content_type, a.url);
  }
  if (kind == "avatars" && segs.size() == 4) {
    auto user_id = ParseSnowflake(segs[2]);
    User u;
    if (!user_id || !ctx.store.GetUser(*user_id, &u).ok()) return NotFound();
    return ServeBlob(ctx, u.avatar_sha256, std::string(segs[3]), std::nullopt, u.avatar_url);
  }
  if (kind == "icons" && segs.size() == 4) {
    auto guild_id = ParseSnowflake(segs[2]);
    Guild g;
    if (!guild_id || !ctx.store.GetGuild(*guild_id, &g).ok()) return NotFound();
    return ServeBlob(ctx, g.icon_sha256, std::string(segs[3]), std::nullopt, g.icon_url);
  }
  if (kind == "emojis" && segs.size() == 3) {
    auto emoji_id = ParseSnowflake(StemOf(segs[2]));
    Emoji e;
    if (!emoji_id || !ctx.store.FindEmoji(*emoji_id, &e).ok()) return NotFound();
    return ServeBlob(ctx, e.sha256, std::string(segs[2]), std::nullopt, e.image_url);
  }
  return NotFound();
}

}  // namespace ferry::compat::http
