// Account passwords for imported users. Passwords come from OpenSSL's CSPRNG (never from anything
// derived from the store); only their SCRAM verifiers go into the XEP-0227 files, the clear text goes to
// credentials.csv for the admin alone.
#pragma once

#include <string>

#include "store/status.hpp"

namespace ferry::xmpp {

// A random password of `length` characters from an unambiguous alphabet (no 0/O, 1/l/I).
Status RandomPassword(int length, std::string* out);

struct ScramVerifier {
  std::string mechanism;   // "SCRAM-SHA-1" or "SCRAM-SHA-256"
  int iterations = 0;
  std::string salt_b64, stored_key_b64, server_key_b64;
};

// RFC 5802 verifiers: SaltedPassword = PBKDF2(password, salt, i); StoredKey = H(HMAC(SP, "Client Key"));
// ServerKey = HMAC(SP, "Server Key"). `salt` empty = 16 random bytes.
Status MakeScramVerifier(const std::string& password, const std::string& hash /* "SHA-1" | "SHA-256" */,
                         int iterations, const std::string& salt, ScramVerifier* out);

std::string Base64(const std::string& bytes);

}  // namespace ferry::xmpp
