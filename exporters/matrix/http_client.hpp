// A small blocking HTTP/1.1 client for talking to one homeserver: keep-alive on one connection, plain HTTP for
// local servers, HTTPS with certificate verification (system CAs, or SSL_CERT_FILE) and host-name check.
//
// One HttpClient per thread. Every operation has a deadline, so a stalled server cannot hang an export.
// Transport failures (refused, reset, timeout, TLS) come back as kIoError and close the connection; the next
// request reconnects; a certificate that fails verification is kPermissionDenied (retrying cannot help).
// HTTP statuses, including 4xx/5xx, are not errors here: the caller decides.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "store/status.hpp"

namespace ferry::matrix {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;  // Retry-After header, if any
};

struct HttpOptions {
  int connect_timeout_ms = 15000;
  int io_timeout_ms = 120000;                      // per request (uploads of large files need time)
  std::size_t max_response_bytes = 16u << 20;      // homeserver answers are small JSON; bound them
};

class HttpClient {
 public:
  // base_url: "http://127.0.0.1:8008" or "https://matrix.example.org[:port][/prefix]".
  static Status Create(const std::string& base_url, const HttpOptions& options, std::unique_ptr<HttpClient>* out);
  virtual ~HttpClient() = default;

  // `target` starts with '/' and is already percent-encoded; the base URL's path prefix is prepended.
  // Exactly one of `body` / `body_file` may be set (the file is streamed, not loaded).
  virtual Status Request(const std::string& method, const std::string& target, const std::string& bearer,
                         const std::string& content_type, const std::string* body, const std::string* body_file,
                         HttpResponse* out) = 0;
};

// Percent-encodes everything except RFC 3986 unreserved characters (for path segments and query values).
std::string UrlEncode(const std::string& s);

}  // namespace ferry::matrix
