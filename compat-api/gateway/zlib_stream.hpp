// zlib-stream transport compression (`?compress=zlib-stream`): ONE deflate context per connection, never
// reset, each payload compressed and flushed with Z_SYNC_FLUSH so every WebSocket BINARY frame ends with
// 00 00 ff ff and the client can inflate frame by frame with one shared inflate context.
#pragma once

#include <string>
#include <string_view>

#include <zlib.h>

namespace ferry::compat::gateway {

class ZlibStream {
 public:
  // A small window and memory level keep an idle compressed session at ~40 KB of zlib state; clients inflate
  // with the default 32 KB window, which accepts any smaller one.
  ZlibStream();
  ~ZlibStream();
  ZlibStream(const ZlibStream&) = delete;
  ZlibStream& operator=(const ZlibStream&) = delete;

  // Compresses one payload; the result ends with the sync-flush marker 00 00 ff ff.
  std::string Compress(std::string_view payload);
  bool ok() const { return ok_; }

 private:
  z_stream z_{};
  bool ok_ = false;
};

}  // namespace ferry::compat::gateway
