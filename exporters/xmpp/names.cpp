#include "exporters/xmpp/names.hpp"

#include <cctype>

#include "exporters/xmpp/xml.hpp"

namespace ferry::xmpp {
namespace {

bool Trimmable(char c) { return c == '.' || c == '_' || c == '-'; }

std::string Slug(std::string_view in, char other) {
  std::string out;
  bool pending = false;
  for (char ch : in) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) && c < 0x80) {
      if (pending && !out.empty()) out += other;
      pending = false;
      out += static_cast<char>(std::tolower(c));
    } else if ((c == '.' || c == '_' || c == '-') && !pending) {
      out += static_cast<char>(c);
    } else {
      pending = true;
    }
  }
  std::size_t b = 0, e = out.size();
  while (b < e && Trimmable(out[b])) ++b;
  while (e > b && Trimmable(out[e - 1])) --e;
  out = out.substr(b, e - b);
  if (out.size() > 64) {
    out.resize(64);
    while (!out.empty() && Trimmable(out.back())) out.pop_back();
  }
  return out;
}

}  // namespace

bool ValidateDomain(std::string_view domain, std::string* normalized, std::string* why) {
  std::string d;
  for (char c : domain) d += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (d.empty()) { *why = "is empty"; return false; }
  if (d.size() > 253) { *why = "is longer than 253 characters"; return false; }
  std::size_t start = 0;
  while (true) {
    std::size_t dot = d.find('.', start);
    std::string_view label = std::string_view(d).substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) { *why = "has an empty label (two dots, or a leading or trailing dot)"; return false; }
    if (label.size() > 63) { *why = "has a label longer than 63 characters"; return false; }
    if (label.front() == '-' || label.back() == '-') { *why = "has a label starting or ending with '-'"; return false; }
    for (char c : label) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) {
        *why = std::string("contains '") + c + "' (only letters, digits, '-' and '.' are allowed)";
        return false;
      }
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *normalized = d;
  return true;
}

std::string LocalpartBase(std::string_view username) { return Slug(username, '_'); }

std::string RoomSlug(std::string_view name) {
  std::string s = Slug(name, '-');
  return s.empty() ? "channel" : s;
}

std::string NameAllocator::Claim(const std::string& base, const std::string& alt) {
  if (taken_.insert(base).second) return base;
  if (!alt.empty() && taken_.insert(alt).second) return alt;
  for (int n = 2;; ++n) {
    std::string c = base + "_" + std::to_string(n);
    if (taken_.insert(c).second) return c;
  }
}

std::string NickFromName(std::string_view name) {
  std::string clean = CleanUtf8(name);
  std::string out;
  bool space = false;
  for (char ch : clean) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F || c == ' ') {
      space = true;
      continue;
    }
    if (c == '/') continue;
    if (space && !out.empty()) out += ' ';
    space = false;
    out += ch;
  }
  return TruncateUtf8(out, 64);
}

}  // namespace ferry::xmpp
