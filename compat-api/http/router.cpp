#include "compat-api/http/router.hpp"

#include <cstdio>

#include "compat-api/http/errors.hpp"
#include "store/snowflake.hpp"

namespace ferry::compat::http {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

namespace {

bool IsParam(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const std::string kEmpty;

}  // namespace

std::string PercentDecode(std::string_view s, bool form) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(form && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i <= query.size() && !query.empty()) {
    std::size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(i, amp - i);
    if (!item.empty()) {
      std::size_t eq = item.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(PercentDecode(item, true), "");
      } else {
        out.emplace_back(PercentDecode(item.substr(0, eq), true), PercentDecode(item.substr(eq + 1), true));
      }
    }
    i = amp + 1;
    if (amp == query.size()) break;
  }
  return out;
}

std::optional<ApiTarget> SplitApiTarget(std::string_view target) {
  ApiTarget t;
  std::size_t q = target.find('?');
  if (q != std::string_view::npos) {
    t.query = std::string(target.substr(q + 1));
    target = target.substr(0, q);
  }
  if (target.substr(0, 4) != "/api") return std::nullopt;
  std::string_view rest = target.substr(4);
  if (!rest.empty() && rest[0] != '/') return std::nullopt;
  if (rest.size() >= 3 && rest[1] == 'v' && rest[2] >= '0' && rest[2] <= '9') {
    std::size_t end = rest.find('/', 1);
    std::string_view ver = rest.substr(2, (end == std::string_view::npos ? rest.size() : end) - 2);
    int v = 0;
    for (char c : ver) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
      if (v > 100) return std::nullopt;
    }
    if (v < 6 || v > 10) return std::nullopt;
    t.version = v == 9 ? 9 : 10;
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  t.path = rest.empty() ? "/" : std::string(rest);
  return t;
}

// ---- Request ----------------------------------------------------------------------------------------------

const std::string& Request::Param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return kEmpty;
}

Snowflake Request::SnowflakeParam(std::string_view name) const {
  const std::string& v = Param(name);
  auto id = ParseSnowflake(v);
  if (!id) ThrowFormError(name, "NUMBER_TYPE_COERCE", "Value \"" + v + "\" is not snowflake.");
  return *id;
}

std::optional<std::string> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return std::nullopt;
}

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (EqualsIgnoreCase(k, name)) return v;
  return {};
}

std::string Request::AuditLogReason() const { return PercentDecode(Header("x-audit-log-reason")); }

const MultipartPart* Request::Part(std::string_view name) const {
  for (const auto& p : parts)
    if (p.name == name) return &p;
  return nullptr;
}

const Json& Request::JsonBody() {
  if (json_) return *json_;
  std::string_view text = body;
  if (!parts.empty()) {
    const MultipartPart* p = Part("payload_json");
    text = p ? std::string_view(p->data) : std::string_view();
  }
  bool blank = true;
  for (char c : text)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') blank = false;
  if (blank) {
    json_ = Json::object();
    return *json_;
  }
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw ApiError(InvalidJson());
  json_ = std::move(j);
  return *json_;
}

// ---- Response ---------------------------------------------------------------------------------------------

Response Response::Json(const ::ferry::Json& j, int status) {
  Response r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, ::ferry::Json::error_handler_t::replace);
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

// ---- Router -----------------------------------------------------------------------------------------------

Router& Router::Global() {
  static Router router;
  return router;
}

void Router::Add(Route route) {
  route.segments.clear();
  for (auto s : SplitPath(route.pattern)) route.segments.emplace_back(s);
  for (const auto& r : routes_) {
    if (r.method == route.method && r.segments == route.segments) {
      std::fprintf(stderr, "ferry: route %s %s registered twice; keeping the first\n", route.method.c_str(),
                   route.pattern.c_str());
      return;
    }
  }
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  auto segs = SplitPath(path);
  const Route* best = nullptr;
  std::uint64_t best_mask = 0;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::uint64_t mask = 0;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size(); ++i) {
      const std::string& p = r.segments[i];
      if (IsParam(p)) continue;
      if (p != segs[i]) {
        ok = false;
        break;
      }
      mask |= 1ull << (63 - std::min<std::size_t>(i, 63));
    }
    if (!ok) continue;
    if (r.method != method) {
      m.path_exists = true;
      continue;
    }
    if (!best || mask > best_mask) {
      best = &r;
      best_mask = mask;
    }
  }
  if (best) {
    m.route = best;
    for (std::size_t i = 0; i < segs.size(); ++i) {
      const std::string& p = best->segments[i];
      if (IsParam(p)) m.params.emplace_back(p.substr(1, p.size() - 2), PercentDecode(segs[i]));
    }
  }
  return m;
}

RouteRegistrar::RouteRegistrar(std::string method, std::string pattern, std::string bucket, Handler handler,
                               Auth auth) {
  Route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.bucket = std::move(bucket);
  r.handler = std::move(handler);
  r.auth = auth;
  Router::Global().Add(std::move(r));
}

}  // namespace ferry::compat::http
