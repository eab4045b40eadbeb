// SHA-256 (OpenSSL EVP) for input files and media, computed while streaming.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace ferry::dce {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, std::size_t n);
  std::string HexDigest();  // finishes; the object can be reused after Reset()
  void Reset();

 private:
  void* ctx_;
};

// Hash of a whole file; nullopt when it cannot be read.
std::optional<std::string> Sha256File(const std::string& path, std::int64_t* size = nullptr);

}  // namespace ferry::dce
