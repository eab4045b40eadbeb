#include "compat-api/http/server.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>
#include <optional>

#include "compat-api/gateway/connection.hpp"
#include "compat-api/gateway/hub.hpp"
#include "compat-api/http/api.hpp"
#include "compat-api/http/errors.hpp"
#include "compat-api/http/multipart.hpp"
#include "compat-api/http/rate_limit.hpp"

namespace ferry::compat::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Shared by every connection of the server.
struct State {
  ServerContext& ctx;
  ApiHandler& api;
  gateway::Hub& hub;
  bool access_log = false;
  bool json_access_log = false;
  std::size_t connections = 0;
};

// Counts an open connection for the max-connections cap; moves with the socket (HTTP → WebSocket).
class ConnectionSlot {
 public:
  explicit ConnectionSlot(State* s) : s_(s) { ++s_->connections; }
  ConnectionSlot(ConnectionSlot&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ~ConnectionSlot() {
    if (s_) --s_->connections;
  }

 private:
  State* s_;
};

std::string Remote(const tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---- gateway WebSocket ------------------------------------------------------------------------------------

template <class Stream>
class WsSession : public gateway::GatewayConnection, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, State& st, ConnectionSlot slot, gateway::ConnectOptions opts, std::string remote)
      : GatewayConnection(st.ctx, st.hub, std::move(opts), remote), ws_(std::move(stream)), st_(st),
        slot_(std::move(slot)) {}

  void Accept(bhttp::request<bhttp::string_body> req, std::optional<std::string> option_error, int error_code) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = websocket::stream_base::none();  // the hub's heartbeat deadline handles idle clients
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.read_message_max(st_.ctx.limits.max_ws_frame_bytes);
    ws_.auto_fragment(false);
    ws_.async_accept(req, [self = this->shared_from_this(), option_error, error_code](beast::error_code ec) {
      if (ec) {
        self->OnClosed(0);
        return;
      }
      if (option_error) {
        self->Close(error_code, *option_error);
      } else {
        self->OnOpen();
      }
      self->DoRead();
    });
  }

 protected:
  void WriteFrame(std::string data, bool binary) override {
    queued_bytes_ += data.size();
    queue_.emplace_back(std::move(data), binary);
    if (!writing_) DoWrite();
  }

  void WriteClose(int code, std::string reason) override {
    close_pending_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
    if (!writing_) DoClose();
  }

  std::size_t QueuedBytes() const override { return queued_bytes_; }

 private:
  void DoRead() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        // The client's close code counts even when answering its close frame failed (it hung up at once).
        self->OnClosed(static_cast<int>(self->ws_.reason().code));
        return;
      }
      auto data = self->buffer_.cdata();
      std::string_view text(static_cast<const char*>(data.data()), data.size());
      self->OnMessage(text, !self->ws_.got_text());
      self->buffer_.consume(self->buffer_.size());
      if (self->buffer_.capacity() > 4096) self->buffer_.shrink_to_fit();
      self->DoRead();
    });
  }

  void DoWrite() {
    if (queue_.empty()) return;
    writing_ = true;
    ws_.binary(queue_.front().second);
    ws_.async_write(asio::buffer(queue_.front().first),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->queued_bytes_ -= self->queue_.front().first.size();
                      self->queue_.pop_front();
                      if (ec) {
                        self->queue_.clear();
                        self->queued_bytes_ = 0;
                        return;  // the read side sees the broken socket and ends the connection
                      }
                      if (!self->queue_.empty()) self->DoWrite();
                      else if (self->close_pending_) self->DoClose();
                    });
  }

  void DoClose() {
    if (close_started_) return;
    close_started_ = true;
    websocket::close_reason reason(static_cast<websocket::close_code>(close_code_), close_reason_);
    ws_.async_close(reason, [self = this->shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  websocket::stream<Stream> ws_;
  State& st_;
  ConnectionSlot slot_;
  beast::flat_buffer buffer_;
  std::deque<std::pair<std::string, bool>> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool close_pending_ = false;
  bool close_started_ = false;
  int close_code_ = 1000;
  std::string close_reason_;
};

// ---- HTTP -------------------------------------------------------------------------------------------------

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, State& st, ConnectionSlot slot, std::string remote)
      : stream_(std::move(stream)), st_(st), slot_(std::move(slot)), remote_(std::move(remote)) {}

  void Run() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  spdlog::debug("tls {}: handshake failed: {}", self->remote_, ec.message());
                                  return;
                                }
                                self->DoReadHeader();
                              });
    } else {
      DoReadHeader();
    }
  }

 private:
  void DoReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(st_.ctx.limits.max_header_bytes));
    parser_->body_limit(st_.ctx.limits.max_json_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(st_.ctx.limits.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) return SendError(431, "Request header fields too large");
    if (ec) return DoShutdown();
    started_ = std::chrono::steady_clock::now();
    auto& req = parser_->get();
    if (websocket::is_upgrade(req)) return Upgrade();
    std::string ctype = Lower(std::string(req[bhttp::field::content_type]));
    std::size_t limit = ctype.rfind("multipart/form-data", 0) == 0 ? st_.ctx.limits.max_upload_bytes
                                                                     : st_.ctx.limits.max_json_body_bytes;
    if (auto len = parser_->content_length(); len && *len > limit) return SendApiError(PayloadTooLarge(), false);
    parser_->body_limit(limit);
    if (Lower(std::string(req[bhttp::field::expect])) == "100-continue") {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code ec, std::size_t) {
        if (ec) return self->DoShutdown();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return SendApiError(PayloadTooLarge(), false);
    if (ec) return DoShutdown();
    auto& breq = parser_->get();
    Request req;
    req.method = std::string(breq.method_string());
    req.remote = remote_;
    for (const auto& f : breq) req.headers.emplace_back(Lower(std::string_view(f.name_string().data(), f.name_string().size())), std::string(f.value()));
    std::string ctype(breq[bhttp::field::content_type]);
    std::string boundary = MultipartBoundary(ctype);
    if (!boundary.empty()) {
      Status st = ParseMultipart(breq.body(), boundary, &req.parts);
      if (!st.ok()) {
        FormErrors fe;
        fe.Add("", "MULTIPART_INVALID", st.message());
        return Send(fe.ToResponse(), breq.keep_alive(), "multipart");
      }
    } else {
      req.body = std::move(breq.body());
    }
    std::string route;
    std::string target(breq.target());
    Response res = st_.api.Handle(req, target, &route);
    bot_ = req.authenticated ? req.bot.user_id : 0;
    head_ = req.method == "HEAD";
    target_ = std::move(target);
    method_ = std::move(req.method);
    Send(std::move(res), breq.keep_alive(), route);
  }

  void Upgrade() {
    auto req = parser_->release();
    std::string target(req.target());
    auto q = target.find('?');
    gateway::ConnectOptions opts;
    auto err = gateway::ParseConnectOptions(q == std::string::npos ? "" : std::string_view(target).substr(q + 1), &opts);
    int code = err && err->find("version") != std::string::npos ? 4012 : 4002;
    if (st_.access_log) spdlog::info("{} WS {} gateway upgrade", remote_, target);
    auto ws = std::make_shared<WsSession<Stream>>(std::move(stream_), st_, std::move(slot_), std::move(opts), remote_);
    // Bytes the client sent after the upgrade request (none in practice) would be lost: a conforming client
    // waits for the 101 before sending frames.
    ws->Accept(std::move(req), err, code);
  }

  void SendApiError(Response r, bool keep_alive) { Send(std::move(r), keep_alive, ""); }

  void SendError(int status, const char* text) {
    Response r = Error(status, 0, text);
    Send(std::move(r), false, "");
  }

  void Send(Response r, bool keep_alive, const std::string& route) {
    int status = r.status;
    std::size_t bytes = 0;
    if (!r.file_path.empty()) {
      beast::error_code ec;
      bhttp::file_body::value_type file;
      file.open(r.file_path.c_str(), beast::file_mode::scan, ec);
      if (ec) {
        r = Error(404, 0, "404: Not Found");
        status = 404;
      } else {
        auto res = std::make_shared<bhttp::response<bhttp::file_body>>();
        res->result(static_cast<unsigned>(status));
        res->version(11);
        bytes = file.size();
        res->body() = std::move(file);
        Finish(*res, r, keep_alive);
        if (head_) {
          auto h = std::make_shared<bhttp::response<bhttp::empty_body>>(res->base(), bhttp::empty_body::value_type{});
          h->content_length(bytes);
          return Write(h, keep_alive, status, route, bytes);
        }
        return Write(res, keep_alive, status, route, bytes);
      }
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->result(static_cast<unsigned>(status));
    res->version(11);
    bytes = r.body.size();
    res->body() = head_ ? std::string() : std::move(r.body);
    Finish(*res, r, keep_alive);
    if (head_) res->content_length(bytes);
    Write(res, keep_alive, status, route, bytes);
  }

  template <class Res>
  void Finish(Res& res, const Response& r, bool keep_alive) {
    if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.insert(k, v);
    res.keep_alive(keep_alive);
    if (r.status != 204 && r.status != 304) res.prepare_payload();
  }

  template <class Res>
  void Write(std::shared_ptr<Res> res, bool keep_alive, int status, const std::string& route, std::size_t bytes) {
    Log(status, route, bytes);
    bhttp::async_write(stream_, *res, [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->DoShutdown();
      self->DoReadHeader();
    });
  }

  void Log(int status, const std::string& route, std::size_t bytes) {
    if (!st_.access_log && !st_.json_access_log) return;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    if (st_.json_access_log) {
      Json j = {{"ts", st_.ctx.NowMs()}, {"remote", remote_}, {"method", method_}, {"target", target_},
                {"route", route},        {"status", status},  {"bytes", bytes},     {"ms", ms}};
      if (bot_) j["bot"] = std::to_string(bot_);
      spdlog::get("access")->info(j.dump(-1, ' ', false, Json::error_handler_t::replace));
    } else {
      spdlog::info("{} \"{} {}\" {} {}B {:.2f}ms", remote_, method_, target_, status, bytes, ms);
    }
  }

  void DoShutdown() {
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  State& st_;
  ConnectionSlot slot_;
  std::string remote_;
  beast::flat_buffer buffer_{8192};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::chrono::steady_clock::time_point started_;
  std::string method_, target_;
  Snowflake bot_ = 0;
  bool head_ = false;
};

}  // namespace

// ---- listener ---------------------------------------------------------------------------------------------

struct Server::Impl {
  Impl(ServerContext& ctx, ApiHandler& api, gateway::Hub& hub, RateLimiter& limiter, ServerOptions o)
      : opts(std::move(o)), state{ctx, api, hub, opts.access_log || opts.json_access_log, opts.json_access_log},
        limiter(limiter), acceptor(io), sweep(io), index(io), signals(io) {}

  ServerOptions opts;
  asio::io_context io{1};
  State state;
  RateLimiter& limiter;
  std::optional<asio::ssl::context> ssl;
  tcp::acceptor acceptor;
  asio::steady_timer sweep;
  asio::steady_timer index;
  asio::signal_set signals;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        spdlog::warn("accept failed: {}", ec.message());
      } else if (state.connections >= state.ctx.limits.max_connections) {
        spdlog::warn("refusing {}: {} connections open (limit)", Remote(socket), state.connections);
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::string remote = Remote(socket);
        socket.set_option(tcp::no_delay(true), ec);
        ConnectionSlot slot(&state);
        if (ssl) {
          std::make_shared<HttpSession<TlsStream>>(TlsStream(PlainStream(std::move(socket)), *ssl), state,
                                                   std::move(slot), remote)
              ->Run();
        } else {
          std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), state, std::move(slot), remote)
              ->Run();
        }
      }
      Accept();
    });
  }

  // The store defers search indexing of new messages (OpenOptions::defer_search_index): they become
  // searchable within a tenth of a second, indexed that much at a time instead of one commit each. (A
  // second's worth at 5,000 messages/s holds the server thread for some 40 ms: the POST p99.)
  void IndexForSearch() {
    index.expires_after(std::chrono::milliseconds(100));
    index.async_wait([this](beast::error_code ec) {
      if (ec) return;
      // At most 2,000 a tick (a few ms): a queue an import beside the server fills is worked off in
      // small steps between requests instead of in one long stall.
      Status st = state.ctx.store.FlushSearchIndex(nullptr, 2000);
      if (!st.ok()) spdlog::warn("indexing new messages for search: {}", st.ToString());
      IndexForSearch();
    });
  }

  void Sweep() {
    sweep.expires_after(std::chrono::seconds(5));
    sweep.async_wait([this](beast::error_code ec) {
      if (ec) return;
      std::int64_t now = state.ctx.NowMs();
      state.hub.Sweep(now);
      limiter.Sweep(now);
      Sweep();
    });
  }
};

Server::Server(ServerContext& ctx, ApiHandler& api, gateway::Hub& hub, RateLimiter& limiter, ServerOptions opts)
    : impl_(std::make_unique<Impl>(ctx, api, hub, limiter, std::move(opts))) {
  if (impl_->state.json_access_log && !spdlog::get("access")) {
    auto logger = spdlog::default_logger()->clone("access");
    logger->set_pattern("%v");
    spdlog::register_logger(logger);
  }
}

Server::~Server() = default;

Status Server::Start() {
  auto& o = impl_->opts;
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty())
      return Status::InvalidInput("TLS needs both --tls-cert and --tls-key");
    impl_->ssl.emplace(asio::ssl::context::tls_server);
    impl_->ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    beast::error_code ec;
    impl_->ssl->use_certificate_chain_file(o.tls_cert, ec);
    if (ec) return Status::InvalidInput("TLS certificate " + o.tls_cert + ": " + ec.message());
    impl_->ssl->use_private_key_file(o.tls_key, asio::ssl::context::pem, ec);
    if (ec) return Status::InvalidInput("TLS key " + o.tls_key + ": " + ec.message());
  }
  beast::error_code ec;
  auto addr = asio::ip::make_address(o.host, ec);
  if (ec) return Status::InvalidInput("listen address \"" + o.host + "\" is not an IP address: " + ec.message());
  tcp::endpoint ep(addr, o.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  impl_->Accept();
  impl_->Sweep();
  impl_->IndexForSearch();
  return Status::Ok();
}

unsigned short Server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

bool Server::tls() const { return impl_->ssl.has_value(); }

void Server::Run() { impl_->io.run(); }

void Server::Stop() {
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->io.stop();
  });
}

void Server::HandleSignals() {
  impl_->signals.add(SIGINT);
  impl_->signals.add(SIGTERM);
  impl_->signals.async_wait([this](beast::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: stopping", sig);
    Stop();
  });
}

}  // namespace ferry::compat::http
