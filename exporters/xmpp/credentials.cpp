#include "exporters/xmpp/credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <vector>

namespace ferry::xmpp {

Status RandomPassword(int length, std::string* out) {
  static const std::string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  out->clear();
  // Rejection sampling keeps every character equally likely.
  const unsigned limit = 256 - (256 % alphabet.size());
  while (static_cast<int>(out->size()) < length) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof buf) != 1) return Status::IoError("OpenSSL RAND_bytes failed: no random source");
    for (unsigned char b : buf) {
      if (b >= limit) continue;
      *out += alphabet[b % alphabet.size()];
      if (static_cast<int>(out->size()) == length) break;
    }
  }
  return Status::Ok();
}

std::string Base64(const std::string& bytes) {
  std::vector<unsigned char> buf(4 * ((bytes.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  return std::string(reinterpret_cast<char*>(buf.data()), n);
}

Status MakeScramVerifier(const std::string& password, const std::string& hash, int iterations,
                         const std::string& salt_in, ScramVerifier* out) {
  const EVP_MD* md = hash == "SHA-256" ? EVP_sha256() : hash == "SHA-1" ? EVP_sha1() : nullptr;
  if (!md) return Status::InvalidInput("unsupported SCRAM hash " + hash);
  std::string salt = salt_in;
  if (salt.empty()) {
    salt.resize(16);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), 16) != 1)
      return Status::IoError("OpenSSL RAND_bytes failed: no random source");
  }
  const int len = EVP_MD_size(md);
  std::string salted(len, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        iterations, md, len, reinterpret_cast<unsigned char*>(salted.data())) != 1)
    return Status::IoError("PBKDF2 failed");
  auto hmac = [&](const std::string& key, const std::string& msg) {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
         msg.size(), buf, &n);
    return std::string(reinterpret_cast<char*>(buf), n);
  };
  std::string client_key = hmac(salted, "Client Key");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dn = 0;
  EVP_Digest(client_key.data(), client_key.size(), digest, &dn, md, nullptr);
  out->mechanism = "SCRAM-" + hash;
  out->iterations = iterations;
  out->salt_b64 = Base64(salt);
  out->stored_key_b64 = Base64(std::string(reinterpret_cast<char*>(digest), dn));
  out->server_key_b64 = Base64(hmac(salted, "Server Key"));
  return Status::Ok();
}

}  // namespace ferry::xmpp
