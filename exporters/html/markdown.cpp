#include "exporters/html/markdown.hpp"

#include <cstdio>
#include <ctime>
#include <vector>

namespace ferry::html {
namespace {

// Nesting deeper than this is shown as text: hostile input cannot make rendering recurse without bound.
constexpr int kMaxDepth = 10;
// Discord caps content at 4000 characters (embeds at 6000); anything far larger is not real Discord data and
// is shown as plain escaped text so rendering stays linear.
constexpr size_t kMaxMarkdownBytes = 64 * 1024;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsWordChar(char c) { return IsAlnum(c) || static_cast<unsigned char>(c) >= 0x80; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

bool StartsWith(std::string_view s, size_t i, std::string_view p) {
  return s.size() >= i + p.size() && s.compare(i, p.size(), p) == 0;
}

// Next unescaped occurrence of `delim` at or after `from`.
size_t FindClose(std::string_view s, size_t from, std::string_view delim) {
  while (true) {
    size_t j = s.find(delim, from);
    if (j == std::string_view::npos) return j;
    if (j > 0 && s[j - 1] == '\\') {
      from = j + 1;
      continue;
    }
    return j;
  }
}

// Parses decimal digits at s[i..] into *v (at most 20 digits); returns the index after them or npos.
size_t ParseId(std::string_view s, size_t i, Snowflake* v) {
  size_t j = i;
  Snowflake x = 0;
  while (j < s.size() && IsDigit(s[j]) && j - i < 20) {
    x = x * 10 + static_cast<Snowflake>(s[j] - '0');
    ++j;
  }
  if (j == i) return std::string_view::npos;
  *v = x;
  return j;
}

std::string Hex6(std::uint32_t color) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%06x", color & 0xFFFFFFu);
  return buf;
}

class Renderer {
 public:
  explicit Renderer(MentionResolver* r) : r_(r ? r : &null_) {}

  void Document(std::string_view text, std::string* out) {
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t j = FindClose(text, pos, "```");
      size_t k = j == std::string_view::npos ? j : text.find("```", j + 3);
      if (k == std::string_view::npos) {
        Blocks(text.substr(pos), out);
        return;
      }
      std::string_view before = text.substr(pos, j - pos);
      if (!before.empty() && before.back() == '\n') before.remove_suffix(1);
      Blocks(before, out);
      CodeBlock(text.substr(j + 3, k - j - 3), out);
      pos = k + 3;
      if (pos < text.size() && text[pos] == '\n') ++pos;
      if (pos >= text.size()) return;
    }
  }

  void Inline(std::string_view s, int depth, std::string* out) {
    size_t i = 0, text_start = 0;
    std::string html;
    while (i < s.size()) {
      size_t consumed = 0;
      html.clear();
      if (Try(s, i, depth, &html, &consumed)) {
        AppendEscaped(out, s.substr(text_start, i - text_start));
        out->append(html);
        i += consumed;
        text_start = i;
      } else {
        ++i;
      }
    }
    AppendEscaped(out, s.substr(text_start));
  }

 private:
  void CodeBlock(std::string_view code, std::string* out) {
    std::string lang;
    size_t nl = code.find('\n');
    if (nl != std::string_view::npos && nl > 0 && nl <= 24) {
      bool word = true;
      for (size_t i = 0; i < nl; ++i)
        if (!(IsAlnum(code[i]) || code[i] == '_' || code[i] == '+' || code[i] == '#' || code[i] == '-')) word = false;
      if (word) {
        lang = std::string(code.substr(0, nl));
        code.remove_prefix(nl + 1);
      }
    }
    if (!code.empty() && code.back() == '\n') code.remove_suffix(1);
    out->append("<pre class=\"codeblock\"><code");
    if (!lang.empty()) {
      out->append(" data-lang=\"");
      AppendEscaped(out, lang);
      out->append("\"");
    }
    out->append(">");
    AppendEscaped(out, code);
    out->append("</code></pre>");
  }

  // Line-level structure: quotes, headings, subtext; runs of ordinary lines are rendered inline together.
  void Blocks(std::string_view seg, std::string* out) {
    std::vector<std::string_view> lines;
    size_t p = 0;
    while (true) {
      size_t nl = seg.find('\n', p);
      if (nl == std::string_view::npos) {
        lines.push_back(seg.substr(p));
        break;
      }
      lines.push_back(seg.substr(p, nl - p));
      p = nl + 1;
    }
    std::string para;
    bool have_para = false;
    auto flush_para = [&]() {
      if (have_para) Inline(para, 0, out);
      para.clear();
      have_para = false;
    };
    for (size_t li = 0; li < lines.size(); ++li) {
      std::string_view line = lines[li];
      if (StartsWith(line, 0, ">>> ")) {
        flush_para();
        std::string rest(line.substr(4));
        for (size_t k = li + 1; k < lines.size(); ++k) {
          rest += '\n';
          rest.append(lines[k]);
        }
        out->append("<blockquote>");
        Inline(rest, 1, out);
        out->append("</blockquote>");
        return;
      }
      if (StartsWith(line, 0, "> ") || line == ">") {
        flush_para();
        std::string quote;
        size_t k = li;
        for (; k < lines.size() && (StartsWith(lines[k], 0, "> ") || lines[k] == ">"); ++k) {
          if (k > li) quote += '\n';
          quote.append(lines[k].substr(lines[k].size() >= 2 ? 2 : 1));
        }
        out->append("<blockquote>");
        Inline(quote, 1, out);
        out->append("</blockquote>");
        li = k - 1;
        continue;
      }
      int level = 0;
      if (StartsWith(line, 0, "# ")) level = 1;
      else if (StartsWith(line, 0, "## ")) level = 2;
      else if (StartsWith(line, 0, "### ")) level = 3;
      if (level) {
        flush_para();
        out->append("<div class=\"md-h").append(std::to_string(level)).append("\">");
        Inline(line.substr(level + 1), 1, out);
        out->append("</div>");
        continue;
      }
      if (StartsWith(line, 0, "-# ")) {
        flush_para();
        out->append("<div class=\"md-sub\">");
        Inline(line.substr(3), 1, out);
        out->append("</div>");
        continue;
      }
      if (have_para) para += '\n';
      para.append(line);
      have_para = true;
    }
    flush_para();
  }

  // Wraps s[i+open, j) in tags if a closing delimiter exists; j is the closing delimiter's index.
  bool Pair(std::string_view s, size_t i, std::string_view delim, const char* open_tag, const char* close_tag,
            int depth, std::string* html, size_t* consumed) {
    size_t start = i + delim.size();
    if (start >= s.size()) return false;
    size_t j = FindClose(s, start + 1, delim);
    if (j == std::string_view::npos) return false;
    html->append(open_tag);
    Inline(s.substr(start, j - start), depth + 1, html);
    html->append(close_tag);
    *consumed = j + delim.size() - i;
    return true;
  }

  bool Try(std::string_view s, size_t i, int depth, std::string* html, size_t* consumed) {
    char c = s[i];
    switch (c) {
      case '\\':
        if (i + 1 < s.size() && IsPunct(s[i + 1])) {
          AppendEscaped(html, s.substr(i + 1, 1));
          *consumed = 2;
          return true;
        }
        return false;
      case '\n':
        html->append("<br>");
        *consumed = 1;
        return true;
      case '`': {
        size_t k = 0;
        while (i + k < s.size() && s[i + k] == '`' && k < 3) ++k;
        if (k > 2) return false;
        std::string_view delim = s.substr(i, k);
        size_t j = s.find(delim, i + k);
        if (j == std::string_view::npos || j == i + k) return false;
        html->append("<code>");
        AppendEscaped(html, s.substr(i + k, j - i - k));
        html->append("</code>");
        *consumed = j + k - i;
        return true;
      }
      case '<':
        return Angle(s, i, html, consumed);
      case '@':
        for (std::string_view w : {std::string_view("@everyone"), std::string_view("@here")}) {
          if (StartsWith(s, i, w)) {
            html->append("<span class=\"mention\">");
            html->append(w);
            html->append("</span>");
            *consumed = w.size();
            return true;
          }
        }
        return false;
      case 'h':
        if ((i == 0 || !IsWordChar(s[i - 1])) && (StartsWith(s, i, "https://") || StartsWith(s, i, "http://")))
          return AutoLink(s, i, s.size(), html, consumed);
        return false;
      case '[':
        return MaskedLink(s, i, depth, html, consumed);
      default:
        break;
    }
    if (depth >= kMaxDepth) return false;
    switch (c) {
      case '*':
        if (StartsWith(s, i, "***") && Pair(s, i, "***", "<strong><em>", "</em></strong>", depth, html, consumed))
          return true;
        if (StartsWith(s, i, "**")) return Pair(s, i, "**", "<strong>", "</strong>", depth, html, consumed);
        if (i + 1 < s.size() && !IsSpace(s[i + 1])) return Pair(s, i, "*", "<em>", "</em>", depth, html, consumed);
        return false;
      case '_':
        if (StartsWith(s, i, "__")) return Pair(s, i, "__", "<u>", "</u>", depth, html, consumed);
        if ((i == 0 || !IsWordChar(s[i - 1])) && i + 1 < s.size() && !IsSpace(s[i + 1])) {
          size_t j = FindClose(s, i + 2, "_");
          if (j == std::string_view::npos || (j + 1 < s.size() && IsWordChar(s[j + 1]))) return false;
          html->append("<em>");
          Inline(s.substr(i + 1, j - i - 1), depth + 1, html);
          html->append("</em>");
          *consumed = j + 1 - i;
          return true;
        }
        return false;
      case '~':
        if (StartsWith(s, i, "~~")) return Pair(s, i, "~~", "<s>", "</s>", depth, html, consumed);
        return false;
      case '|':
        if (StartsWith(s, i, "||"))
          return Pair(s, i, "||",
                      "<span class=\"spoiler\" tabindex=\"0\" role=\"button\" aria-label=\"Spoiler, activate to reveal\">",
                      "</span>", depth, html, consumed);
        return false;
      default:
        return false;
    }
  }

  bool AutoLink(std::string_view s, size_t i, size_t limit, std::string* html, size_t* consumed) {
    size_t j = i;
    int parens = 0;
    while (j < limit && !IsSpace(s[j]) && s[j] != '<' && s[j] != '>' && s[j] != '"') {
      if (s[j] == '(') ++parens;
      if (s[j] == ')') --parens;
      ++j;
    }
    while (j > i) {
      char t = s[j - 1];
      if (t == '.' || t == ',' || t == ':' || t == ';' || t == '!' || t == '?' || t == '\'' || t == '*' ||
          t == '_' || t == '~' || t == '|' || (t == ')' && parens < 0)) {
        if (t == ')') ++parens;
        --j;
      } else {
        break;
      }
    }
    std::string_view url = s.substr(i, j - i);
    if (!IsSafeHttpUrl(url) || url.size() <= 8) return false;
    html->append("<a href=\"");
    AppendEscaped(html, url);
    html->append("\" rel=\"noopener noreferrer nofollow\">");
    AppendEscaped(html, url);
    html->append("</a>");
    *consumed = j - i;
    return true;
  }

  bool MaskedLink(std::string_view s, size_t i, int depth, std::string* html, size_t* consumed) {
    size_t close = s.find("](", i + 1);
    if (close == std::string_view::npos || close == i + 1 || s.substr(i + 1, close - i - 1).find('\n') != std::string_view::npos)
      return false;
    size_t end = s.find(')', close + 2);
    if (end == std::string_view::npos) return false;
    std::string_view url = s.substr(close + 2, end - close - 2);
    if (!url.empty() && url.front() == '<' && url.back() == '>') url = url.substr(1, url.size() - 2);
    if (!IsSafeHttpUrl(url)) return false;
    html->append("<a href=\"");
    AppendEscaped(html, url);
    html->append("\" rel=\"noopener noreferrer nofollow\" title=\"");
    AppendEscaped(html, url);
    html->append("\">");
    // A link inside link text would nest anchors; render the label with formatting but without links.
    std::string label;
    Inline(s.substr(i + 1, close - i - 1), std::max(depth + 1, 1), &label);
    html->append(label.find("<a ") == std::string::npos ? label : Escape(s.substr(i + 1, close - i - 1)));
    html->append("</a>");
    *consumed = end + 1 - i;
    return true;
  }

  bool Angle(std::string_view s, size_t i, std::string* html, size_t* consumed) {
    Snowflake id = 0;
    size_t j;
    if (StartsWith(s, i, "<@&")) {
      j = ParseId(s, i + 3, &id);
      if (j == std::string_view::npos || j >= s.size() || s[j] != '>') return false;
      std::uint32_t color = 0;
      std::string name = r_->RoleName(id, &color);
      html->append("<span class=\"mention\"");
      if (color) html->append(" style=\"color:").append(Hex6(color)).append("\"");
      html->append(">@");
      AppendEscaped(html, name.empty() ? std::string("deleted-role") : name);
      html->append("</span>");
      *consumed = j + 1 - i;
      return true;
    }
    if (StartsWith(s, i, "<@")) {
      size_t start = i + 2 + (StartsWith(s, i, "<@!") ? 1 : 0);
      j = ParseId(s, start, &id);
      if (j == std::string_view::npos || j >= s.size() || s[j] != '>') return false;
      std::string name = r_->UserName(id);
      html->append("<span class=\"mention\" title=\"").append(std::to_string(id)).append("\">@");
      AppendEscaped(html, name.empty() ? std::string("Unknown") : name);
      html->append("</span>");
      *consumed = j + 1 - i;
      return true;
    }
    if (StartsWith(s, i, "<#")) {
      j = ParseId(s, i + 2, &id);
      if (j == std::string_view::npos || j >= s.size() || s[j] != '>') return false;
      std::string href;
      std::string name = r_->ChannelName(id, &href);
      if (!href.empty()) {
        html->append("<a class=\"mention\" href=\"");
        AppendEscaped(html, href);
        html->append("\">#");
      } else {
        html->append("<span class=\"mention\">#");
      }
      AppendEscaped(html, name.empty() ? std::string("deleted-channel") : name);
      html->append(href.empty() ? "</span>" : "</a>");
      *consumed = j + 1 - i;
      return true;
    }
    if (StartsWith(s, i, "<:") || StartsWith(s, i, "<a:")) {
      bool animated = s[i + 1] == 'a';
      size_t ns = i + (animated ? 3 : 2);
      size_t ne = ns;
      while (ne < s.size() && ne - ns < 64 && (IsAlnum(s[ne]) || s[ne] == '_' || s[ne] == '~' || s[ne] == '-')) ++ne;
      if (ne == ns || ne >= s.size() || s[ne] != ':') return false;
      j = ParseId(s, ne + 1, &id);
      if (j == std::string_view::npos || j >= s.size() || s[j] != '>') return false;
      std::string name(s.substr(ns, ne - ns));
      std::string src = r_->EmojiSrc(id, animated);
      if (!src.empty()) {
        html->append("<img class=\"emoji\" src=\"");
        AppendEscaped(html, src);
        html->append("\" alt=\":");
        AppendEscaped(html, name);
        html->append(":\" title=\":");
        AppendEscaped(html, name);
        html->append(":\">");
      } else {
        html->append("<span class=\"emoji-text\">:");
        AppendEscaped(html, name);
        html->append(":</span>");
      }
      *consumed = j + 1 - i;
      return true;
    }
    if (StartsWith(s, i, "<t:")) {
      size_t p = i + 3;
      bool neg = p < s.size() && s[p] == '-';
      if (neg) ++p;
      Snowflake secs = 0;
      j = ParseId(s, p, &secs);
      if (j == std::string_view::npos || j - p > 12) return false;
      char style = 'f';
      if (j + 2 < s.size() && s[j] == ':' && std::string_view("tTdDfFR").find(s[j + 1]) != std::string_view::npos) {
        style = s[j + 1];
        j += 2;
      }
      if (j >= s.size() || s[j] != '>') return false;
      std::int64_t ms = static_cast<std::int64_t>(secs) * 1000 * (neg ? -1 : 1);
      html->append("<time class=\"ts\" data-style=\"");
      html->push_back(style);
      html->append("\" datetime=\"").append(FormatIso(ms)).append("\">");
      html->append(FormatUtcText(ms));
      html->append("</time>");
      *consumed = j + 1 - i;
      return true;
    }
    if (StartsWith(s, i, "</")) {
      // Slash-command mention </name sub:id>.
      size_t colon = s.find(':', i + 2);
      size_t gt = s.find('>', i + 2);
      if (colon == std::string_view::npos || gt == std::string_view::npos || colon > gt || gt - i > 120) return false;
      if (ParseId(s, colon + 1, &id) != gt) return false;
      html->append("<span class=\"mention\">/");
      AppendEscaped(html, s.substr(i + 2, colon - i - 2));
      html->append("</span>");
      *consumed = gt + 1 - i;
      return true;
    }
    if (StartsWith(s, i, "<https://") || StartsWith(s, i, "<http://")) {
      size_t gt = s.find('>', i);
      if (gt == std::string_view::npos) return false;
      size_t inner = 0;
      std::string link;
      if (!AutoLink(s, i + 1, gt, &link, &inner) || i + 1 + inner != gt) return false;
      html->append(link);
      *consumed = gt + 1 - i;
      return true;
    }
    return false;
  }

  MentionResolver* r_;
  NullResolver null_;
};

}  // namespace

void AppendEscaped(std::string* out, std::string_view s) {
  out->reserve(out->size() + s.size());
  for (char c : s) {
    switch (c) {
      case '&': out->append("&amp;"); break;
      case '<': out->append("&lt;"); break;
      case '>': out->append("&gt;"); break;
      case '"': out->append("&quot;"); break;
      case '\'': out->append("&#39;"); break;
      case '\0': out->append("\xEF\xBF\xBD"); break;  // NUL is a parse error in HTML
      default: out->push_back(c);
    }
  }
}

std::string Escape(std::string_view s) {
  std::string out;
  AppendEscaped(&out, s);
  return out;
}

bool IsSafeHttpUrl(std::string_view url) {
  if (!(url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0)) return false;
  if (url.size() > 2048) return false;
  for (char c : url) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\\') return false;
  }
  return true;
}

std::string RenderMarkdown(std::string_view text, MentionResolver* r) {
  std::string out;
  if (text.size() > kMaxMarkdownBytes) {
    for (char c : text) {
      if (c == '\n') out.append("<br>");
      else AppendEscaped(&out, std::string_view(&c, 1));
    }
    return out;
  }
  Renderer(r).Document(text, &out);
  return out;
}

static bool ToTm(std::int64_t ms, std::tm* tm) {
  std::int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  return gmtime_r(&t, tm) != nullptr;
}

std::string FormatUtcText(std::int64_t ms, bool seconds) {
  std::tm tm{};
  if (!ToTm(ms, &tm)) return "?";
  char buf[64];
  if (seconds)
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
  else
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min);
  return buf;
}

std::string FormatIso(std::int64_t ms) {
  std::tm tm{};
  if (!ToTm(ms, &tm)) return "1970-01-01T00:00:00Z";
  char buf[64];
  std::int64_t frac = ((ms % 1000) + 1000) % 1000;
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  return buf;
}

}  // namespace ferry::html
