#include "importers/package/source.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace ferry::package {

namespace fs = std::filesystem;

std::int64_t EntryStream::Read(char* buf, std::size_t n) {
  if (!status_.ok()) return -1;
  if (consumed_ >= limit_) {
    // One byte more than allowed tells "exactly at the limit" from "over it".
    char probe;
    std::int64_t r = RawRead(&probe, 1, &status_);
    if (r < 0) return -1;
    if (r == 0) return 0;
    status_ = Status::InvalidInput(name_ + ": entry is larger than the " + std::to_string(limit_) +
                                   " bytes allowed for it (corrupt package or zip bomb?)");
    return -1;
  }
  std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(n), limit_ - consumed_));
  std::int64_t r = RawRead(buf, want, &status_);
  if (r < 0) return -1;
  consumed_ += r;
  return r;
}

Status ReadAll(EntryStream& in, std::string* out) {
  out->clear();
  char buf[64 * 1024];
  while (true) {
    std::int64_t r = in.Read(buf, sizeof buf);
    if (r < 0) return in.status();
    if (r == 0) return Status::Ok();
    out->append(buf, static_cast<std::size_t>(r));
  }
}

EntryStreamBuf::int_type EntryStreamBuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  std::int64_t r = in_.Read(buf_, sizeof buf_);
  if (r <= 0) return traits_type::eof();
  setg(buf_, buf_, buf_ + r);
  return traits_type::to_int_type(*gptr());
}

Status SanitizeEntryName(const std::string& raw, std::string* out) {
  std::string s = raw;
  std::replace(s.begin(), s.end(), '\\', '/');
  if (s.empty()) return Status::InvalidInput("empty entry name");
  if (s[0] == '/' || (s.size() > 1 && s[1] == ':'))
    return Status::InvalidInput("entry '" + raw + "' has an absolute path; refusing the archive");
  std::string norm;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('/', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    if (part == "..")
      return Status::InvalidInput("entry '" + raw + "' points outside the package (\"..\"); refusing the archive");
    if (!part.empty() && part != ".") {
      if (!norm.empty()) norm += '/';
      norm += part;
    }
    i = j + 1;
  }
  if (norm.empty()) return Status::InvalidInput("entry '" + raw + "' has no name");
  *out = norm;
  return Status::Ok();
}

namespace {

// ---------------------------------------------------------------------------------------------- zip
// libarchive converts entry names to the locale's charset; under the default "C" locale a UTF-8 name
// (Wiadomości/, Aktivität/) fails to convert and comes back empty. Names are wanted as UTF-8 bytes.
void EnsureUtf8Names() {
  static const bool done = [] {
    const char* cur = std::setlocale(LC_CTYPE, nullptr);
    if (!cur || std::strcmp(cur, "C") == 0 || std::strcmp(cur, "POSIX") == 0) {
      if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "C.utf8");
    }
    return true;
  }();
  (void)done;
}

class ZipEntryStream : public EntryStream {
 public:
  ZipEntryStream(archive* a, std::string name, std::int64_t* inflated, std::int64_t max_inflated)
      : a_(a), inflated_(inflated), max_inflated_(max_inflated) {
    name_ = std::move(name);
  }

 protected:
  std::int64_t RawRead(char* buf, std::size_t n, Status* st) override {
    la_ssize_t r = archive_read_data(a_, buf, n);
    if (r < 0) {
      *st = Status::InvalidInput(name_ + ": cannot read this zip entry: " +
                                 (archive_error_string(a_) ? archive_error_string(a_) : "unknown error"));
      return -1;
    }
    *inflated_ += r;
    if (*inflated_ > max_inflated_) {
      *st = Status::InvalidInput(name_ + ": the zip inflates to more than " + std::to_string(max_inflated_) +
                                 " bytes; refusing it as a possible zip bomb");
      return -1;
    }
    return r;
  }

 private:
  archive* a_;
  std::int64_t* inflated_;
  std::int64_t max_inflated_;
};

class ZipSource : public PackageSource {
 public:
  ZipSource(std::string path, std::int64_t size, Limits limits) : path_(std::move(path)), size_(size), limits_(limits) {}
  bool is_zip() const override { return true; }
  std::int64_t total_bytes() const override { return size_; }
  std::int64_t bytes_done() const override { return cur_ ? archive_filter_bytes(cur_, -1) : done_; }

  Status ForEach(const Visitor& fn) override {
    EnsureUtf8Names();
    archive* a = archive_read_new();
    archive_read_support_format_zip(a);
    struct Closer {
      archive*& cur;
      archive* a;
      ~Closer() { cur = nullptr; archive_read_free(a); }
    } closer{cur_, a};
    if (archive_read_open_filename(a, path_.c_str(), 64 * 1024) != ARCHIVE_OK)
      return Status::InvalidInput(path_ + ": not a readable zip archive: " + ErrorOf(a));
    cur_ = a;
    std::int64_t inflated = 0;
    const std::int64_t max_inflated = std::max(limits_.max_total_inflated_min, limits_.max_inflate_ratio * size_);
    std::int64_t count = 0;
    std::string last = "(start of archive)";
    while (true) {
      archive_entry* e = nullptr;
      int r = archive_read_next_header(a, &e);
      if (r == ARCHIVE_EOF) break;
      if (r == ARCHIVE_FATAL || r == ARCHIVE_RETRY)
        return Status::InvalidInput(path_ + ": corrupt zip after entry '" + last + "': " + ErrorOf(a));
      // ARCHIVE_WARN still gives a usable header.
      const char* raw = archive_entry_pathname_utf8(e);
      if (!raw) raw = archive_entry_pathname(e);
      std::string raw_name = raw ? raw : "";
      last = raw_name;
      if (++count > limits_.max_entries)
        return Status::InvalidInput(path_ + ": more than " + std::to_string(limits_.max_entries) +
                                    " entries; refusing it as a possible zip bomb");
      std::string name;
      Status st = SanitizeEntryName(raw_name, &name);
      if (!st.ok()) return Status::InvalidInput(path_ + ": " + st.message());
      if (archive_entry_filetype(e) != AE_IFREG) continue;  // folders, and links that are never followed
      Entry entry;
      entry.name = name;
      entry.size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
      entry.mtime_ms = archive_entry_mtime_is_set(e) ? static_cast<std::int64_t>(archive_entry_mtime(e)) * 1000 : 0;
      ZipEntryStream stream(a, name, &inflated, max_inflated);
      FERRY_RETURN_IF_ERROR(fn(entry, stream));
    }
    done_ = size_;
    return Status::Ok();
  }

 private:
  static std::string ErrorOf(archive* a) {
    const char* s = archive_error_string(a);
    return s ? s : "unknown error";
  }
  std::string path_;
  std::int64_t size_;
  Limits limits_;
  archive* cur_ = nullptr;
  std::int64_t done_ = 0;
};

// ---------------------------------------------------------------------------------------------- folder
class FileEntryStream : public EntryStream {
 public:
  FileEntryStream(const fs::path& p, std::string name, std::int64_t* done) : in_(p, std::ios::binary), done_(done) {
    name_ = std::move(name);
    if (!in_) status_ = Status::IoError(name_ + ": cannot open: " + std::strerror(errno));
  }

 protected:
  std::int64_t RawRead(char* buf, std::size_t n, Status* st) override {
    in_.read(buf, static_cast<std::streamsize>(n));
    std::int64_t r = in_.gcount();
    if (r == 0 && in_.bad()) {
      *st = Status::IoError(name_ + ": read error");
      return -1;
    }
    *done_ += r;
    return r;
  }

 private:
  std::ifstream in_;
  std::int64_t* done_;
};

class DirSource : public PackageSource {
 public:
  explicit DirSource(fs::path root) : root_(std::move(root)) {}
  bool is_zip() const override { return false; }
  std::int64_t total_bytes() const override { return total_; }
  std::int64_t bytes_done() const override { return done_; }

  Status Scan() {
    std::error_code ec;
    fs::recursive_directory_iterator it(root_, fs::directory_options::none, ec), end;
    if (ec) return Status::IoError(root_.string() + ": cannot list: " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return Status::IoError(root_.string() + ": cannot list: " + ec.message());
      const auto& de = *it;
      // Links are never followed: a package never has them, and following one could leave the folder.
      if (de.is_symlink(ec)) {
        if (de.is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!de.is_regular_file(ec)) continue;
      Entry e;
      e.name = fs::relative(de.path(), root_, ec).generic_string();
      e.size = static_cast<std::int64_t>(de.file_size(ec));
      auto ft = de.last_write_time(ec);
      if (!ec) {
        auto sys = std::chrono::file_clock::to_sys(ft);
        e.mtime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
      }
      total_ += std::max<std::int64_t>(e.size, 0);
      entries_.push_back(std::move(e));
    }
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return Status::Ok();
  }

  Status ForEach(const Visitor& fn) override {
    done_ = 0;
    for (const auto& e : entries_) {
      FileEntryStream stream(root_ / fs::path(e.name), e.name, &done_);
      if (!stream.status().ok()) return stream.status();
      FERRY_RETURN_IF_ERROR(fn(e, stream));
    }
    return Status::Ok();
  }

 private:
  fs::path root_;
  std::vector<Entry> entries_;
  std::int64_t total_ = 0;
  std::int64_t done_ = 0;
};

}  // namespace

Status PackageSource::Open(const std::string& path, const Limits& limits, std::unique_ptr<PackageSource>* out) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Status::NotFound(path + ": no such file or folder");
  if (fs::is_directory(st)) {
    auto d = std::make_unique<DirSource>(fs::path(path));
    FERRY_RETURN_IF_ERROR(d->Scan());
    *out = std::move(d);
    return Status::Ok();
  }
  if (!fs::is_regular_file(st)) return Status::InvalidInput(path + ": not a file or folder");
  std::int64_t size = static_cast<std::int64_t>(fs::file_size(path, ec));
  *out = std::make_unique<ZipSource>(path, size, limits);
  return Status::Ok();
}

}  // namespace ferry::package
