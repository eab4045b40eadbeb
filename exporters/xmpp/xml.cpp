#include "exporters/xmpp/xml.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace ferry::xmpp {
namespace {

// Decodes one UTF-8 sequence at in[i]; returns the code point (or -1 for an invalid sequence) and sets *len.
long DecodeUtf8(std::string_view in, std::size_t i, std::size_t* len) {
  auto b = static_cast<unsigned char>(in[i]);
  int n;
  long cp;
  if (b < 0x80) { *len = 1; return b; }
  if (b >= 0xC2 && b <= 0xDF) { n = 1; cp = b & 0x1F; }
  else if (b >= 0xE0 && b <= 0xEF) { n = 2; cp = b & 0x0F; }
  else if (b >= 0xF0 && b <= 0xF4) { n = 3; cp = b & 0x07; }
  else { *len = 1; return -1; }
  for (int k = 1; k <= n; ++k) {
    if (i + k >= in.size()) { *len = 1; return -1; }
    auto c = static_cast<unsigned char>(in[i + k]);
    if ((c & 0xC0) != 0x80) { *len = 1; return -1; }
    cp = (cp << 6) | (c & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not characters.
  if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *len = 1;
    return -1;
  }
  *len = static_cast<std::size_t>(n) + 1;
  return cp;
}

bool XmlForbidden(long cp) {
  if (cp < 0x20) return cp != 0x09 && cp != 0x0A && cp != 0x0D;
  return cp == 0xFFFE || cp == 0xFFFF;
}

template <typename Emit>
void Walk(std::string_view in, Emit emit) {
  std::size_t i = 0;
  while (i < in.size()) {
    std::size_t len = 1;
    long cp = DecodeUtf8(in, i, &len);
    if (cp < 0) {
      emit(-1, std::string_view("\xEF\xBF\xBD"));
    } else if (!XmlForbidden(cp)) {
      emit(cp, in.substr(i, len));
    }
    i += len;
  }
}

}  // namespace

std::string XmlEscape(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 16);
  Walk(in, [&](long cp, std::string_view bytes) {
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default: out.append(bytes.data(), bytes.size());
    }
  });
  return out;
}

std::string CleanUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  Walk(in, [&](long, std::string_view bytes) { out.append(bytes.data(), bytes.size()); });
  return out;
}

std::string TruncateUtf8(std::string_view in, std::size_t max_bytes) {
  if (in.size() <= max_bytes) return std::string(in);
  std::size_t end = max_bytes;
  // Step back over continuation bytes so the cut lands on a character boundary.
  while (end > 0 && (static_cast<unsigned char>(in[end]) & 0xC0) == 0x80) --end;
  return std::string(in.substr(0, end));
}

std::string XmppStamp(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  if (unix_ms % 1000 < 0) --secs;  // floor for times before 1970
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string UrlEncodeSegment(std::string_view in) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace ferry::xmpp
