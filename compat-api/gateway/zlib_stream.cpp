#include "compat-api/gateway/zlib_stream.hpp"

#include <stdexcept>

namespace ferry::compat::gateway {

ZlibStream::ZlibStream() {
  ok_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, /*windowBits=*/12, /*memLevel=*/5,
                     Z_DEFAULT_STRATEGY) == Z_OK;
}

ZlibStream::~ZlibStream() {
  if (ok_) deflateEnd(&z_);
}

std::string ZlibStream::Compress(std::string_view payload) {
  if (!ok_) throw std::runtime_error("zlib deflate context unavailable");
  std::string out;
  out.resize(deflateBound(&z_, static_cast<uLong>(payload.size())) + 16);
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  z_.avail_in = static_cast<uInt>(payload.size());
  std::size_t used = 0;
  for (;;) {
    z_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z_.avail_out = static_cast<uInt>(out.size() - used);
    int rc = deflate(&z_, Z_SYNC_FLUSH);
    used = out.size() - z_.avail_out;
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("zlib deflate failed");
    // Done when all input is consumed and deflate had room left (so the flush marker is complete).
    if (z_.avail_in == 0 && z_.avail_out > 0) break;
    out.resize(out.size() * 2);
  }
  out.resize(used);
  return out;
}

}  // namespace ferry::compat::gateway
