#include "exporters/matrix/client.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace ferry::matrix {

std::string MxResponse::Describe() const {
  std::string s = "HTTP " + std::to_string(http);
  if (!errcode.empty()) s += " " + errcode;
  if (!error.empty()) s += ": " + error;
  return s;
}

std::string BuildTarget(const std::string& path, const Query& query) {
  std::string t = path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    t += sep;
    t += UrlEncode(k) + "=" + UrlEncode(v);
    sep = '&';
  }
  return t;
}

MatrixClient::MatrixClient(std::unique_ptr<HttpClient> http, std::string as_token, RetryPolicy policy,
                           ClientCounters* counters, std::function<bool()> cancelled)
    : http_(std::move(http)), as_token_(std::move(as_token)), policy_(policy), counters_(counters),
      cancelled_(std::move(cancelled)) {}

bool MatrixClient::SleepMs(std::int64_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (cancelled_ && cancelled_()) return false;
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
  }
  return true;
}

Status MatrixClient::Do(const std::string& method, const std::string& target, const std::string& content_type,
                        const std::string* body, const std::string* file, MxResponse* out) {
  int attempts = 0;
  std::int64_t waited_rate_limit = 0;
  std::int64_t backoff = policy_.base_backoff_ms;
  Status last_error;
  while (true) {
    if (cancelled_ && cancelled_()) return Status::Interrupted("interrupted");
    HttpResponse res;
    counters_->requests++;
    Status st = http_->Request(method, target, as_token_, content_type, body, file, &res);
    bool transient = false;
    if (!st.ok()) {
      if (st.code() != Status::Code::kIoError || (file && st.message().find("cannot open") != std::string::npos))
        return st;
      last_error = st;
      transient = true;
    } else {
      *out = MxResponse();
      out->http = res.status;
      out->json = Json::parse(res.body, nullptr, /*allow_exceptions=*/false);
      if (out->json.is_discarded()) out->json = nullptr;
      if (out->json.is_object()) {
        if (out->json.contains("errcode") && out->json["errcode"].is_string())
          out->errcode = out->json["errcode"].get<std::string>();
        if (out->json.contains("error") && out->json["error"].is_string())
          out->error = out->json["error"].get<std::string>().substr(0, 500);
      } else if (!out->ok()) {
        out->error = res.body.substr(0, 200);
      }
      if (res.status == 429) {
        std::int64_t wait = 1000;
        if (out->json.is_object() && out->json.contains("retry_after_ms") && out->json["retry_after_ms"].is_number())
          wait = out->json["retry_after_ms"].get<std::int64_t>();
        else if (!res.retry_after.empty() && res.retry_after.find_first_not_of("0123456789") == std::string::npos &&
                 res.retry_after.size() < 7)
          wait = std::stoll(res.retry_after) * 1000;
        wait = std::clamp<std::int64_t>(wait, 0, 10 * 60 * 1000);
        counters_->rate_limited++;
        if (waited_rate_limit + wait > policy_.max_rate_limit_wait_ms) return Status::Ok();  // give the 429 back
        waited_rate_limit += wait;
        if (!SleepMs(wait)) return Status::Interrupted("interrupted");
        continue;
      }
      if (res.status == 500 || res.status == 502 || res.status == 503 || res.status == 504) {
        last_error = Status::IoError(out->Describe());
        transient = true;
      } else {
        return Status::Ok();
      }
    }
    if (transient) {
      if (++attempts >= policy_.max_attempts)
        return Status::IoError("homeserver unreachable after " + std::to_string(attempts) +
                               " attempts: " + last_error.message());
      counters_->retries++;
      if (!SleepMs(backoff)) return Status::Interrupted("interrupted");
      backoff = std::min(backoff * 2, policy_.max_backoff_ms);
    }
  }
}

Status MatrixClient::Call(const std::string& method, const std::string& path, const Query& query, const Json* body,
                          MxResponse* out) {
  std::string target = BuildTarget(path, query);
  if (body) {
    std::string text = body->dump(-1, ' ', false, Json::error_handler_t::replace);
    return Do(method, target, "application/json", &text, nullptr, out);
  }
  if (method == "GET") return Do(method, target, "", nullptr, nullptr, out);
  std::string empty = "{}";
  return Do(method, target, "application/json", &empty, nullptr, out);
}

Status MatrixClient::Upload(const std::string& file, const std::string& content_type, const std::string& filename,
                            const std::optional<std::string>& as_user, std::string* mxc, MxResponse* out) {
  Query q;
  if (!filename.empty()) q.push_back({"filename", filename});
  if (as_user) q.push_back({"user_id", *as_user});
  std::string target = BuildTarget("/_matrix/media/v3/upload", q);
  FERRY_RETURN_IF_ERROR(Do("POST", target, content_type.empty() ? "application/octet-stream" : content_type, nullptr,
                           &file, out));
  if (!out->ok()) return Status::Ok();
  if (!out->json.is_object() || !out->json.contains("content_uri") || !out->json["content_uri"].is_string() ||
      out->json["content_uri"].get<std::string>().rfind("mxc://", 0) != 0) {
    out->http = 502;
    out->error = "upload answer has no mxc:// content_uri";
    return Status::Ok();
  }
  *mxc = out->json["content_uri"].get<std::string>();
  return Status::Ok();
}

}  // namespace ferry::matrix
