// Discord-shaped error responses. Every 4xx/5xx the API sends is JSON with Content-Type application/json:
//   {"message": "Unknown Channel", "code": 10003}
//   {"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [{"code": "...", "message": "..."}]}}}
//   {"message": "401: Unauthorized", "code": 0}
// Handlers either return one of these Responses or throw ApiError(response) from deep inside a helper; the
// router turns an ApiError into its response (and any other exception into a 500 with a logged reason).
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "compat-api/http/router.hpp"

namespace ferry::compat::http {

// {"message": message, "code": code} with the given HTTP status.
Response Error(int http_status, int code, std::string_view message);

class ApiError : public std::exception {
 public:
  explicit ApiError(Response r) : response_(std::move(r)) {}
  ApiError(int http_status, int code, std::string_view message) : response_(Error(http_status, code, message)) {}
  const Response& response() const { return response_; }
  const char* what() const noexcept override { return "ApiError"; }

 private:
  Response response_;
};

// Collects field errors and renders Discord's 50035 body. Paths are dot-separated field paths as Discord
// nests them: "content", "embeds.0.title", "message_reference.message_id", "channel_id" (path params too).
//   FormErrors fe; if (too_long) fe.Add("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
//   fe.ThrowIfAny();
class FormErrors {
 public:
  void Add(std::string_view path, std::string_view code, std::string_view message);
  bool empty() const { return errors_.empty(); }
  const Json& errors() const { return errors_; }
  // 400 {"code": 50035, "message": "Invalid Form Body", "errors": {...}}
  Response ToResponse() const;
  void ThrowIfAny() const {
    if (!empty()) throw ApiError(ToResponse());
  }

 private:
  Json errors_ = Json::object();
};

// One-field 50035 shortcut (e.g. a path param that is not a snowflake).
[[noreturn]] void ThrowFormError(std::string_view path, std::string_view code, std::string_view message);

// The shapes Discord uses, by name.
Response Unauthorized();                 // 401 {"message": "401: Unauthorized", "code": 0}
Response NotFoundRoute();                // 404 {"message": "404: Not Found", "code": 0}  (no such route)
Response MethodNotAllowed();             // 405 {"message": "405: Method Not Allowed", "code": 0}
Response MissingAccess();                // 403 50001 Missing Access
Response MissingPermissions();           // 403 50013 Missing Permissions
Response InvalidJson();                  // 400 50109 The request body contains invalid JSON.
Response PayloadTooLarge();              // 413 40005 Request entity too large
Response InternalError();                // 500 {"message": "500: Internal Server Error", "code": 0}
Response UnknownApplication();           // 404 10002
Response UnknownChannel();               // 404 10003
Response UnknownGuild();                 // 404 10004
Response UnknownMember();                // 404 10007
Response UnknownMessage();               // 404 10008
Response UnknownOverwrite();             // 404 10009 Unknown Overwrite
Response UnknownRole();                  // 404 10011
Response UnknownUser();                  // 404 10013
Response UnknownEmoji();                 // 404 10014
Response UnknownWebhook();               // 404 10015
Response UnknownInteraction();           // 404 10062
Response CannotSendEmptyMessage();       // 400 50006 Cannot send an empty message

}  // namespace ferry::compat::http
