// The files of a Discord data package, read in place: from the zip with libarchive (streamed, nothing is
// extracted to disk) or from an unpacked folder. Both look the same to the importer: a sequence of entries
// with '/'-separated names relative to the package, each readable once, in order.
//
// Hostile input: entry names that are absolute or contain ".." are refused (kInvalidInput naming the entry)
// before anything is imported; links are never followed; every read is bounded (per entry by the caller,
// and for a zip in total by Limits, so a zip bomb stops with an error instead of running for hours).
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>

#include "store/status.hpp"

namespace ferry::package {

struct Limits {
  // A zip may inflate to at most max(kMinInflated, ratio × its own size) in total.
  std::int64_t max_total_inflated_min = 8LL << 30;
  std::int64_t max_inflate_ratio = 200;
  std::int64_t max_entries = 2'000'000;
};

struct Entry {
  std::string name;           // "Messages/c123/messages.json"; never absolute, never with ".."
  std::int64_t size = -1;     // uncompressed size when the container says, else -1
  std::int64_t mtime_ms = 0;  // 0 when unknown
};

// One entry's bytes. Read() refuses to go past `limit` bytes (set by the caller for what it expects the
// entry to be), so a 2 KB channel.json that inflates to 4 GB is an error, not an allocation.
class EntryStream {
 public:
  virtual ~EntryStream() = default;
  // Reads up to n bytes; 0 at the end. On error returns -1 and sets status().
  std::int64_t Read(char* buf, std::size_t n);
  const Status& status() const { return status_; }
  void set_limit(std::int64_t limit) { limit_ = limit; }
  std::int64_t consumed() const { return consumed_; }
  const std::string& name() const { return name_; }

 protected:
  virtual std::int64_t RawRead(char* buf, std::size_t n, Status* st) = 0;
  std::string name_;
  Status status_;
  std::int64_t limit_ = 64LL << 20;
  std::int64_t consumed_ = 0;
};

// Reads the whole entry into `out` (bounded by the stream's limit).
Status ReadAll(EntryStream& in, std::string* out);

// A std::streambuf over an EntryStream, for parsers that want an istream (nlohmann::json).
class EntryStreamBuf : public std::streambuf {
 public:
  explicit EntryStreamBuf(EntryStream& in) : in_(in) {}
 protected:
  int_type underflow() override;
 private:
  EntryStream& in_;
  char buf_[64 * 1024];
};

class PackageSource {
 public:
  // Opens a zip file or a folder. kNotFound if missing, kInvalidInput if neither a readable zip nor a folder.
  static Status Open(const std::string& path, const Limits& limits, std::unique_ptr<PackageSource>* out);
  virtual ~PackageSource() = default;

  virtual bool is_zip() const = 0;
  // Size of the zip, or the sum of the folder's file sizes: the denominator of the progress bar.
  virtual std::int64_t total_bytes() const = 0;
  // Bytes read so far in the current pass (compressed bytes for a zip).
  virtual std::int64_t bytes_done() const = 0;

  // One pass over every regular file, in container order (a folder is walked in name order). `fn` may
  // read the entry or leave it (it is skipped). Stops at the first non-ok status from `fn` or the container.
  using Visitor = std::function<Status(const Entry&, EntryStream&)>;
  virtual Status ForEach(const Visitor& fn) = 0;
};

// Entry-name safety: normalises '\' to '/', strips "./", refuses absolute names and "..". Exposed for tests.
Status SanitizeEntryName(const std::string& raw, std::string* out);

}  // namespace ferry::package
