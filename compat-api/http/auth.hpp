// Bot tokens: generation, hashing, and reading them out of requests.
//
// A token looks like Discord's: base64url(bot user id) "." base64url(6 random bytes) "." base64url(27 random
// bytes). Only sha256(token) (lower-case hex) is stored; `token_prefix` (the id part plus the first characters
// of the second part) lets `ferry bot list` tell tokens apart without keeping them.
#pragma once

#include <string>
#include <string_view>

#include "store/model.hpp"

namespace ferry::compat::http {

std::string GenerateToken(Snowflake bot_user_id);
std::string TokenHash(std::string_view token);   // sha256, lower-case hex
std::string TokenPrefix(std::string_view token);

// The token in an Authorization header value: "Bot <t>", "Bearer <t>" or a bare token; empty if none.
std::string_view TokenFromAuthorization(std::string_view header);

}  // namespace ferry::compat::http
