// The network side of `ferry serve`: one listening socket for HTTP and the gateway WebSocket (an upgrade on
// any path is the gateway), plain or TLS (OpenSSL, when a certificate is given), async on one io_context
// thread. Per connection: bounded header/body/frame sizes (ServerContext::limits), an idle/slow-client
// timeout, and a cap on open connections (more are closed at once).
#pragma once

#include <memory>
#include <string>

#include "compat-api/context.hpp"
#include "store/status.hpp"

namespace ferry::compat {
namespace gateway {
class Hub;
}
namespace http {

class ApiHandler;
class RateLimiter;

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: an ephemeral port (see Server::port())
  std::string tls_cert;        // PEM certificate chain; with tls_key turns on HTTPS/WSS
  std::string tls_key;         // PEM private key
  bool access_log = false;       // one line per request at info level
  bool json_access_log = false;  // one JSON object per request (implies access_log)
};

class Server {
 public:
  Server(ServerContext& ctx, ApiHandler& api, gateway::Hub& hub, RateLimiter& limiter, ServerOptions opts);
  ~Server();

  // Loads the certificate and binds the socket. Errors name the address or file and say why.
  Status Start();
  unsigned short port() const;
  bool tls() const;
  // Runs until Stop() (or SIGINT/SIGTERM when HandleSignals() was called).
  void Run();
  void Stop();
  void HandleSignals();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace http
}  // namespace ferry::compat
