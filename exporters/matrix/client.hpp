// Client-Server API calls as the application service, with the homeserver's rate limits and transient
// failures handled here so the exporter sees only final answers.
//
//  - Auth: the registration's as_token; `as_user` (a ghost) is sent as ?user_id= (masquerading), `ts` as ?ts=.
//  - 429 / M_LIMIT_EXCEEDED: waits retry_after_ms (body) or Retry-After (header), else 1 s, and retries; these
//    waits do not use up the transient-retry budget, but one call waits at most `max_rate_limit_wait_ms` in all.
//  - Transport errors and 500/502/503/504: exponential backoff (250 ms doubling, capped at 30 s), at most
//    `max_attempts` tries. PUTs with a transaction id are safe to repeat; createRoom is made safe by the
//    caller through room aliases.
//  - Everything else (2xx, other 4xx) is returned as is: Call() returns Ok with `out` filled for any HTTP
//    answer, and kIoError only when the server could not be reached in the end; kInterrupted on request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "exporters/matrix/http_client.hpp"
#include "store/model.hpp"
#include "store/status.hpp"

namespace ferry::matrix {

struct MxResponse {
  int http = 0;
  Json json;             // parsed body (null if not JSON)
  std::string errcode;   // e.g. M_FORBIDDEN, empty on success
  std::string error;
  bool ok() const { return http >= 200 && http < 300; }
  // "HTTP 403 M_FORBIDDEN: User not in room" — for reports.
  std::string Describe() const;
};

struct RetryPolicy {
  int max_attempts = 8;
  std::int64_t max_rate_limit_wait_ms = 15 * 60 * 1000;
  std::int64_t base_backoff_ms = 250;
  std::int64_t max_backoff_ms = 30000;
};

// Shared by all clients of one export, for the summary.
struct ClientCounters {
  std::atomic<std::int64_t> requests{0};
  std::atomic<std::int64_t> rate_limited{0};
  std::atomic<std::int64_t> retries{0};
};

using Query = std::vector<std::pair<std::string, std::string>>;

class MatrixClient {
 public:
  MatrixClient(std::unique_ptr<HttpClient> http, std::string as_token, RetryPolicy policy, ClientCounters* counters,
               std::function<bool()> cancelled);

  // `path` is the percent-encoded path ("/_matrix/client/v3/rooms/%21abc%3Aexample.org/join").
  Status Call(const std::string& method, const std::string& path, const Query& query, const Json* body,
              MxResponse* out);
  // Uploads a file to the media repository (POST /_matrix/media/v3/upload) and returns its mxc:// URI.
  Status Upload(const std::string& file, const std::string& content_type, const std::string& filename,
                const std::optional<std::string>& as_user, std::string* mxc, MxResponse* out);

 private:
  Status Do(const std::string& method, const std::string& target, const std::string& content_type,
            const std::string* body, const std::string* file, MxResponse* out);
  bool SleepMs(std::int64_t ms);

  std::unique_ptr<HttpClient> http_;
  std::string as_token_;
  RetryPolicy policy_;
  ClientCounters* counters_;
  std::function<bool()> cancelled_;
};

std::string BuildTarget(const std::string& path, const Query& query);

}  // namespace ferry::matrix
