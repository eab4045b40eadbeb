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
constexpr size_t kSnippetBytes = 200;
// Runs merged at once: each open run costs one read buffer, so this bounds the merge's memory; more runs
// than this are merged in several passes.
constexpr size_t kFanIn = 64;
constexpr size_t kIoBuffer = 64 << 10;

// A run record (temporary files only, so native byte order): u32 shard, u8 token length, token, u64 doc.
constexpr size_t kRecordHeader = 5;
constexpr size_t kRecordMax = kRecordHeader + kMaxTokenBytes + 8;

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

std::uint32_t RecordShard(const char* r) {
  std::uint32_t v;
  std::memcpy(&v, r, 4);
  return v;
}
std::string_view RecordToken(const char* r) { return {r + kRecordHeader, static_cast<unsigned char>(r[4])}; }
size_t RecordSize(const char* r) { return kRecordHeader + static_cast<unsigned char>(r[4]) + 8; }

void AppendRecord(std::string* out, std::uint32_t shard, std::string_view token, std::uint64_t doc) {
  char head[kRecordHeader];
  std::memcpy(head, &shard, 4);
  head[4] = static_cast<char>(token.size());
  out->append(head, kRecordHeader);
  out->append(token);
  char d[8];
  std::memcpy(d, &doc, 8);
  out->append(d, 8);
}

// Buffered writer of run records (or of any bytes) to one file.
class OutFile {
 public:
  ~OutFile() {
    if (f_) std::fclose(f_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
    buf_.reserve(kIoBuffer + kRecordMax);
    return Status::Ok();
  }
  std::string& buf() { return buf_; }
  Status MaybeFlush() { return buf_.size() >= kIoBuffer ? Flush() : Status::Ok(); }
  Status Close() {
    Status st = Flush();
    int rc = f_ ? std::fclose(f_) : 0;
    f_ = nullptr;
    if (st.ok() && rc != 0) return Status::IoError("cannot write " + path_ + ": " + std::strerror(errno));
    return st;
  }

 private:
  Status Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
      return Status::IoError("cannot write " + path_ + ": " + std::strerror(errno));
    buf_.clear();
    return Status::Ok();
  }
  std::string path_, buf_;
  std::FILE* f_ = nullptr;
};

// Reads a run file record by record through a fixed buffer; token() stays valid until the next Next().
class RunReader {
 public:
  RunReader() = default;
  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;
  ~RunReader() {
    if (f_) std::fclose(f_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
    buf_.resize(kIoBuffer);
    return Status::Ok();
  }
  // Moves to the next record: false at the end of the run, or on an error (then *st says which).
  bool Next(Status* st) {
    if (!Fill(kRecordHeader, st)) return false;
    size_t size = RecordSize(buf_.data() + pos_);
    if (static_cast<unsigned char>(buf_[pos_ + 4]) > kMaxTokenBytes || !Fill(size, st)) {
      if (st->ok()) *st = Status::IoError("search index run " + path_ + " is truncated");
      return false;
    }
    const char* r = buf_.data() + pos_;
    shard_ = RecordShard(r);
    token_ = RecordToken(r);
    std::memcpy(&doc_, r + kRecordHeader + token_.size(), 8);
    pos_ += size;
    return true;
  }
  std::uint32_t shard() const { return shard_; }
  std::string_view token() const { return token_; }
  std::uint64_t doc() const { return doc_; }

 private:
  // Makes `need` bytes available at pos_; false (with *st still ok) at a clean end of file.
  bool Fill(size_t need, Status* st) {
    if (end_ - pos_ >= need) return true;
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    while (end_ < need) {
      size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_);
      if (n == 0) {
        if (std::ferror(f_)) *st = Status::IoError("cannot read " + path_ + ": " + std::strerror(errno));
        else if (end_ != 0) *st = Status::IoError("search index run " + path_ + " is truncated");
        return false;
      }
      end_ += n;
    }
    return true;
  }
  std::string path_;
  std::FILE* f_ = nullptr;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  std::uint32_t shard_ = 0;
  std::string_view token_;
  std::uint64_t doc_ = 0;
};

// Merges sorted runs into one stream ordered by (shard, token, run): runs hold increasing doc ranges, so each
// token's docs come out ascending. `sink(shard, token, doc)` returns a Status.
template <typename Sink>
Status MergeRuns(const std::vector<std::string>& paths, Sink&& sink) {
  std::vector<RunReader> readers(paths.size());
  std::vector<size_t> heap;
  Status st;
  for (size_t i = 0; i < paths.size(); ++i) {
    FERRY_RETURN_IF_ERROR(readers[i].Open(paths[i]));
    if (readers[i].Next(&st)) heap.push_back(i);
    FERRY_RETURN_IF_ERROR(st);
  }
  auto less = [&](size_t a, size_t b) {
    const RunReader &x = readers[a], &y = readers[b];
    if (x.shard() != y.shard()) return x.shard() < y.shard();
    int c = x.token().compare(y.token());
    return c != 0 ? c < 0 : a < b;
  };
  auto sift_down = [&](size_t i) {
    for (;;) {
      size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < heap.size() && less(heap[l], heap[m])) m = l;
      if (r < heap.size() && less(heap[r], heap[m])) m = r;
      if (m == i) return;
      std::swap(heap[i], heap[m]);
      i = m;
    }
  };
  for (size_t i = heap.size() / 2; i-- > 0;) sift_down(i);
  std::string token;
  while (!heap.empty()) {
    RunReader& top = readers[heap[0]];
    std::uint32_t shard = top.shard();
    token.assign(top.token());
    FERRY_RETURN_IF_ERROR(sink(shard, std::string_view(token), top.doc()));
    if (!top.Next(&st)) {
      FERRY_RETURN_IF_ERROR(st);
      heap[0] = heap.back();
      heap.pop_back();
      if (!heap.empty()) sift_down(0);
    } else if (top.shard() != shard || top.token() != token) {
      // Same key from the same run is still the smallest (ties go to the lower run): only a new key moves.
      sift_down(0);
    }
  }
  return Status::Ok();
}

// Writes t<shard>.js for every shard in order from the merged stream, one posting list at a time.
class ShardWriter {
 public:
  ShardWriter(std::string dir, std::uint32_t shards) : dir_(std::move(dir)), shards_(shards) {}
  Status Add(std::uint32_t shard, std::string_view token, std::uint64_t doc) {
    while (cur_ < static_cast<std::int64_t>(shard)) {
      FERRY_RETURN_IF_ERROR(EndShard());
      ++cur_;
      FERRY_RETURN_IF_ERROR(BeginShard());
    }
    std::string& b = out_.buf();
    if (!have_token_ || token != token_) {
      if (have_token_) b.push_back('"');
      b += first_token_ ? "\n" : ",\n";
      first_token_ = false;
      b += JsString(token);
      b += ":\"";
      token_.assign(token);
      have_token_ = true;
      prev_ = 0;
    } else {
      b.push_back(',');
    }
    b += Base36(doc - prev_);
    prev_ = doc;
    return out_.MaybeFlush();
  }
  // Ends the last shard and writes the (empty) shards after it.
  Status Close() {
    while (cur_ < static_cast<std::int64_t>(shards_) - 1) {
      FERRY_RETURN_IF_ERROR(EndShard());
      ++cur_;
      FERRY_RETURN_IF_ERROR(BeginShard());
    }
    return EndShard();
  }

 private:
  Status BeginShard() {
    FERRY_RETURN_IF_ERROR(out_.Open(dir_ + "/t" + std::to_string(cur_) + ".js"));
    out_.buf() += "FerrySearch.shard(" + std::to_string(cur_) + ",{";
    open_ = true;
    first_token_ = true;
    have_token_ = false;
    return Status::Ok();
  }
  Status EndShard() {
    if (!open_) return Status::Ok();
    open_ = false;
    if (have_token_) out_.buf().push_back('"');
    out_.buf() += "});\n";
    return out_.Close();
  }
  std::string dir_;
  std::uint32_t shards_;
  std::int64_t cur_ = -1;
  OutFile out_;
  bool open_ = false, first_token_ = true, have_token_ = false;
  std::string token_;
  std::uint64_t prev_ = 0;
};

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

Status SearchIndexWriter::Open(const std::string& dir, std::int64_t expected_docs, size_t run_bytes) {
  dir_ = dir;
  run_bytes_ = std::max<size_t>(run_bytes, kRecordMax + 4);
  tmp_ = (fs::path(dir) / ".tmp").string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(tmp_, ec);
  if (ec) return Status::IoError("cannot create " + tmp_ + ": " + ec.message());
  // About 2000 messages per shard: a shard file stays in the tens of kilobytes for typical chat, and a query
  // loads one shard per word.
  shards_ = 16;
  while (shards_ < 65536 && static_cast<std::int64_t>(shards_) * 2000 < expected_docs) shards_ *= 2;
  pending_.clear();
  pending_.reserve(run_bytes_);  // reserved up front so growth never doubles past the budget
  offsets_.clear();
  runs_.clear();
  runs_written_ = 0;
  return Status::Ok();
}

std::string SearchIndexWriter::RunPath(size_t n) const { return tmp_ + "/r" + std::to_string(n); }

Status SearchIndexWriter::SpillRun() {
  if (offsets_.empty()) return Status::Ok();
  const char* base = pending_.data();
  // Records were appended in doc order, so the offset breaks ties and keeps each token's docs ascending.
  std::sort(offsets_.begin(), offsets_.end(), [base](std::uint32_t a, std::uint32_t b) {
    std::uint32_t sa = RecordShard(base + a), sb = RecordShard(base + b);
    if (sa != sb) return sa < sb;
    int c = RecordToken(base + a).compare(RecordToken(base + b));
    return c != 0 ? c < 0 : a < b;
  });
  std::string path = RunPath(runs_written_++);
  OutFile f;
  FERRY_RETURN_IF_ERROR(f.Open(path));
  for (std::uint32_t off : offsets_) {
    f.buf().append(base + off, RecordSize(base + off));
    FERRY_RETURN_IF_ERROR(f.MaybeFlush());
  }
  FERRY_RETURN_IF_ERROR(f.Close());
  runs_.push_back(path);
  pending_.clear();
  offsets_.clear();
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

  for (const std::string& t : SearchTokens(text)) {
    if (pending_.size() + kRecordMax + (offsets_.size() + 1) * sizeof(std::uint32_t) > run_bytes_)
      FERRY_RETURN_IF_ERROR(SpillRun());
    offsets_.push_back(static_cast<std::uint32_t>(pending_.size()));
    AppendRecord(&pending_, SearchHash(t) & (shards_ - 1), t, static_cast<std::uint64_t>(doc));
  }
  return Status::Ok();
}

Status SearchIndexWriter::Finish(const std::vector<SearchChannel>& channels) {
  FERRY_RETURN_IF_ERROR(CloseDocFile());
  FERRY_RETURN_IF_ERROR(SpillRun());
  std::string().swap(pending_);
  std::vector<std::uint32_t>().swap(offsets_);
  // Merge in groups of kFanIn until one pass can take all runs; groups keep their doc order.
  while (runs_.size() > kFanIn) {
    std::vector<std::string> next;
    for (size_t g = 0; g < runs_.size(); g += kFanIn) {
      std::vector<std::string> group(runs_.begin() + g, runs_.begin() + std::min(runs_.size(), g + kFanIn));
      if (group.size() == 1) {
        next.push_back(group[0]);
        continue;
      }
      std::string path = RunPath(runs_written_++);
      OutFile f;
      FERRY_RETURN_IF_ERROR(f.Open(path));
      FERRY_RETURN_IF_ERROR(MergeRuns(group, [&f](std::uint32_t shard, std::string_view token, std::uint64_t doc) {
        AppendRecord(&f.buf(), shard, token, doc);
        return f.MaybeFlush();
      }));
      FERRY_RETURN_IF_ERROR(f.Close());
      std::error_code ec;
      for (const std::string& r : group) fs::remove(r, ec);  // leftovers go with the temp folder
      next.push_back(path);
    }
    runs_ = std::move(next);
  }
  ShardWriter shards(dir_, shards_);
  FERRY_RETURN_IF_ERROR(MergeRuns(runs_, [&shards](std::uint32_t shard, std::string_view token, std::uint64_t doc) {
    return shards.Add(shard, token, doc);
  }));
  FERRY_RETURN_IF_ERROR(shards.Close());
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
