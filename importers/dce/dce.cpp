#include "importers/dce/dce.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <thread>

#include <simdjson.h>

#include "importers/dce/mapper.hpp"
#include "importers/dce/reader.hpp"
#include "importers/dce/sha256.hpp"
#include "store/snowflake.hpp"
#include "store/timestamp.hpp"

namespace fs = std::filesystem;

namespace ferry::dce {
namespace {

constexpr std::size_t kMaxWarnings = 200;
// Files imported side by side (each holds an open file, a reader buffer and its own caches).
constexpr std::size_t kFilesPerGroup = 64;
const char* kQuickKeyPrefix = "dce.file:";

struct FileEntry {
  std::string path;  // as found
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
};

std::string Basename(const std::string& p) {
  auto s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

bool EndsWithJson(const std::string& name) {
  if (name.size() < 5) return false;
  std::string ext = name.substr(name.size() - 5);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".json";
}

bool StatFile(const std::string& p, FileEntry* e) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return false;
  e->size = st.st_size;
  e->mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  return true;
}

// ---- the writer thread -----------------------------------------------------------------------------------

// The batches of one group, one per input file read side by side.
using Group = std::vector<std::unique_ptr<Batch>>;

// Writes one group inside the open transaction.
Status WriteGroup(Store& store, Group& group, std::int64_t* blobs_copied) {
  for (auto& bp : group) {
    Batch& b = *bp;
    for (auto& bc : b.blobs) {
      std::string sha;
      std::int64_t size = 0;
      Status st = store.PutBlobFile(bc.path, &sha, &size);
      if (st.IsNotFound()) continue;  // vanished since the mapper hashed it: stays a gap in effect
      FERRY_RETURN_IF_ERROR(st);
      ++*blobs_copied;
    }
    for (auto& [g, src] : b.guilds) FERRY_RETURN_IF_ERROR(store.UpsertGuild(g, src));
    for (auto& [c, src] : b.channels) FERRY_RETURN_IF_ERROR(store.UpsertChannel(c, src));
    for (auto& r : b.roles) FERRY_RETURN_IF_ERROR(store.UpsertRole(r, b.src));
    for (auto& u : b.users) FERRY_RETURN_IF_ERROR(store.UpsertUser(u, b.src));
    for (auto& m : b.members) FERRY_RETURN_IF_ERROR(store.UpsertMember(m, b.src));
    FERRY_RETURN_IF_ERROR(store.UpsertMessages(b.messages, b.src));
    for (auto& f : b.run_files) FERRY_RETURN_IF_ERROR(store.SetRunFile(b.src.run_id, f.file, f.sha256, f.status, f.detail));
    for (auto& [k, v] : b.meta) FERRY_RETURN_IF_ERROR(store.PutMeta(k, v));
  }
  return Status::Ok();
}

// Hands groups of batches from the parsing thread to one writer thread; at most two wait, so memory stays flat.
class Writer {
 public:
  // A transaction holds whole groups, at least `tx_messages` messages (the last one fewer): every commit
  // rewrites the tail pages of each table and index, so small transactions write the same pages many times.
  Writer(Store& store, bool threaded, std::size_t tx_messages)
      : store_(store), threaded_(threaded), tx_messages_(std::max<std::size_t>(tx_messages, 1)) {
    if (threaded_)
      thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "ferry-writer");
        Loop();
      });
  }
  ~Writer() { Close(); }

  void Push(Group b) {
    if (!threaded_) {
      if (failed_) return;
      Status st = Write(b);
      if (!st.ok()) Fail(st);
      return;
    }
    std::vector<Group> spent;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return q_.size() < 2 || failed_; });
      spent.swap(spent_);
      if (failed_) return;
      q_.push_back(std::move(b));
      cv_.notify_all();
    }
    // `spent` is freed here, on the parsing thread: the writer is the import's bottleneck, and freeing a
    // batch of 5,000 messages (their strings, JSON and collections) was a twentieth of its time.
  }

  // Waits until every pushed batch is written and committed.
  void Close() {
    if (threaded_) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        closed_ = true;
        cv_.notify_all();
      }
      if (thread_.joinable()) thread_.join();
    }
    if (!failed_) {
      Status st = CommitOpen();
      if (!st.ok()) Fail(st);
    }
  }

  bool failed() const { return failed_; }
  Status error() const { return error_; }
  std::int64_t blobs_copied() const { return blobs_copied_; }

 private:
  void Loop() {
    for (;;) {
      Group b;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !q_.empty() || closed_; });
        if (q_.empty()) return;
        b = std::move(q_.front());
        q_.pop_front();
        cv_.notify_all();
      }
      if (failed_) continue;
      Status st = Write(b);
      std::lock_guard<std::mutex> lock(mu_);
      spent_.push_back(std::move(b));
      if (!st.ok()) {
        Fail(st);
        cv_.notify_all();
      }
    }
  }
  Status Write(Group& g) {
    if (!tx_open_) {
      FERRY_RETURN_IF_ERROR(store_.Begin());
      tx_open_ = true;
      in_tx_ = 0;
    }
    Status st = WriteGroup(store_, g, &blobs_copied_);
    if (!st.ok()) {
      tx_open_ = false;
      store_.Rollback();
      return st;
    }
    for (auto& b : g) in_tx_ += b->messages.size();
    return in_tx_ >= tx_messages_ ? CommitOpen() : Status::Ok();
  }
  Status CommitOpen() {
    if (!tx_open_) return Status::Ok();
    tx_open_ = false;
    Status st = store_.Commit();
    if (!st.ok()) store_.Rollback();
    return st;
  }
  void Fail(const Status& st) {
    error_ = st;
    failed_ = true;
  }

  Store& store_;
  bool threaded_;
  std::size_t tx_messages_;
  bool tx_open_ = false;
  std::size_t in_tx_ = 0;  // messages written in the open transaction
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Group> q_;
  std::vector<Group> spent_;  // written groups, freed by the next Push (or with the Writer)
  bool closed_ = false;
  std::atomic<bool> failed_{false};
  Status error_;
  std::int64_t blobs_copied_ = 0;
};

// ---- the import -----------------------------------------------------------------------------------------

class Importer {
 public:
  Importer(Store& store, const DceImportOptions& opts, Progress& progress, DceImportResult* res)
      : store_(store), opts_(opts), progress_(progress), res_(res) {}

  Status Run(const std::vector<std::string>& paths);

 private:
  void Warn(const std::string& w) {
    ++res_->warnings_total;
    if (res_->warnings.size() < kMaxWarnings) res_->warnings.push_back(w);
    progress_.Note("warning: " + w);
  }
  void FailFile(const std::string& file, const std::string& why, bool record) {
    ++res_->files_failed;
    res_->failed.emplace_back(file, why);
    progress_.Note("error: " + why);
    if (record) store_.SetRunFile(run_.id, file, "", "failed", Json{{"error", why}});
  }
  bool Interrupted() const { return opts_.interrupted && opts_.interrupted(); }
  void Expand(const std::vector<std::string>& paths, std::vector<FileEntry>* files);
  struct Cursor;
  // Reads the header of a file to import; nullptr (the failure recorded) when it is not a usable export.
  std::unique_ptr<Cursor> Open(const FileEntry& f, const std::string& known_sha, std::size_t chunk);
  void NewBatch(Cursor& c);
  void Advance(Cursor& c);     // reads and parses the file's next message
  void MapCurrent(Cursor& c);  // maps the message Advance read into the file's batch
  void FinishCursor(Cursor& c);  // the file ended: trailer checks, warnings, its "done" record
  // Imports files side by side, in message id order across them (see the comment inside).
  Status ImportGroup(const std::vector<std::pair<FileEntry, std::string>>& files);
  static std::int64_t MappedInGroup(const std::vector<std::unique_ptr<Cursor>>& cursors);
  // Messages parsed before the writer gets them: a transaction (`batch_messages`) holds several of these
  // hand-offs, so the parsed messages waiting in memory stay few however large transactions are.
  std::size_t group_messages() const {
    return std::min<std::size_t>(static_cast<std::size_t>(std::max(opts_.batch_messages, 1)), kHandOffMessages);
  }
  static constexpr std::size_t kHandOffMessages = 2000;
  std::optional<std::int64_t> NewestMessageMs(const std::string& path);

  Store& store_;
  const DceImportOptions& opts_;
  Progress& progress_;
  DceImportResult* res_;
  ImportRun run_;
  std::shared_ptr<MapperRunState> run_state_ = std::make_shared<MapperRunState>();
  std::size_t first_batch_share_ = 0;  // messages a file's first batch is sized for
  simdjson::dom::parser parser_;  // NewestMessageMs
  std::int64_t total_bytes_ = 0, done_bytes_ = 0;
  bool interrupted_ = false;
  Json formats_ = Json::object();
  std::vector<std::string> file_hashes_;
};

void Importer::Expand(const std::vector<std::string>& paths, std::vector<FileEntry>* files) {
  for (const auto& p : paths) {
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      FailFile(p, p + ": no such file or directory", false);
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        const auto& ent = *it;
        std::string name = ent.path().filename().string();
        std::error_code e2;
        if (ent.is_directory(e2)) {
          // DCE media folders (`<file>.json_Files/`) hold Lottie stickers as .json: never exports.
          if (name.size() > 6 && name.compare(name.size() - 6, 6, "_Files") == 0) it.disable_recursion_pending();
          continue;
        }
        if (ent.is_regular_file(e2) && EndsWithJson(name)) found.push_back(ent.path().string());
      }
      if (ec) Warn(p + ": cannot list the whole folder: " + ec.message());
      std::sort(found.begin(), found.end());
      for (auto& f : found) {
        std::string why;
        if (!LooksLikeDce(f, &why)) {
          ++res_->files_ignored;
          res_->ignored.emplace_back(f, why);
          continue;
        }
        FileEntry e;
        e.path = f;
        if (StatFile(f, &e)) files->push_back(e);
      }
    } else {
      FileEntry e;
      e.path = p;
      if (!StatFile(p, &e)) {
        FailFile(p, p + ": cannot read the file", false);
        continue;
      }
      files->push_back(e);
    }
  }
}

std::optional<std::int64_t> Importer::NewestMessageMs(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  DceReader reader([fd](char* b, std::size_t n) -> long { return ::read(fd, b, n); }, path);
  DceHeader h;
  std::optional<std::int64_t> newest;
  if (reader.ReadHeader(&h).ok()) {
    std::string_view v;
    std::uint64_t off;
    simdjson::dom::element doc;
    simdjson::error_code err;
    while (reader.NextParsedMessage(parser_, &v, &off, &doc, &err) == DceReader::Next::kMessage) {
      if (err) continue;
      std::string_view ts;
      if (doc["timestamp"].get(ts)) continue;
      if (auto ms = ParseTimestampMs(ts))
        if (!newest || *ms > *newest) newest = *ms;
    }
  }
  ::close(fd);
  return newest;
}

// One input file of a group: its reader, parser and mapper, the batch its records are collected in, and the
// message read ahead, whose id decides which file of the group goes next.
struct Importer::Cursor {
  explicit Cursor(std::shared_ptr<MapperRunState> run) : mapper(std::move(run)) {}
  ~Cursor() {
    if (fd >= 0) ::close(fd);
  }
  FileEntry f;
  std::string known_sha, label;
  int fd = -1;
  Sha256 sha;
  std::int64_t file_done = 0;
  std::unique_ptr<DceReader> reader;
  simdjson::dom::parser parser;
  Mapper mapper;
  FileContext ctx;
  Json detail = Json::object();
  std::unique_ptr<Batch> batch;
  std::size_t last_batch_messages = 0;
  std::int64_t index = 0, mapped = 0, skipped = 0;
  DceReader::Next how = DceReader::Next::kEnd;
  std::string_view view;
  std::uint64_t offset = 0;
  simdjson::dom::element doc;
  simdjson::error_code perr = simdjson::SUCCESS;
  std::uint64_t key = 0;
  bool finished = false;
};

void Importer::NewBatch(Cursor& c) {
  c.batch = std::make_unique<Batch>();
  // Sized from the file's share of the last group: growing it message by message moved every message
  // several times per batch, and sizing every file's batch for a whole group would hold memory for nothing.
  c.batch->messages.reserve(c.last_batch_messages + c.last_batch_messages / 4 + 8);
  c.batch->src = c.ctx.src;
}

void Importer::Advance(Cursor& c) {
  c.how = c.reader->NextParsedMessage(c.parser, &c.view, &c.offset, &c.doc, &c.perr);
  if (c.how != DceReader::Next::kMessage) return;
  ++c.index;
  std::string_view id;
  if (!c.perr && !c.doc["id"].get(id))
    if (auto v = ParseSnowflake(id)) c.key = *v;  // else: keeps its place after the file's previous message
}

std::unique_ptr<Importer::Cursor> Importer::Open(const FileEntry& f, const std::string& known_sha,
                                                 std::size_t chunk) {
  const std::string& file = f.path;
  auto c = std::make_unique<Cursor>(run_state_);
  c->f = f;
  c->known_sha = known_sha;
  c->fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (c->fd < 0) {
    FailFile(file, file + ": cannot open: " + std::strerror(errno), true);
    return nullptr;
  }
  Cursor* cp = c.get();
  c->reader = std::make_unique<DceReader>(
      [cp](char* b, std::size_t n) -> long {
        ssize_t r = ::read(cp->fd, b, n);
        if (r > 0) {
          cp->sha.Update(b, static_cast<std::size_t>(r));
          cp->file_done += r;
        }
        return r;
      },
      file, chunk);
  DceHeader header;
  Status hs = c->reader->ReadHeader(&header);
  if (!hs.ok()) {
    FailFile(file, hs.message(), true);
    return nullptr;
  }
  // Header values are small: parse each on its own.
  auto header_value = [&](const char* key, simdjson::padded_string* keep, simdjson::dom::parser* p,
                          simdjson::dom::element* out) -> bool {
    const std::string* raw = header.Find(key);
    if (!raw) return false;
    *keep = simdjson::padded_string(*raw);
    return !p->parse(*keep).get(*out);
  };
  simdjson::dom::parser gp, cp2;
  simdjson::padded_string gs, cs;
  simdjson::dom::element guild, channel;
  if (!header_value("guild", &gs, &gp, &guild) || !header_value("channel", &cs, &cp2, &channel)) {
    FailFile(file, file + ": \"guild\"/\"channel\" header is not valid JSON; not a DCE export", true);
    return nullptr;
  }

  Json& detail = c->detail;
  detail["size"] = f.size;
  std::int64_t source_ms = 0;
  const std::string* exported = header.Find("exportedAt");
  std::optional<std::int64_t> exported_ms;
  if (exported) {
    std::string t = DecodeJsonStringToken(*exported);
    detail["exported_at"] = t;
    exported_ms = ParseTimestampMs(t);
  }
  if (exported_ms) {
    source_ms = *exported_ms;
  } else {
    // Legacy export (before DCE 2.40.1): like DCEF, date it by its newest message.
    auto newest = NewestMessageMs(file);
    source_ms = newest.value_or(0);
    detail["source_time"] = "newest message (no exportedAt)";
    Warn(file + ": no \"exportedAt\" (DCE before 2.40.1); dated by its newest message " +
         (newest ? FormatDceTimestamp(*newest) : std::string("(none)")) + " for merging");
  }
  if (const std::string* dr = header.Find("dateRange")) detail["date_range"] = Json::parse(*dr, nullptr, false);

  FileContext& ctx = c->ctx;
  ctx.file = file;
  auto slash = file.find_last_of('/');
  ctx.dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : file.substr(0, slash));
  {
    std::error_code ec;
    std::string own = file + "_Files";
    if (fs::is_directory(own, ec)) ctx.media_dirs.push_back(own);
    // Partitions "<base> [part N].json" share "<base>.json_Files/".
    auto p = file.rfind(" [part ");
    if (p != std::string::npos && EndsWithJson(file)) {
      std::string base = file.substr(0, p) + ".json_Files";
      if (fs::is_directory(base, ec)) ctx.media_dirs.push_back(base);
    }
  }
  ctx.src = Source{run_.id, source_ms};
  c->mapper.BeginFile(ctx);
  c->last_batch_messages = first_batch_share_;
  NewBatch(*c);
  std::string err;
  if (!c->mapper.MapHeader(guild, channel, c->batch.get(), &err)) {
    FailFile(file, err, true);
    return nullptr;
  }
  c->batch->run_files.push_back({file, known_sha, "running", detail});
  c->label = Basename(file);
  if (c->label.size() > 40) c->label = c->label.substr(0, 37) + "...";
  Advance(*c);
  return c;
}

void Importer::MapCurrent(Cursor& c) {
  if (c.perr) {
    Warn(c.f.path + ": message #" + std::to_string(c.index) + " at byte " + std::to_string(c.offset) +
         " is not valid JSON (" + simdjson::error_message(c.perr) + "); skipped");
    ++c.skipped;
    return;
  }
  std::string warning;
  if (!c.mapper.MapMessage(c.doc, c.offset, c.index, c.batch.get(), &warning)) {
    Warn(warning);
    ++c.skipped;
  } else {
    ++c.mapped;
  }
}

void Importer::FinishCursor(Cursor& c) {
  const std::string& file = c.f.path;
  Json& detail = c.detail;
  c.finished = true;
  for (auto& n : c.mapper.TakeNotes()) Warn(n);
  res_->messages += c.mapped;
  res_->messages_skipped += c.skipped;
  DceReader& reader = *c.reader;
  std::vector<std::pair<std::string, std::string>> trailer;
  if (c.how == DceReader::Next::kEnd) {
    auto t = reader.ReadTrailer(&trailer);
    if (t == DceReader::Next::kTruncated)
      Warn(file + ": the document is not closed after the messages array (ends at byte " +
           std::to_string(reader.error_offset()) + "); all " + std::to_string(c.mapped) + " messages were imported");
    else if (t == DceReader::Next::kCorrupt)
      Warn(file + ": unexpected data at byte " + std::to_string(reader.error_offset()) +
           " after the messages array; ignored");
    for (auto& [k, v] : trailer)
      if (k == "messageCount") {
        detail["message_count"] = Json::parse(v, nullptr, false);
        auto mc = detail["message_count"];
        if (mc.is_number_integer() && mc.get<std::int64_t>() != c.index)
          Warn(file + ": messageCount says " + v + " but the file holds " + std::to_string(c.index) + " messages");
      }
  } else if (c.how == DceReader::Next::kTruncated) {
    detail["truncated_at"] = reader.good_offset();
    Warn(file + ": truncated (interrupted export?): the file ends at byte " + std::to_string(reader.bytes_read()) +
         " inside message #" + std::to_string(c.index + 1) + ", which starts at byte " +
         std::to_string(reader.error_offset()) + "; the " + std::to_string(c.mapped) +
         " complete messages before it were imported");
  } else if (c.how == DceReader::Next::kCorrupt || c.how == DceReader::Next::kTooLarge) {
    detail["corrupt_at"] = reader.error_offset();
    Warn(file + ": " + (c.how == DceReader::Next::kTooLarge ? "a message larger than 256 MB" : "invalid JSON") +
         " at byte " + std::to_string(reader.error_offset()) + " (after message #" + std::to_string(c.index) +
         "); stopped there, the " + std::to_string(c.mapped) + " messages before it were imported");
  } else if (c.how == DceReader::Next::kIoError) {
    // The writer may be busy with this group's previous batches: the failure is recorded through the batch.
    std::string why = file + ": read error at byte " + std::to_string(reader.error_offset());
    FailFile(file, why, false);
    c.batch->run_files.push_back({file, "", "failed", Json{{"error", why}}});
    return;
  }
  // Hash the rest of the file too (after a corrupt spot), so the sha256 is of the whole input.
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(c.fd, buf, sizeof buf);
    if (r <= 0) break;
    c.sha.Update(buf, static_cast<std::size_t>(r));
    c.file_done += r;
  }
  std::string digest = c.sha.HexDigest();
  detail["messages"] = c.mapped;
  detail["messages_skipped"] = c.skipped;
  detail["content_format"] = c.mapper.FileContentFormat();
  formats_[file] = c.mapper.FileContentFormat();
  c.batch->run_files.push_back({file, digest, "done", detail});
  char quick[128];
  std::snprintf(quick, sizeof quick, "%lld %lld ", static_cast<long long>(c.f.size),
                static_cast<long long>(c.f.mtime_ns));
  std::error_code ec;
  auto abs = fs::absolute(file, ec);
  c.batch->meta.emplace_back(kQuickKeyPrefix + (ec ? file : abs.lexically_normal().string()), quick + digest);
  file_hashes_.push_back(digest);
  ++res_->files_imported;
  ::close(c.fd);
  c.fd = -1;
}

Status Importer::ImportGroup(const std::vector<std::pair<FileEntry, std::string>>& files) {
  // Every file's reader is open at once, so their buffers share a budget (a message larger than its
  // reader's chunk still grows that one buffer, up to the 256 MB cap).
  const std::size_t chunk = std::clamp<std::size_t>((4u << 20) / std::max<std::size_t>(files.size(), 1), 64u << 10,
                                                    1u << 20);
  std::vector<std::unique_ptr<Cursor>> cursors;
  first_batch_share_ = group_messages() / std::max<std::size_t>(files.size(), 1);
  // Opened before the writer starts: a file that fails here records its failure in the store directly.
  for (const auto& [f, sha] : files) {
    if (auto c = Open(f, sha, chunk)) cursors.push_back(std::move(c));
    else done_bytes_ += f.size;
  }
  auto bytes_now = [&]() {
    std::int64_t b = 0;
    for (auto& c : cursors) b += c->finished ? c->f.size : c->file_done;
    return b;
  };

  // The files' messages are written in id order across the files (each DCE export is in id order):
  // messages, attachments, reactions… are all keyed by message id, so writing one channel's file after
  // another inserted every file into the middle of the rows of the files before it and rewrote nearly
  // every page of those tables once per file (8 channels: 4.3 GB of log for a 1.2 GB store).
  auto later = [](const Cursor* a, const Cursor* b) { return a->key > b->key; };
  std::vector<Cursor*> heap;
  for (auto& c : cursors) {
    if (c->how == DceReader::Next::kMessage) heap.push_back(c.get());
    else FinishCursor(*c);
  }
  std::make_heap(heap.begin(), heap.end(), later);

  Writer writer(store_, opts_.two_threads, static_cast<std::size_t>(opts_.batch_messages));
  int in_group = 0;
  bool stopped_early = false;
  std::string label = cursors.size() == 1 ? cursors[0]->label : std::to_string(cursors.size()) + " files";
  auto push = [&]() {
    Group g;
    for (auto& c : cursors) {
      if (!c->batch) continue;
      for (auto& n : c->mapper.TakeNotes()) Warn(n);
      c->last_batch_messages = c->batch->messages.size();
      g.push_back(std::move(c->batch));
      if (!c->finished) NewBatch(*c);
    }
    if (!g.empty()) writer.Push(std::move(g));
    in_group = 0;
    progress_.Update(label, done_bytes_ + bytes_now(), total_bytes_, res_->messages + MappedInGroup(cursors));
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Cursor* c = heap.back();
    MapCurrent(*c);
    ++in_group;
    Advance(*c);
    if (c->how == DceReader::Next::kMessage) {
      std::push_heap(heap.begin(), heap.end(), later);
    } else {
      heap.pop_back();
      FinishCursor(*c);
    }
    if (static_cast<std::size_t>(in_group) >= group_messages()) {
      push();
      if (writer.failed()) break;
      if (Interrupted()) {
        stopped_early = true;
        break;
      }
    }
  }
  if (!stopped_early && !writer.failed()) push();
  if (stopped_early && !writer.failed()) interrupted_ = true;  // the last full group was already pushed
  writer.Close();
  res_->blobs_copied += writer.blobs_copied();
  for (auto& c : cursors)
    if (!c->finished) {  // stopped early: what was mapped of it is in the store
      res_->messages += c->mapped;
      res_->messages_skipped += c->skipped;
    }
  for (auto& c : cursors) done_bytes_ += c->f.size;
  progress_.Update(label, done_bytes_, total_bytes_, res_->messages);
  if (writer.failed()) {
    // Which of the group's last batches were written is unknown: every file of the group is reported.
    for (auto& c : cursors) FailFile(c->f.path, c->f.path + ": store write failed: " + writer.error().message(), false);
    return writer.error();
  }
  return Status::Ok();
}

std::int64_t Importer::MappedInGroup(const std::vector<std::unique_ptr<Cursor>>& cursors) {
  std::int64_t n = 0;
  for (auto& c : cursors)
    if (!c->finished) n += c->mapped;
  return n;
}

Status Importer::Run(const std::vector<std::string>& paths) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<FileEntry> files;
  Expand(paths, &files);
  for (auto& f : files) total_bytes_ += f.size;
  res_->files = static_cast<std::int64_t>(files.size()) + res_->files_failed;
  res_->bytes = total_bytes_;

  std::string run_path;
  for (auto& p : paths) run_path += (run_path.empty() ? "" : " ") + p;
  std::vector<ImportRun> prior;
  FERRY_RETURN_IF_ERROR(store_.FindRuns("dce", run_path, &prior));
  bool resumed = false;
  if (!prior.empty() && (prior.front().status == "running" || prior.front().status == "interrupted")) {
    run_ = prior.front();
    resumed = true;
    progress_.Note("resuming import run " + std::to_string(run_.id) + " of " + run_path);
  } else {
    run_ = ImportRun{};
    run_.kind = "dce";
    run_.path = run_path;
    run_.tool_version = FERRY_VERSION;
    run_.size = total_bytes_;
    FERRY_RETURN_IF_ERROR(store_.BeginRun(&run_));
  }
  res_->run_ids.push_back(run_.id);
  std::vector<ImportRun> all;
  FERRY_RETURN_IF_ERROR(store_.ListRuns(&all));
  // With no earlier run nothing can be skipped, so the hash is computed while importing (one read).
  bool may_skip = resumed || all.size() > 1;

  Status failure;
  std::vector<std::pair<FileEntry, std::string>> pending;
  for (auto& f : files) {
    if (Interrupted()) {
      interrupted_ = true;
      break;
    }
    std::string sha;
    if (may_skip) {
      std::error_code ec;
      auto abs = fs::absolute(f.path, ec);
      std::string quick;
      if (store_.GetMeta(kQuickKeyPrefix + (ec ? f.path : abs.lexically_normal().string()), &quick).ok()) {
        long long size = -1, mtime = -1;
        char hex[65] = {0};
        if (std::sscanf(quick.c_str(), "%lld %lld %64s", &size, &mtime, hex) == 3 && size == f.size &&
            mtime == f.mtime_ns)
          sha = hex;
      }
      if (sha.empty()) {
        progress_.Update("hashing " + Basename(f.path), done_bytes_, total_bytes_, res_->messages);
        sha = Sha256File(f.path).value_or("");
      }
      std::int64_t done_run = 0;
      if (!sha.empty() && store_.FindDoneFile(sha, &done_run).ok()) {
        // Provenance only: the data stays untouched. The size/mtime note spares the next run the hashing.
        std::error_code ec2;
        auto abs2 = fs::absolute(f.path, ec2);
        char quick2[64];
        std::snprintf(quick2, sizeof quick2, "%lld %lld ", static_cast<long long>(f.size),
                      static_cast<long long>(f.mtime_ns));
        if (done_run != run_.id)  // a resumed run keeps its own "done" row
          FERRY_RETURN_IF_ERROR(store_.SetRunFile(run_.id, f.path, sha, "skipped", Json{{"same_as_run", done_run}}));
        FERRY_RETURN_IF_ERROR(store_.PutMeta(kQuickKeyPrefix + (ec2 ? f.path : abs2.lexically_normal().string()),
                                             quick2 + sha));
        ++res_->files_skipped;
        res_->skipped.push_back(f.path);
        file_hashes_.push_back(sha);
        done_bytes_ += f.size;
        continue;
      }
    }
    pending.emplace_back(f, sha);
  }
  // Files are read side by side in groups (open files and reader buffers stay bounded).
  for (std::size_t i = 0; i < pending.size() && failure.ok() && !interrupted_; i += kFilesPerGroup) {
    if (Interrupted()) {
      interrupted_ = true;
      break;
    }
    std::vector<std::pair<FileEntry, std::string>> group(
        pending.begin() + static_cast<std::ptrdiff_t>(i),
        pending.begin() + static_cast<std::ptrdiff_t>(std::min(pending.size(), i + kFilesPerGroup)));
    Status st = ImportGroup(group);
    if (!st.ok()) failure = st;
  }
  // A bulk-load store indexes the run for search here, at once (an interrupted run is indexed when the
  // store is next opened for writing, so Ctrl-C stays quick).
  if (!interrupted_) {
    Status fl = store_.FlushSearchIndex(&progress_);
    if (!fl.ok() && failure.ok()) failure = fl;
  }
  progress_.Finish();

  res_->users = static_cast<std::int64_t>(run_state_->seen_users.size());
  res_->attachments = run_state_->counters.attachments;
  res_->attachments_missing = run_state_->counters.attachments_missing;
  res_->media_missing = run_state_->counters.media_missing;
  res_->media_remote = run_state_->counters.media_remote;
  res_->status = !failure.ok() ? "failed" : interrupted_ ? "interrupted" : "done";

  // The run's sha256 is that of the sorted list of its files' hashes.
  std::sort(file_hashes_.begin(), file_hashes_.end());
  Sha256 h;
  for (auto& s : file_hashes_) h.Update(s.data(), s.size());
  run_.sha256 = h.HexDigest();
  run_.size = total_bytes_;
  run_.status = res_->status;
  run_.ended_ms = NowMs();
  run_.counts = Json{{"files", res_->files},          {"files_imported", res_->files_imported},
                     {"files_skipped", res_->files_skipped}, {"files_failed", res_->files_failed},
                     {"messages", res_->messages},    {"messages_skipped", res_->messages_skipped},
                     {"users", res_->users},          {"attachments", res_->attachments},
                     {"blobs_copied", res_->blobs_copied}, {"media_missing", res_->media_missing},
                     {"media_remote", res_->media_remote}};
  Json notes = Json::object();
  if (!res_->warnings.empty()) notes["warnings"] = res_->warnings;
  if (!res_->failed.empty()) {
    Json f = Json::array();
    for (auto& [file, why] : res_->failed) f.push_back({{"file", file}, {"reason", why}});
    notes["failed"] = f;
  }
  if (!formats_.empty()) notes["content_format"] = formats_;
  if (resumed) notes["resumed"] = true;
  run_.notes = notes;
  Status fs_st = store_.FinishRun(run_);
  res_->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!failure.ok()) return failure;
  FERRY_RETURN_IF_ERROR(fs_st);
  if (interrupted_) return Status::Interrupted("import interrupted; run the same command again to finish it");
  return Status::Ok();
}

}  // namespace

Json DceImportResult::ToJson() const {
  Json j = Json::object();
  j["status"] = status;
  j["files"] = files;
  j["files_imported"] = files_imported;
  j["files_skipped"] = files_skipped;
  j["files_failed"] = files_failed;
  j["files_ignored"] = files_ignored;
  j["messages"] = messages;
  j["messages_skipped"] = messages_skipped;
  j["users"] = users;
  j["attachments"] = attachments;
  j["attachments_missing"] = attachments_missing;
  j["blobs_copied"] = blobs_copied;
  j["media_missing"] = media_missing;
  j["media_remote"] = media_remote;
  j["bytes"] = bytes;
  j["seconds"] = seconds;
  j["warnings_total"] = warnings_total;
  j["warnings"] = warnings;
  Json f = Json::array();
  for (auto& [file, why] : failed) f.push_back({{"file", file}, {"reason", why}});
  j["failed"] = f;
  j["skipped"] = skipped;
  Json ig = Json::array();
  for (auto& [file, why] : ignored) ig.push_back({{"file", file}, {"reason", why}});
  j["ignored"] = ig;
  j["run_ids"] = run_ids;
  return j;
}

bool LooksLikeDce(const std::string& path, std::string* why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (why) *why = "cannot open";
    return false;
  }
  bool done = false;
  // Reading stops after the first key: a sniff costs one small read even for a 2 GB file.
  DceReader reader(
      [&](char* b, std::size_t n) -> long {
        if (done) return 0;
        done = true;
        return ::read(fd, b, std::min<std::size_t>(n, 4096));
      },
      path, 4096);
  DceHeader h;
  Status st = reader.ReadHeader(&h);
  ::close(fd);
  if (st.ok()) return true;
  // A 4 KB prefix of a real export ends inside the header: that is fine as long as it began like DCE.
  const std::string& m = st.message();
  bool prefix_ok = m.find("inside the header") != std::string::npos ||
                   m.find("before the \"messages\" array") != std::string::npos;
  if (prefix_ok) return true;  // the sniff stopped inside a header that began like DCE
  if (why) *why = m.compare(0, path.size() + 2, path + ": ") == 0 ? m.substr(path.size() + 2) : m;
  return false;
}

Status ImportDce(Store& store, const std::vector<std::string>& paths, const DceImportOptions& options,
                 Progress& progress, DceImportResult* result) {
  *result = DceImportResult{};
  Importer imp(store, options, progress, result);
  return imp.Run(paths);
}

}  // namespace ferry::dce
