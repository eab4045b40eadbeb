#include "exporters/matrix/format.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "store/timestamp.hpp"

namespace ferry::matrix {

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWord(char c) { return std::isalnum(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) & 0x80); }

std::optional<Snowflake> Digits(const std::string& s, size_t* pos) {
  size_t start = *pos;
  while (*pos < s.size() && IsDigit(s[*pos]) && *pos - start < 20) ++*pos;
  if (*pos == start || *pos - start >= 20) return std::nullopt;
  return std::stoull(s.substr(start, *pos - start));
}

std::string FormatUnix(std::int64_t secs) {
  std::string iso = FormatDceTimestamp(secs * 1000);  // 2024-06-01T12:00:00+00:00
  return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
}

class Converter {
 public:
  explicit Converter(const FormatContext& ctx) : ctx_(ctx) {}

  std::string Document(const std::string& content) {
    // Code fences first: nothing inside them is markdown.
    std::string out;
    size_t pos = 0;
    while (pos < content.size()) {
      size_t open = content.find("```", pos);
      size_t close = open == std::string::npos ? std::string::npos : content.find("```", open + 3);
      if (close == std::string::npos) {
        out += Lines(content.substr(pos));
        break;
      }
      std::string before = content.substr(pos, open - pos);
      if (!before.empty() && before.back() == '\n') before.pop_back();
      out += Lines(before);
      std::string code = content.substr(open + 3, close - open - 3);
      std::string lang;
      size_t nl = code.find('\n');
      if (nl != std::string::npos && nl > 0 &&
          std::all_of(code.begin(), code.begin() + nl, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '#' || c == '-' || c == '_'; })) {
        lang = code.substr(0, nl);
        code = code.substr(nl + 1);
      } else if (nl == 0) {
        code = code.substr(1);
      }
      formatted_ = true;
      out += lang.empty() ? "<pre><code>" : "<pre><code class=\"language-" + HtmlEscape(lang) + "\">";
      out += HtmlEscape(code) + "</code></pre>";
      pos = close + 3;
      if (pos < content.size() && content[pos] == '\n') ++pos;
    }
    return out;
  }

  bool formatted() const { return formatted_; }
  const std::vector<std::string>& mentioned() const { return mentioned_; }

 private:
  static std::vector<std::string> Split(const std::string& s) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (true) {
      size_t nl = s.find('\n', start);
      std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    return lines;
  }

  static bool ListItem(const std::string& l, std::string* rest, bool* ordered) {
    size_t i = 0;
    while (i < l.size() && l[i] == ' ') ++i;
    if (i + 1 < l.size() && (l[i] == '-' || l[i] == '*') && l[i + 1] == ' ') {
      *rest = l.substr(i + 2);
      *ordered = false;
      return true;
    }
    size_t j = i;
    while (j < l.size() && IsDigit(l[j])) ++j;
    if (j > i && j + 1 < l.size() && l[j] == '.' && l[j + 1] == ' ') {
      *rest = l.substr(j + 2);
      *ordered = true;
      return true;
    }
    return false;
  }

  std::string Lines(const std::string& text) {
    if (text.empty()) return "";
    std::vector<std::string> lines = Split(text);
    std::string out;
    bool need_br = false;
    auto inline_line = [&](const std::string& html) {
      if (need_br) out += "<br>";
      out += html;
      need_br = true;
    };
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& l = lines[i];
      if (l.rfind(">>> ", 0) == 0) {
        std::string rest = l.substr(4);
        for (size_t k = i + 1; k < lines.size(); ++k) rest += "\n" + lines[k];
        formatted_ = true;
        out += "<blockquote>" + Lines(rest) + "</blockquote>";
        need_br = false;
        break;
      }
      if (l.rfind("> ", 0) == 0 || l == ">") {
        std::string inner;
        size_t k = i;
        for (; k < lines.size() && (lines[k].rfind("> ", 0) == 0 || lines[k] == ">"); ++k)
          inner += (k > i ? "\n" : "") + (lines[k].size() > 2 ? lines[k].substr(2) : std::string());
        formatted_ = true;
        out += "<blockquote>" + Lines(inner) + "</blockquote>";
        need_br = false;
        i = k - 1;
        continue;
      }
      int level = 0;
      if (l.rfind("# ", 0) == 0) level = 1;
      else if (l.rfind("## ", 0) == 0) level = 2;
      else if (l.rfind("### ", 0) == 0) level = 3;
      if (level) {
        formatted_ = true;
        out += "<h" + std::to_string(level) + ">" + Inline(l.substr(level + 1), 0) + "</h" + std::to_string(level) + ">";
        need_br = false;
        continue;
      }
      if (l.rfind("-# ", 0) == 0) {
        formatted_ = true;
        if (need_br) out += "<br>";
        out += "<sub>" + Inline(l.substr(3), 0) + "</sub>";
        need_br = true;
        continue;
      }
      std::string rest;
      bool ordered;
      if (ListItem(l, &rest, &ordered)) {
        formatted_ = true;
        out += ordered ? "<ol>" : "<ul>";
        size_t k = i;
        bool o2;
        for (; k < lines.size() && ListItem(lines[k], &rest, &o2) && o2 == ordered; ++k)
          out += "<li>" + Inline(rest, 0) + "</li>";
        out += ordered ? "</ol>" : "</ul>";
        need_br = false;
        i = k - 1;
        continue;
      }
      inline_line(Inline(l, 0));
    }
    return out;
  }

  // Finds `delim` at or after `from`, skipping backslash-escaped characters; npos if absent.
  static size_t FindClose(const std::string& s, const std::string& delim, size_t from) {
    for (size_t i = from; i + delim.size() <= s.size(); ++i) {
      if (s[i] == '\\') { ++i; continue; }
      if (s.compare(i, delim.size(), delim) == 0) return i;
    }
    return std::string::npos;
  }

  bool Wrap(const std::string& s, size_t* i, const std::string& delim, const std::string& open,
            const std::string& close, int depth, std::string* out) {
    if (s.compare(*i, delim.size(), delim) != 0) return false;
    size_t end = FindClose(s, delim, *i + delim.size());
    if (end == std::string::npos || end == *i + delim.size()) return false;
    std::string inner = s.substr(*i + delim.size(), end - *i - delim.size());
    if (delim.size() == 1 && (inner.front() == ' ' || inner.back() == ' ')) return false;
    if (delim == "_" && end + 1 < s.size() && IsWord(s[end + 1])) return false;
    formatted_ = true;
    *out += open + Inline(inner, depth + 1) + close;
    *i = end + delim.size();
    return true;
  }

  bool Angle(const std::string& s, size_t* i, std::string* out) {
    size_t p = *i + 1;
    auto closes = [&](size_t q) { return q < s.size() && s[q] == '>'; };
    if (s.compare(*i, 3, "<@&") == 0) {
      p = *i + 3;
      auto id = Digits(s, &p);
      if (!id || !closes(p)) return false;
      auto name = ctx_.role ? ctx_.role(*id) : std::nullopt;
      *out += "<strong>@" + HtmlEscape(name ? *name : std::to_string(*id)) + "</strong>";
      formatted_ = true;
      *i = p + 1;
      return true;
    }
    if (s.compare(*i, 2, "<@") == 0) {
      p = *i + 2;
      if (p < s.size() && s[p] == '!') ++p;
      auto id = Digits(s, &p);
      if (!id || !closes(p)) return false;
      auto t = ctx_.user ? ctx_.user(*id) : std::nullopt;
      if (t && !t->matrix_id.empty()) {
        *out += "<a href=\"https://matrix.to/#/" + HtmlEscape(t->matrix_id) + "\">" + HtmlEscape(t->name) + "</a>";
        if (std::find(mentioned_.begin(), mentioned_.end(), t->matrix_id) == mentioned_.end())
          mentioned_.push_back(t->matrix_id);
      } else {
        *out += "@" + HtmlEscape(t ? t->name : std::to_string(*id));
      }
      formatted_ = true;
      *i = p + 1;
      return true;
    }
    if (s.compare(*i, 2, "<#") == 0) {
      p = *i + 2;
      auto id = Digits(s, &p);
      if (!id || !closes(p)) return false;
      auto t = ctx_.channel ? ctx_.channel(*id) : std::nullopt;
      std::string name = "#" + (t ? t->name : std::to_string(*id));
      if (t && !t->matrix_id.empty())
        *out += "<a href=\"https://matrix.to/#/" + HtmlEscape(t->matrix_id) + "\">" + HtmlEscape(name) + "</a>";
      else
        *out += HtmlEscape(name);
      formatted_ = true;
      *i = p + 1;
      return true;
    }
    if (s.compare(*i, 3, "<t:") == 0) {
      p = *i + 3;
      auto secs = Digits(s, &p);
      if (!secs) return false;
      if (p + 1 < s.size() && s[p] == ':' && std::isalpha(static_cast<unsigned char>(s[p + 1]))) p += 2;
      if (!closes(p) || *secs > 253402300799ULL) return false;
      *out += HtmlEscape(FormatUnix(static_cast<std::int64_t>(*secs)));
      formatted_ = true;
      *i = p + 1;
      return true;
    }
    if (s.compare(*i, 2, "<:") == 0 || s.compare(*i, 3, "<a:") == 0) {
      p = *i + (s[*i + 1] == 'a' ? 3 : 2);
      size_t name_start = p;
      while (p < s.size() && (std::isalnum(static_cast<unsigned char>(s[p])) || s[p] == '_') && p - name_start < 64) ++p;
      if (p == name_start || p >= s.size() || s[p] != ':') return false;
      std::string name = s.substr(name_start, p - name_start);
      ++p;
      if (!Digits(s, &p) || !closes(p)) return false;
      *out += ":" + HtmlEscape(name) + ":";
      formatted_ = true;
      *i = p + 1;
      return true;
    }
    if (s.compare(*i, 8, "<http://") == 0 || s.compare(*i, 9, "<https://") == 0) {
      size_t end = s.find('>', *i);
      if (end == std::string::npos) return false;
      std::string url = s.substr(*i + 1, end - *i - 1);
      if (url.find_first_of(" \n\t") != std::string::npos) return false;
      *out += "<a href=\"" + HtmlEscape(url) + "\">" + HtmlEscape(url) + "</a>";
      formatted_ = true;
      *i = end + 1;
      return true;
    }
    return false;
  }

  bool MaskedLink(const std::string& s, size_t* i, int depth, std::string* out) {
    size_t close = s.find("](", *i);
    if (close == std::string::npos || close == *i + 1) return false;
    std::string text = s.substr(*i + 1, close - *i - 1);
    if (text.find('\n') != std::string::npos || text.find('[') != std::string::npos) return false;
    size_t u = close + 2;
    bool angle = u < s.size() && s[u] == '<';
    if (angle) ++u;
    if (s.compare(u, 7, "http://") != 0 && s.compare(u, 8, "https://") != 0) return false;
    size_t e = u;
    int parens = 0;  // balanced parentheses belong to the URL (Wikipedia-style links)
    while (e < s.size() && s[e] != '>' && s[e] != ' ' && s[e] != '\n') {
      if (s[e] == '(') ++parens;
      else if (s[e] == ')' && parens-- == 0) break;
      ++e;
    }
    std::string url = s.substr(u, e - u);
    if (angle) {
      if (e >= s.size() || s[e] != '>') return false;
      ++e;
    }
    if (e >= s.size() || s[e] != ')') return false;
    formatted_ = true;
    *out += "<a href=\"" + HtmlEscape(url) + "\">" + Inline(text, depth + 1) + "</a>";
    *i = e + 1;
    return true;
  }

  bool BareLink(const std::string& s, size_t* i, std::string* out) {
    if (s.compare(*i, 7, "http://") != 0 && s.compare(*i, 8, "https://") != 0) return false;
    if (*i > 0 && IsWord(s[*i - 1])) return false;
    size_t e = *i;
    while (e < s.size() && !std::isspace(static_cast<unsigned char>(s[e])) && s[e] != '<') ++e;
    while (e > *i && std::string(".,:;!?'\"").find(s[e - 1]) != std::string::npos) --e;
    std::string url = s.substr(*i, e - *i);
    // A ')' closes the link only when the URL opened one (Wikipedia links keep theirs).
    while (!url.empty() && url.back() == ')' && std::count(url.begin(), url.end(), '(') < std::count(url.begin(), url.end(), ')')) {
      url.pop_back();
      --e;
    }
    if (url.size() <= 8) return false;
    formatted_ = true;
    *out += "<a href=\"" + HtmlEscape(url) + "\">" + HtmlEscape(url) + "</a>";
    *i = e;
    return true;
  }

  std::string Inline(const std::string& s, int depth) {
    if (depth > 16) return HtmlEscape(s);
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '\\' && i + 1 < s.size() && std::ispunct(static_cast<unsigned char>(s[i + 1]))) {
        out += HtmlEscape(std::string(1, s[i + 1]));
        formatted_ = true;
        i += 2;
        continue;
      }
      if (c == '`') {
        size_t run = 0;
        while (i + run < s.size() && s[i + run] == '`') ++run;
        std::string fence(run, '`');
        size_t end = s.find(fence, i + run);
        if (end != std::string::npos && end > i + run) {
          std::string code = s.substr(i + run, end - i - run);
          formatted_ = true;
          out += "<code>" + HtmlEscape(code) + "</code>";
          i = end + run;
          continue;
        }
        out += fence;
        i += run;
        continue;
      }
      if (c == '<' && Angle(s, &i, &out)) continue;
      if (c == '*' && Wrap(s, &i, "**", "<strong>", "</strong>", depth, &out)) continue;
      if (c == '_' && Wrap(s, &i, "__", "<u>", "</u>", depth, &out)) continue;
      if (c == '~' && Wrap(s, &i, "~~", "<del>", "</del>", depth, &out)) continue;
      if (c == '|' && Wrap(s, &i, "||", "<span data-mx-spoiler>", "</span>", depth, &out)) continue;
      if (c == '*' && Wrap(s, &i, "*", "<em>", "</em>", depth, &out)) continue;
      if (c == '_' && (i == 0 || !IsWord(s[i - 1])) && Wrap(s, &i, "_", "<em>", "</em>", depth, &out)) continue;
      if (c == '[' && MaskedLink(s, &i, depth, &out)) continue;
      if (c == 'h' && BareLink(s, &i, &out)) continue;
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
      }
      ++i;
    }
    return out;
  }

  const FormatContext& ctx_;
  bool formatted_ = false;
  std::vector<std::string> mentioned_;
};

}  // namespace

Formatted FormatDiscordMarkdown(const std::string& content, const FormatContext& ctx) {
  Converter c(ctx);
  std::string html = c.Document(content);
  Formatted f;
  if (c.formatted()) f.html = std::move(html);
  f.mentioned = c.mentioned();
  return f;
}

}  // namespace ferry::matrix
