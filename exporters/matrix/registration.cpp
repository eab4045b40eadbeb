#include "exporters/matrix/registration.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace ferry::matrix {
namespace {

struct Line {
  int indent = 0;
  std::string text;  // without indentation and comment, right-trimmed
  int number = 0;    // 1-based, for messages
};

std::string RTrim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return RTrim(s.substr(b));
}

// Removes a trailing "# comment" that is outside quotes (YAML needs whitespace before '#').
std::string StripComment(const std::string& s) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == '\\' && quote == '"') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
      return s.substr(0, i);
    }
  }
  return s;
}

class Parser {
 public:
  Parser(std::vector<Line> lines, std::string name) : lines_(std::move(lines)), name_(std::move(name)) {}

  Status Document(Json* out) {
    if (lines_.empty()) return Error(0, "empty file");
    size_t i = 0;
    FERRY_RETURN_IF_ERROR(Node(&i, lines_[0].indent, out));
    if (i < lines_.size()) return Error(lines_[i].number, "unexpected indentation");
    return Status::Ok();
  }

 private:
  Status Error(int line, const std::string& what) {
    return Status::InvalidInput(name_ + (line ? ":" + std::to_string(line) : std::string()) + ": " + what +
                                " (Ferry reads a YAML subset: mappings, sequences, quoted and plain scalars)");
  }

  static bool IsSeqItem(const std::string& t) { return t == "-" || (t.size() >= 2 && t[0] == '-' && t[1] == ' '); }

  // Position of the ':' that ends a mapping key, or npos.
  static size_t KeyColon(const std::string& t) {
    char quote = 0;
    int depth = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (quote) {
        if (c == '\\' && quote == '"') ++i;
        else if (c == quote) quote = 0;
        continue;
      }
      if (c == '"' || c == '\'') quote = c;
      else if (c == '[' || c == '{') ++depth;
      else if (c == ']' || c == '}') --depth;
      else if (c == ':' && depth == 0 && (i + 1 == t.size() || t[i + 1] == ' ')) return i;
    }
    return std::string::npos;
  }

  Status Node(size_t* i, int indent, Json* out) {
    const Line& l = lines_[*i];
    if (IsSeqItem(l.text)) return Sequence(i, indent, out);
    if (KeyColon(l.text) != std::string::npos && l.text[0] != '[' && l.text[0] != '{') return Mapping(i, indent, out);
    // A lone scalar or flow collection.
    std::string text = l.text;
    int number = l.number;
    ++*i;
    return Inline(&text, number, i, out);
  }

  Status Sequence(size_t* i, int indent, Json* out) {
    *out = Json::array();
    while (*i < lines_.size() && lines_[*i].indent == indent && IsSeqItem(lines_[*i].text)) {
      Line& l = lines_[*i];
      std::string rest = l.text.size() > 1 ? l.text.substr(2) : "";
      size_t lead = rest.find_first_not_of(' ');
      Json item;
      if (lead == std::string::npos) {
        ++*i;
        if (*i < lines_.size() && lines_[*i].indent > indent) {
          FERRY_RETURN_IF_ERROR(Node(i, lines_[*i].indent, &item));
        }
      } else {
        // "- key: v" opens a nested node whose column is where "key" starts.
        l.indent = indent + 2 + static_cast<int>(lead);
        l.text = rest.substr(lead);
        FERRY_RETURN_IF_ERROR(Node(i, l.indent, &item));
      }
      out->push_back(std::move(item));
    }
    if (*i < lines_.size() && lines_[*i].indent > indent) return Error(lines_[*i].number, "unexpected indentation");
    return Status::Ok();
  }

  Status Mapping(size_t* i, int indent, Json* out) {
    *out = Json::object();
    while (*i < lines_.size() && lines_[*i].indent == indent && !IsSeqItem(lines_[*i].text)) {
      const Line l = lines_[*i];
      size_t colon = KeyColon(l.text);
      if (colon == std::string::npos) return Error(l.number, "expected 'key: value'");
      std::string key_text = Trim(l.text.substr(0, colon));
      int number = l.number;
      Json key;
      size_t dummy = *i;
      FERRY_RETURN_IF_ERROR(Inline(&key_text, number, &dummy, &key));
      std::string k = key.is_string() ? key.get<std::string>() : key.dump();
      if (out->contains(k)) return Error(number, "duplicate key '" + k + "'");
      std::string value = Trim(l.text.substr(colon + 1));
      ++*i;
      Json v;
      if (value.empty()) {
        if (*i < lines_.size() && lines_[*i].indent > indent) {
          FERRY_RETURN_IF_ERROR(Node(i, lines_[*i].indent, &v));
        } else if (*i < lines_.size() && lines_[*i].indent == indent && IsSeqItem(lines_[*i].text)) {
          FERRY_RETURN_IF_ERROR(Sequence(i, indent, &v));
        }
      } else {
        FERRY_RETURN_IF_ERROR(Inline(&value, number, i, &v));
      }
      (*out)[k] = std::move(v);
    }
    if (*i < lines_.size() && lines_[*i].indent > indent) return Error(lines_[*i].number, "unexpected indentation");
    return Status::Ok();
  }

  // A value on one line; flow collections may continue on following lines until their brackets close.
  Status Inline(std::string* text, int number, size_t* i, Json* out) {
    if (!text->empty() && (text->front() == '[' || text->front() == '{')) {
      while (!Balanced(*text)) {
        if (*i >= lines_.size()) return Error(number, "unclosed flow collection");
        *text += " " + lines_[*i].text;
        ++*i;
      }
    }
    size_t pos = 0;
    FERRY_RETURN_IF_ERROR(Flow(*text, &pos, number, out, /*in_flow=*/false));
    while (pos < text->size() && (*text)[pos] == ' ') ++pos;
    if (pos != text->size()) return Error(number, "unexpected text after value: '" + text->substr(pos) + "'");
    return Status::Ok();
  }

  static bool Balanced(const std::string& t) {
    int depth = 0;
    char quote = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (quote) {
        if (c == '\\' && quote == '"') ++i;
        else if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') quote = c;
      else if (c == '[' || c == '{') ++depth;
      else if (c == ']' || c == '}') --depth;
    }
    return depth <= 0;
  }

  Status Flow(const std::string& t, size_t* pos, int number, Json* out, bool in_flow) {
    auto skip = [&] { while (*pos < t.size() && t[*pos] == ' ') ++*pos; };
    skip();
    if (*pos >= t.size()) { *out = nullptr; return Status::Ok(); }
    char c = t[*pos];
    if (c == '&' || c == '*' || c == '!') return Error(number, "anchors, aliases and tags are not supported");
    if (c == '|' || c == '>') return Error(number, "block scalars (| and >) are not supported");
    if (c == '[') {
      ++*pos;
      *out = Json::array();
      skip();
      if (*pos < t.size() && t[*pos] == ']') { ++*pos; return Status::Ok(); }
      while (true) {
        Json item;
        FERRY_RETURN_IF_ERROR(Flow(t, pos, number, &item, true));
        out->push_back(std::move(item));
        skip();
        if (*pos < t.size() && t[*pos] == ',') { ++*pos; skip(); if (*pos < t.size() && t[*pos] == ']') { ++*pos; return Status::Ok(); } continue; }
        if (*pos < t.size() && t[*pos] == ']') { ++*pos; return Status::Ok(); }
        return Error(number, "expected ',' or ']' in flow sequence");
      }
    }
    if (c == '{') {
      ++*pos;
      *out = Json::object();
      skip();
      if (*pos < t.size() && t[*pos] == '}') { ++*pos; return Status::Ok(); }
      while (true) {
        Json key;
        FERRY_RETURN_IF_ERROR(Flow(t, pos, number, &key, true));
        skip();
        if (*pos >= t.size() || t[*pos] != ':') return Error(number, "expected ':' in flow mapping");
        ++*pos;
        Json v;
        FERRY_RETURN_IF_ERROR(Flow(t, pos, number, &v, true));
        (*out)[key.is_string() ? key.get<std::string>() : key.dump()] = std::move(v);
        skip();
        if (*pos < t.size() && t[*pos] == ',') { ++*pos; skip(); if (*pos < t.size() && t[*pos] == '}') { ++*pos; return Status::Ok(); } continue; }
        if (*pos < t.size() && t[*pos] == '}') { ++*pos; return Status::Ok(); }
        return Error(number, "expected ',' or '}' in flow mapping");
      }
    }
    if (c == '"') {
      std::string s;
      ++*pos;
      while (true) {
        if (*pos >= t.size()) return Error(number, "unterminated double-quoted string");
        char d = t[(*pos)++];
        if (d == '"') break;
        if (d != '\\') { s += d; continue; }
        if (*pos >= t.size()) return Error(number, "unterminated escape");
        char e = t[(*pos)++];
        switch (e) {
          case 'n': s += '\n'; break;
          case 't': s += '\t'; break;
          case 'r': s += '\r'; break;
          case '0': s += '\0'; break;
          case '\\': case '"': case '/': case ' ': s += e; break;
          default: s += '\\'; s += e;  // keep regex escapes like "\." readable rather than failing
        }
      }
      *out = s;
      return Status::Ok();
    }
    if (c == '\'') {
      std::string s;
      ++*pos;
      while (true) {
        if (*pos >= t.size()) return Error(number, "unterminated single-quoted string");
        char d = t[(*pos)++];
        if (d == '\'') {
          if (*pos < t.size() && t[*pos] == '\'') { s += '\''; ++*pos; continue; }
          break;
        }
        s += d;
      }
      *out = s;
      return Status::Ok();
    }
    // Plain scalar: up to the end, or (inside flow) up to , ] } or ": ".
    size_t start = *pos;
    while (*pos < t.size()) {
      char d = t[*pos];
      if (in_flow && (d == ',' || d == ']' || d == '}')) break;
      if (in_flow && d == ':' && (*pos + 1 == t.size() || t[*pos + 1] == ' ')) break;
      ++*pos;
    }
    std::string s = RTrim(t.substr(start, *pos - start));
    if (s == "null" || s == "~" || s == "Null" || s == "NULL") *out = nullptr;
    else if (s == "true" || s == "True" || s == "TRUE") *out = true;
    else if (s == "false" || s == "False" || s == "FALSE") *out = false;
    else if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 18) *out = std::stoll(s);
    else *out = s;
    return Status::Ok();
  }

  std::vector<Line> lines_;
  std::string name_;
};

std::string RandomToken() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) {
    // RAND_bytes only fails without an entropy source; refusing is better than weak tokens.
    std::abort();
  }
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char b : buf) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\-", c)) out += '\\';
    out += c;
  }
  return out;
}

std::string YamlQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Status ReadNamespaces(const Json& doc, const char* kind, const std::string& name, std::vector<Namespace>* out) {
  if (!doc.contains("namespaces") || doc["namespaces"].is_null()) return Status::Ok();
  const Json& ns = doc["namespaces"];
  if (!ns.is_object()) return Status::InvalidInput(name + ": namespaces must be a mapping");
  if (!ns.contains(kind) || ns[kind].is_null()) return Status::Ok();
  if (!ns[kind].is_array()) return Status::InvalidInput(name + ": namespaces." + kind + " must be a list");
  for (const Json& n : ns[kind]) {
    if (!n.is_object() || !n.contains("regex") || !n["regex"].is_string())
      return Status::InvalidInput(name + ": every namespaces." + kind + " entry needs a regex string");
    Namespace x;
    x.regex = n["regex"].get<std::string>();
    x.exclusive = n.contains("exclusive") && n["exclusive"].is_boolean() && n["exclusive"].get<bool>();
    try {
      std::regex re(x.regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::InvalidInput(name + ": namespaces." + kind + " regex '" + x.regex + "' does not compile: " + e.what());
    }
    out->push_back(std::move(x));
  }
  return Status::Ok();
}

}  // namespace

Status ParseYamlSubset(const std::string& text, const std::string& name, Json* out) {
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    if (number == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw = raw.substr(3);
    std::string t = RTrim(StripComment(raw));
    size_t b = t.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    if (t[b] == '\t') return Status::InvalidInput(name + ":" + std::to_string(number) + ": tabs are not allowed for indentation in YAML");
    if (t == "---" || t == "...") continue;
    lines.push_back({static_cast<int>(b), t.substr(b), number});
  }
  Parser p(std::move(lines), name);
  return p.Document(out);
}

Status ParseRegistration(const std::string& text, const std::string& name, Registration* out) {
  Json doc;
  FERRY_RETURN_IF_ERROR(ParseYamlSubset(text, name, &doc));
  if (!doc.is_object()) return Status::InvalidInput(name + ": a registration file is a YAML mapping");
  auto str = [&](const char* key, std::string* dst, bool required) -> Status {
    if (!doc.contains(key) || doc[key].is_null()) {
      if (required) return Status::InvalidInput(name + ": missing '" + key + "'");
      return Status::Ok();
    }
    if (doc[key].is_string()) *dst = doc[key].get<std::string>();
    else if (doc[key].is_number()) *dst = doc[key].dump();
    else return Status::InvalidInput(name + ": '" + key + "' must be a string");
    return Status::Ok();
  };
  Registration r;
  FERRY_RETURN_IF_ERROR(str("id", &r.id, false));
  FERRY_RETURN_IF_ERROR(str("url", &r.url, false));
  FERRY_RETURN_IF_ERROR(str("as_token", &r.as_token, true));
  FERRY_RETURN_IF_ERROR(str("hs_token", &r.hs_token, false));
  FERRY_RETURN_IF_ERROR(str("sender_localpart", &r.sender_localpart, true));
  if (r.as_token.empty()) return Status::InvalidInput(name + ": as_token is empty");
  if (r.sender_localpart.empty()) return Status::InvalidInput(name + ": sender_localpart is empty");
  if (doc.contains("rate_limited") && doc["rate_limited"].is_boolean()) r.rate_limited = doc["rate_limited"].get<bool>();
  FERRY_RETURN_IF_ERROR(ReadNamespaces(doc, "users", name, &r.users));
  FERRY_RETURN_IF_ERROR(ReadNamespaces(doc, "aliases", name, &r.aliases));
  *out = std::move(r);
  return Status::Ok();
}

Status ReadRegistration(const std::string& path, Registration* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound(path + ": cannot open registration file (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (ss.str().size() > 1024 * 1024) return Status::InvalidInput(path + ": larger than 1 MiB; not a registration file");
  return ParseRegistration(ss.str(), path, out);
}

bool InUserNamespace(const Registration& reg, const std::string& user_id) {
  for (const auto& n : reg.users) {
    try {
      std::regex re(n.regex, std::regex::ECMAScript);
      if (std::regex_search(user_id, re, std::regex_constants::match_continuous)) return true;
    } catch (const std::regex_error&) {
    }
  }
  return false;
}

Registration NewRegistration(const std::string& server_name, const std::string& user_prefix) {
  Registration r;
  r.id = "ferry-discord-import";
  r.as_token = RandomToken();
  r.hs_token = RandomToken();
  r.sender_localpart = user_prefix + "ferry";
  r.rate_limited = false;
  r.users.push_back({true, "@" + RegexEscape(user_prefix) + "[0-9]+:" + RegexEscape(server_name)});
  r.aliases.push_back({true, "#" + RegexEscape(user_prefix) + "[0-9]+:" + RegexEscape(server_name)});
  return r;
}

std::string RegistrationYaml(const Registration& r) {
  std::string y;
  y += "# Matrix application-service registration for `ferry export matrix`.\n";
  y += "# Add this file to the homeserver (Synapse: app_service_config_files) and restart it.\n";
  y += "id: " + YamlQuote(r.id) + "\n";
  y += "url: null  # Ferry only calls the homeserver; nothing is pushed to it\n";
  y += "as_token: " + YamlQuote(r.as_token) + "\n";
  y += "hs_token: " + YamlQuote(r.hs_token) + "\n";
  y += "sender_localpart: " + YamlQuote(r.sender_localpart) + "\n";
  y += std::string("rate_limited: ") + (r.rate_limited ? "true" : "false") +
       "  # exempts the import's ghosts from message rate limits\n";
  y += "namespaces:\n  users:\n";
  for (const auto& n : r.users)
    y += std::string("    - exclusive: ") + (n.exclusive ? "true" : "false") + "\n      regex: " + YamlQuote(n.regex) + "\n";
  y += "  aliases:\n";
  for (const auto& n : r.aliases)
    y += std::string("    - exclusive: ") + (n.exclusive ? "true" : "false") + "\n      regex: " + YamlQuote(n.regex) + "\n";
  y += "  rooms: []\n";
  return y;
}

Status WriteRegistration(const std::string& path, const Registration& reg) {
  std::string text = RegistrationYaml(reg);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return Status::Conflict(path + ": already exists; Ferry will not replace the tokens of a registration the "
                              "homeserver may already use (delete it first, or pass it with --registration)");
    return Status::IoError(path + ": cannot create (" + std::strerror(errno) + ")");
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return Status::IoError(path + ": write failed (" + std::strerror(e) + ")");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    return Status::IoError(path + ": write failed (" + std::strerror(errno) + ")");
  }
  return Status::Ok();
}

}  // namespace ferry::matrix
