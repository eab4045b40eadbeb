#include "exporters/matrix/http_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

namespace ferry::matrix {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

class BeastClient : public HttpClient {
 public:
  BeastClient(bool tls, std::string host, std::string port, std::string prefix, HttpOptions options)
      : tls_(tls), host_(std::move(host)), port_(std::move(port)), prefix_(std::move(prefix)),
        options_(options), ctx_(ssl::context::tls_client) {
    if (tls_) {
      ctx_.set_default_verify_paths();
      ctx_.set_verify_mode(ssl::verify_peer);
      ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    }
    bool default_port = (tls_ && port_ == "443") || (!tls_ && port_ == "80");
    host_header_ = default_port ? host_ : host_ + ":" + port_;
  }

  Status Request(const std::string& method, const std::string& target, const std::string& bearer,
                 const std::string& content_type, const std::string* body, const std::string* body_file,
                 HttpResponse* out) override {
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) return Status::InvalidInput("unknown HTTP method " + method);
    if (!connected_) FERRY_RETURN_IF_ERROR(Connect());
    Status st;
    if (body_file) {
      http::request<http::file_body> req{verb, prefix_ + target, 11};
      beast::error_code ec;
      req.body().open(body_file->c_str(), beast::file_mode::scan, ec);
      if (ec) return Status::IoError(*body_file + ": cannot open for upload (" + ec.message() + ")");
      Prepare(req, bearer, content_type);
      st = Exchange(req, out);
    } else {
      http::request<http::string_body> req{verb, prefix_ + target, 11};
      if (body) req.body() = *body;
      Prepare(req, bearer, content_type);
      st = Exchange(req, out);
    }
    if (!st.ok()) Close();
    return st;
  }

 private:
  template <class Req>
  void Prepare(Req& req, const std::string& bearer, const std::string& content_type) {
    req.set(http::field::host, host_header_);
    req.set(http::field::user_agent, std::string("ferry/") + FERRY_VERSION);
    req.set(http::field::accept, "application/json");
    if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.keep_alive(true);
    req.prepare_payload();
  }

  // Runs one asynchronous operation to completion on this thread; the stream's expiry bounds it.
  template <class Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = net::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_stream_) : *plain_; }

  Status Connect() {
    Close();
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host_, port_, ec);
    if (ec) return Status::IoError("cannot resolve " + host_ + ": " + ec.message());
    if (tls_) tls_stream_.emplace(ioc_, ctx_);
    else plain_.emplace(ioc_);
    Lowest().expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
    ec = Run([&](auto h) { Lowest().async_connect(results, h); });
    if (ec) {
      Close();
      return Status::IoError("cannot connect to " + host_ + ":" + port_ + ": " + ec.message());
    }
    if (tls_) {
      if (!SSL_set_tlsext_host_name(tls_stream_->native_handle(), host_.c_str())) {
        Close();
        return Status::IoError("TLS: cannot set SNI host name " + host_);
      }
      tls_stream_->set_verify_mode(ssl::verify_peer);
      tls_stream_->set_verify_callback(ssl::host_name_verification(host_));
      ec = Run([&](auto h) { tls_stream_->async_handshake(ssl::stream_base::client, h); });
      if (ec) {
        Close();
        std::string what = "TLS handshake with " + host_ + " failed (certificate verification is on): " + ec.message();
        // A certificate the system does not trust will not become trusted by retrying: fail at once.
        if (ec.category() == net::error::get_ssl_category()) return Status::PermissionDenied(what);
        return Status::IoError(what);
      }
    }
    buffer_.clear();
    connected_ = true;
    return Status::Ok();
  }

  void Close() {
    connected_ = false;
    if (plain_) {
      beast::error_code ec;
      plain_->socket().close(ec);
      plain_.reset();
    }
    if (tls_stream_) {
      beast::error_code ec;
      beast::get_lowest_layer(*tls_stream_).socket().close(ec);
      tls_stream_.reset();
    }
    buffer_.clear();
  }

  template <class Req>
  Status Exchange(Req& req, HttpResponse* out) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    Lowest().expires_after(std::chrono::milliseconds(options_.io_timeout_ms));
    beast::error_code ec;
    if (tls_) {
      ec = Run([&](auto h) { http::async_write(*tls_stream_, req, h); });
      if (!ec) ec = Run([&](auto h) { http::async_read(*tls_stream_, buffer_, parser, h); });
    } else {
      ec = Run([&](auto h) { http::async_write(*plain_, req, h); });
      if (!ec) ec = Run([&](auto h) { http::async_read(*plain_, buffer_, parser, h); });
    }
    if (ec) {
      std::string what = ec == beast::error::timeout ? "timed out" : ec.message();
      return Status::IoError(std::string(req.method_string()) + " " + host_ + " failed: " + what);
    }
    auto& res = parser.get();
    out->status = static_cast<int>(res.result_int());
    out->body = std::move(res.body());
    out->content_type = std::string(res[http::field::content_type]);
    out->retry_after = std::string(res[http::field::retry_after]);
    if (!res.keep_alive()) Close();
    return Status::Ok();
  }

  bool tls_;
  std::string host_, port_, prefix_, host_header_;
  HttpOptions options_;
  net::io_context ioc_;
  ssl::context ctx_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace

Status HttpClient::Create(const std::string& base_url, const HttpOptions& options, std::unique_ptr<HttpClient>* out) {
  std::string url = base_url;
  bool tls;
  if (url.rfind("https://", 0) == 0) {
    tls = true;
    url = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    tls = false;
    url = url.substr(7);
  } else {
    return Status::InvalidInput("--homeserver '" + base_url + "': must start with https:// (or http:// for a local server)");
  }
  std::string prefix;
  size_t slash = url.find('/');
  if (slash != std::string::npos) {
    prefix = url.substr(slash);
    url = url.substr(0, slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  }
  std::string host = url, port = tls ? "443" : "80";
  if (!url.empty() && url[0] == '[') {  // [::1]:8008
    size_t close = url.find(']');
    if (close == std::string::npos) return Status::InvalidInput("--homeserver '" + base_url + "': bad IPv6 address");
    host = url.substr(1, close - 1);
    if (close + 1 < url.size() && url[close + 1] == ':') port = url.substr(close + 2);
  } else {
    size_t colon = url.rfind(':');
    if (colon != std::string::npos) {
      host = url.substr(0, colon);
      port = url.substr(colon + 1);
    }
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidInput("--homeserver '" + base_url + "': expected scheme://host[:port]");
  *out = std::make_unique<BeastClient>(tls, host, port, prefix, options);
  return Status::Ok();
}

}  // namespace ferry::matrix
