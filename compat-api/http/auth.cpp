#include "compat-api/http/auth.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <random>
#include <stdexcept>

namespace ferry::compat::http {
namespace {

std::string Base64Url(const unsigned char* data, std::size_t n) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::string RandomPart(std::size_t n) {
  unsigned char buf[64];
  if (RAND_bytes(buf, static_cast<int>(n)) != 1) throw std::runtime_error("no secure random bytes available");
  return Base64Url(buf, n);
}

}  // namespace

std::string GenerateToken(Snowflake bot_user_id) {
  std::string id = std::to_string(bot_user_id);
  return Base64Url(reinterpret_cast<const unsigned char*>(id.data()), id.size()) + "." + RandomPart(6) + "." +
         RandomPart(27);
}

std::string TokenHash(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char c : digest) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

std::string TokenPrefix(std::string_view token) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::string(token.substr(0, 8));
  return std::string(token.substr(0, std::min(token.size(), dot + 5)));
}

std::string_view TokenFromAuthorization(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  for (std::string_view scheme : {"Bot ", "Bearer ", "bot ", "bearer "}) {
    if (h.substr(0, scheme.size()) == scheme) {
      h.remove_prefix(scheme.size());
      while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
      break;
    }
  }
  return h;
}

}  // namespace ferry::compat::http
