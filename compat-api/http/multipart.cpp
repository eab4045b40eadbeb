#include "compat-api/http/multipart.hpp"

#include <cctype>

namespace ferry::compat::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A parameter of a header value like `form-data; name="files[0]"; filename="a b.txt"`.
bool HeaderParam(std::string_view value, std::string_view name, std::string* out) {
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t semi = value.find(';', i);
    if (semi == std::string_view::npos) return false;
    i = semi + 1;
    while (i < value.size() && value[i] == ' ') ++i;
    std::size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) return false;
    std::string key = Lower(Trim(value.substr(i, eq - i)));
    std::size_t v = eq + 1;
    std::string val;
    if (v < value.size() && value[v] == '"') {
      ++v;
      while (v < value.size() && value[v] != '"') {
        if (value[v] == '\\' && v + 1 < value.size()) ++v;
        val.push_back(value[v]);
        ++v;
      }
      i = v + 1;
    } else {
      std::size_t end = value.find(';', v);
      if (end == std::string_view::npos) end = value.size();
      val = std::string(Trim(value.substr(v, end - v)));
      i = end;
    }
    if (key == name) {
      *out = val;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string MultipartBoundary(std::string_view content_type) {
  std::string lower = Lower(content_type.substr(0, 19));
  if (lower != "multipart/form-data") return {};
  std::string b;
  if (!HeaderParam(content_type, "boundary", &b)) return {};
  if (b.empty() || b.size() > 200) return {};
  return b;
}

Status ParseMultipart(std::string_view body, std::string_view boundary, std::vector<MultipartPart>* out,
                      std::size_t max_parts) {
  out->clear();
  std::string delim = "--" + std::string(boundary);
  std::size_t pos = body.find(delim);
  if (pos == std::string_view::npos)
    return Status::InvalidInput("multipart body: no boundary line \"" + delim + "\" found");
  pos += delim.size();
  std::string next_delim = "\r\n" + delim;
  for (;;) {
    if (body.substr(pos, 2) == "--") return Status::Ok();  // closing delimiter
    if (body.substr(pos, 2) != "\r\n")
      return Status::InvalidInput("multipart body: expected CRLF after boundary at byte " + std::to_string(pos));
    pos += 2;
    if (out->size() >= max_parts)
      return Status::InvalidInput("multipart body: more than " + std::to_string(max_parts) + " parts");
    std::size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos)
      return Status::InvalidInput("multipart body: part headers not terminated at byte " + std::to_string(pos));
    MultipartPart part;
    bool has_disposition = false;
    std::string_view headers = body.substr(pos, headers_end - pos);
    std::size_t h = 0;
    while (h <= headers.size()) {
      std::size_t eol = headers.find("\r\n", h);
      if (eol == std::string_view::npos) eol = headers.size();
      std::string_view line = headers.substr(h, eol - h);
      std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name = Lower(Trim(line.substr(0, colon)));
        std::string_view value = Trim(line.substr(colon + 1));
        if (name == "content-disposition") {
          if (Lower(value.substr(0, 9)) != "form-data")
            return Status::InvalidInput("multipart body: part at byte " + std::to_string(pos) +
                                        " is not form-data");
          has_disposition = true;
          HeaderParam(value, "name", &part.name);
          std::string fn;
          if (HeaderParam(value, "filename*", &fn)) {
            // RFC 5987: UTF-8''percent-encoded
            auto q = fn.find("''");
            part.filename = PercentDecode(q == std::string::npos ? fn : fn.substr(q + 2));
          } else if (HeaderParam(value, "filename", &fn)) {
            part.filename = fn;
          }
        } else if (name == "content-type") {
          part.content_type = std::string(value);
        }
      }
      if (eol == headers.size()) break;
      h = eol + 2;
    }
    if (!has_disposition)
      return Status::InvalidInput("multipart body: part at byte " + std::to_string(pos) +
                                  " has no Content-Disposition");
    std::size_t data_start = headers_end + 4;
    std::size_t data_end = body.find(next_delim, data_start);
    if (data_end == std::string_view::npos)
      return Status::InvalidInput("multipart body: part \"" + part.name + "\" has no closing boundary");
    part.data = std::string(body.substr(data_start, data_end - data_start));
    out->push_back(std::move(part));
    pos = data_end + next_delim.size();
  }
}

}  // namespace ferry::compat::http
