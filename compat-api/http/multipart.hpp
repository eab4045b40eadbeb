// multipart/form-data parsing for message uploads (payload_json + files[N]), as discord.py (payload_json first,
// hex boundary) and discord.js/undici (files first, ----formdata-undici-… boundary) send it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compat-api/http/router.hpp"
#include "store/status.hpp"

namespace ferry::compat::http {

// The boundary parameter of a multipart/form-data Content-Type; empty if it is not one.
std::string MultipartBoundary(std::string_view content_type);

// Splits `body` into parts. InvalidInput (naming the problem and the byte offset) for a body that does not
// follow RFC 7578: missing boundary lines, a part without Content-Disposition: form-data, no closing
// delimiter. At most `max_parts` parts.
Status ParseMultipart(std::string_view body, std::string_view boundary, std::vector<MultipartPart>* out,
                      std::size_t max_parts = 64);

}  // namespace ferry::compat::http
