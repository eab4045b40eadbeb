#include "store/utf8.hpp"
#include "exporters/html/search_index.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace ferry::html {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxTokenBytes = 32;
constexpr size_t kSpillBytes = 8192;
constexpr size_t kSnippetBytes = 200;

// Decodes one code point at s[*i]; invalid bytes come back as U+FFFD (a separator) and advance by one.
std::uint32_t NextCodePoint(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; ++k) {
    unsigned char d = static_cast<unsigned char>(s[*i + k]);
    if ((d & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  *i += len;
  return cp;
}

bool IsSeparator(std::uint32_t cp) {
  if (cp < 0x80)
    return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return true;
  if (cp >= 0x2000 && cp <= 0x2BFF) return true;
  if (cp >= 0x3000 && cp <= 0x303F) return true;
  if ((cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFF00 && cp <= 0xFF0F) || cp == 0xFFFD) return true;
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return true;
  return cp >= 0xE0000;
}

std::uint32_t Fold(std::uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

using ::ferry::AppendUtf8;

size_t Utf8Len(std::uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

std::string Base36(std::uint64_t v) {
  static const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  if (v == 0) return "0";
  std::string s;
  while (v) {
    s.push_back(digits[v % 36]);
    v /= 36;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

std::string JsString(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Snippet(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t before = i;
    std::uint32_t cp = NextCodePoint(text, &i);
    if (out.size() + Utf8Len(cp) > kSnippetBytes) {
      out.append("…");
      break;
    }
    if (cp == '\n' || cp == '\r' || cp == '\t') cp = ' ';
    if (cp == 0xFFFD && i - before == 1 && static_cast<unsigned char>(text[before]) >= 0x80) cp = 0xFFFD;
    AppendUtf8(&out, cp);
  }
  return out;
}

Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

std::vector<std::string> SearchTokens(std::string_view text) {
  std::vector<std::string> tokens;
  std::string cur;
  bool truncated = false;
  auto flush = [&]() {
    if (cur.size() > 1) tokens.push_back(cur);
    cur.clear();
    truncated = false;
  };
  size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = NextCodePoint(text, &i);
    if (IsSeparator(cp)) {
      flush();
      continue;
    }
    if (truncated) continue;
    cp = Fold(cp);
    if (cur.size() + Utf8Len(cp) > kMaxTokenBytes) {
      truncated = true;
      continue;
    }
    AppendUtf8(&cur, cp);
  }
  flush();
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  return tokens;
}

std::uint32_t SearchHash(std::string_view token) {
  std::uint32_t h = 2166136261u;
  for (char c : token) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

SearchIndexWriter::~SearchIndexWriter() {
  if (doc_file_) std::fclose(doc_file_);
  if (!tmp_.empty()) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

Status SearchIndexWriter::Open(const std::string& dir, std::int64_t expected_docs) {
  dir_ = dir;
  tmp_ = (fs::path(dir) / ".tmp").string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(tmp_, ec);
  if (ec) return Status::IoError("cannot create " + tmp_ + ": " + ec.message());
  // About 2000 messages per shard: a shard file stays in the tens of kilobytes for typical chat, and a query
  // loads one shard per word.
  shards_ = 16;
  while (shards_ < 65536 && static_cast<std::int64_t>(shards_) * 2000 < expected_docs) shards_ *= 2;
  buffers_.assign(shards_, std::string());
  return Status::Ok();
}

Status SearchIndexWriter::Spill(std::uint32_t shard) {
  std::string& b = buffers_[shard];
  if (b.empty()) return Status::Ok();
  std::string path = tmp_ + "/b" + std::to_string(shard);
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  size_t n = std::fwrite(b.data(), 1, b.size(), f);
  int rc = std::fclose(f);
  if (n != b.size() || rc != 0) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  b.clear();
  return Status::Ok();
}

Status SearchIndexWriter::CloseDocFile() {
  if (!doc_file_) return Status::Ok();
  std::fputs("]);\n", doc_file_);
  int rc = std::fclose(doc_file_);
  doc_file_ = nullptr;
  if (rc != 0) return Status::IoError("cannot write search documents in " + dir_ + ": " + std::strerror(errno));
  return Status::Ok();
}

Status SearchIndexWriter::AddDoc(int channel_index, std::uint64_t message_id, int page, std::string_view author,
                                 std::int64_t ts_ms, std::string_view text) {
  std::int64_t doc = docs_++;
  if (doc % kSearchDocsPerFile == 0) {
    FERRY_RETURN_IF_ERROR(CloseDocFile());
    std::int64_t k = doc / kSearchDocsPerFile;
    std::string path = dir_ + "/d" + std::to_string(k) + ".js";
    doc_file_ = std::fopen(path.c_str(), "wb");
    if (!doc_file_) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
    std::fprintf(doc_file_, "FerrySearch.docs(%lld,[\n", static_cast<long long>(k));
    first_in_file_ = true;
  }
  std::string line = first_in_file_ ? "[" : ",\n[";
  first_in_file_ = false;
  line += std::to_string(channel_index) + ",\"" + std::to_string(message_id) + "\"," + std::to_string(page) + "," +
          JsString(author) + "," + std::to_string(ts_ms) + "," + JsString(Snippet(text)) + "]";
  if (std::fwrite(line.data(), 1, line.size(), doc_file_) != line.size())
    return Status::IoError("cannot write search documents in " + dir_);

  std::string docstr = std::to_string(doc);
  for (const std::string& t : SearchTokens(text)) {
    std::uint32_t shard = SearchHash(t) & (shards_ - 1);
    std::string& b = buffers_[shard];
    b.append(t).push_back('\t');
    b.append(docstr).push_back('\n');
    if (b.size() >= kSpillBytes) FERRY_RETURN_IF_ERROR(Spill(shard));
  }
  return Status::Ok();
}

Status SearchIndexWriter::Finish(const std::vector<SearchChannel>& channels) {
  FERRY_RETURN_IF_ERROR(CloseDocFile());
  for (std::uint32_t shard = 0; shard < shards_; ++shard) {
    std::string data;
    std::string path = tmp_ + "/b" + std::to_string(shard);
    {
      std::ifstream f(path, std::ios::binary);
      if (f) data.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    data += buffers_[shard];
    std::string().swap(buffers_[shard]);
    std::vector<std::pair<std::string_view, std::uint64_t>> postings;
    std::string_view d(data);
    size_t p = 0;
    while (p < d.size()) {
      size_t tab = d.find('\t', p), nl = d.find('\n', p);
      if (tab == std::string_view::npos || nl == std::string_view::npos || tab > nl) break;
      postings.emplace_back(d.substr(p, tab - p), std::stoull(std::string(d.substr(tab + 1, nl - tab - 1))));
      p = nl + 1;
    }
    // Docs were appended in increasing order, so a stable sort by token leaves each posting list ascending.
    std::stable_sort(postings.begin(), postings.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out = "FerrySearch.shard(" + std::to_string(shard) + ",{";
    size_t i = 0;
    bool first = true;
    while (i < postings.size()) {
      size_t j = i;
      std::string list;
      std::uint64_t prev = 0;
      for (; j < postings.size() && postings[j].first == postings[i].first; ++j) {
        if (j > i) list.push_back(',');
        list += Base36(postings[j].second - prev);
        prev = postings[j].second;
      }
      out += first ? "\n" : ",\n";
      first = false;
      out += JsString(postings[i].first) + ":\"" + list + "\"";
      i = j;
    }
    out += "});\n";
    FERRY_RETURN_IF_ERROR(WriteFile(dir_ + "/t" + std::to_string(shard) + ".js", out));
  }
  nlohmann::ordered_json meta;
  meta["version"] = 1;
  meta["shards"] = shards_;
  meta["docsPerFile"] = kSearchDocsPerFile;
  meta["docs"] = docs_;
  meta["maxTokenBytes"] = kMaxTokenBytes;
  auto& ch = meta["channels"] = nlohmann::ordered_json::array();
  for (const SearchChannel& c : channels) ch.push_back({c.name, c.guild, c.page_prefix});
  FERRY_RETURN_IF_ERROR(WriteFile(dir_ + "/meta.js", "FerrySearch.meta(" +
                                                         meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                                                         ");\n"));
  std::error_code ec;
  fs::remove_all(tmp_, ec);
  tmp_.clear();
  return Status::Ok();
}

}  // namespace ferry::html
