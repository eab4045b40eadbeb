#include "compat-api/http/errors.hpp"

#include <string>

namespace ferry::compat::http {

Response Error(int http_status, int code, std::string_view message) {
  return Response::Json(::ferry::Json{{"message", std::string(message)}, {"code", code}}, http_status);
}

void FormErrors::Add(std::string_view path, std::string_view code, std::string_view message) {
  Json* node = &errors_;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) dot = path.size();
    std::string key(path.substr(start, dot - start));
    if (!key.empty()) node = &(*node)[key];
    start = dot + 1;
  }
  (*node)["_errors"].push_back(::ferry::Json{{"code", std::string(code)}, {"message", std::string(message)}});
}

Response FormErrors::ToResponse() const {
  return Response::Json(
      ::ferry::Json{{"message", "Invalid Form Body"}, {"code", 50035}, {"errors", errors_}}, 400);
}

void ThrowFormError(std::string_view path, std::string_view code, std::string_view message) {
  FormErrors fe;
  fe.Add(path, code, message);
  throw ApiError(fe.ToResponse());
}

Response Unauthorized() { return Error(401, 0, "401: Unauthorized"); }
Response NotFoundRoute() { return Error(404, 0, "404: Not Found"); }
Response MethodNotAllowed() { return Error(405, 0, "405: Method Not Allowed"); }
Response MissingAccess() { return Error(403, 50001, "Missing Access"); }
Response MissingPermissions() { return Error(403, 50013, "Missing Permissions"); }
Response InvalidJson() { return Error(400, 50109, "The request body contains invalid JSON."); }
Response PayloadTooLarge() { return Error(413, 40005, "Request entity too large"); }
Response InternalError() { return Error(500, 0, "500: Internal Server Error"); }
Response UnknownApplication() { return Error(404, 10002, "Unknown Application"); }
Response UnknownChannel() { return Error(404, 10003, "Unknown Channel"); }
Response UnknownGuild() { return Error(404, 10004, "Unknown Guild"); }
Response UnknownMember() { return Error(404, 10007, "Unknown Member"); }
Response UnknownMessage() { return Error(404, 10008, "Unknown Message"); }
Response UnknownOverwrite() { return Error(404, 10009, "Unknown Overwrite"); }
Response UnknownRole() { return Error(404, 10011, "Unknown Role"); }
Response UnknownUser() { return Error(404, 10013, "Unknown User"); }
Response UnknownEmoji() { return Error(404, 10014, "Unknown Emoji"); }
Response UnknownWebhook() { return Error(404, 10015, "Unknown Webhook"); }
Response UnknownInteraction() { return Error(404, 10062, "Unknown interaction"); }
Response CannotSendEmptyMessage() { return Error(400, 50006, "Cannot send an empty message"); }

}  // namespace ferry::compat::http
