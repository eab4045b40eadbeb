// ferry serve: the Discord HTTP API v10 + Gateway v10 over a store, for unmodified bots.
//
//   ferry serve --store community.db --listen 127.0.0.1:8080 [--tls-cert F --tls-key F] [--public-url URL]
//               [--json-access-log] [--access-log] [--insecure-listen] [--no-rate-limits] [--max-connections N]
//
// Plain HTTP only on loopback (DESIGN): a non-loopback --listen needs --tls-cert/--tls-key, or
// --insecure-listen (e.g. behind a TLS-terminating proxy that sets --public-url). Prints the API base URL,
// the gateway URL and the CDN base on stdout (one JSON object with --json), then serves until SIGINT/SIGTERM.
#include <cstdio>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "cli/command.hpp"
#include "cli/store_open.hpp"
#include "compat-api/context.hpp"
#include "compat-api/gateway/hub.hpp"
#include "compat-api/http/api.hpp"
#include "compat-api/http/rate_limit.hpp"
#include "compat-api/http/server.hpp"
#include "compat-api/permissions.hpp"
#include "compat-api/render_cache.hpp"
#include "store/snowflake.hpp"

namespace ferry::cli {
namespace {

struct ServeOptions {
  std::string store;
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert, tls_key;
  std::string public_url;
  bool json_access_log = false;
  bool access_log = false;
  bool insecure_listen = false;
  bool no_rate_limits = false;
  bool verbose = false;
  std::size_t max_connections = 4096;
};

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080" → host, port. Error text names the value.
bool ParseListen(const std::string& s, std::string* host, unsigned short* port, std::string* err) {
  std::string h, p;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      *err = "--listen " + s + ": expected [IPv6]:PORT";
      return false;
    }
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) {
      *err = "--listen " + s + ": expected HOST:PORT, e.g. 127.0.0.1:8080";
      return false;
    }
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (h == "localhost") h = "127.0.0.1";
  if (h.empty() || p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(p) > 65535) {
    *err = "--listen " + s + ": expected HOST:PORT with a port 0-65535";
    return false;
  }
  *host = h;
  *port = static_cast<unsigned short>(std::stoi(p));
  return true;
}

bool IsLoopback(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1";
}

int Run(const ServeOptions& o) {
  if (o.verbose) spdlog::set_level(spdlog::level::debug);
  std::string host, err;
  unsigned short port = 0;
  if (!ParseListen(o.listen, &host, &port, &err)) {
    std::fprintf(stderr, "ferry serve: %s\n", err.c_str());
    return kExitUsage;
  }
  bool tls = !o.tls_cert.empty() || !o.tls_key.empty();
  if (tls && (o.tls_cert.empty() || o.tls_key.empty())) {
    std::fprintf(stderr, "ferry serve: TLS needs both --tls-cert and --tls-key\n");
    return kExitUsage;
  }
  if (!tls && !IsLoopback(host) && !o.insecure_listen) {
    std::fprintf(stderr,
                 "ferry serve: refusing plain HTTP on %s: bot tokens would cross the network unencrypted. Give "
                 "--tls-cert and --tls-key, listen on 127.0.0.1, or pass --insecure-listen when a TLS proxy sits "
                 "in front (and set --public-url to its address).\n",
                 host.c_str());
    return kExitUsage;
  }

  std::unique_ptr<Store> store;
  OpenOptions store_opts;
  store_opts.defer_search_index = true;  // indexed every 100 ms by the server (compat-api/http/server.cpp)
  store_opts.checkpoint_in_background = true;
  if (int rc = OpenExistingStore(o.store, &store, store_opts); rc != kExitOk) return rc;

  Snowflake floor = 0;
  if (Status st = store->MaxSnowflake(&floor); !st.ok()) {
    std::fprintf(stderr, "ferry serve: reading %s: %s\n", o.store.c_str(), st.ToString().c_str());
    return kExitStore;
  }
  SnowflakeGenerator ids(1, 0);
  ids.SetFloor(floor);

  compat::gateway::Hub hub;
  compat::ServerContext ctx{*store, ids, hub};
  ctx.limits.max_connections = o.max_connections;
  ctx.can_view_channel = [&store](Snowflake user_id, const Channel& channel) {
    compat::Permissions p = 0;
    if (!compat::PermissionsInChannel(*store, channel, user_id, &p).ok()) return false;
    return compat::Has(p, compat::perm::kViewChannel);
  };
  compat::RenderCache render_cache;
  ctx.render_cache = &render_cache;
  hub.set_context(&ctx);
  compat::http::RateLimiter limiter(!o.no_rate_limits);
  compat::http::ApiHandler api(ctx, limiter);
  compat::http::ServerOptions so;
  so.host = host;
  so.port = port;
  so.tls_cert = o.tls_cert;
  so.tls_key = o.tls_key;
  so.access_log = o.access_log;
  so.json_access_log = o.json_access_log;
  compat::http::Server server(ctx, api, hub, limiter, so);
  if (Status st = server.Start(); !st.ok()) {
    std::fprintf(stderr, "ferry serve: %s\n", st.ToString().c_str());
    return st.code() == Status::Code::kInvalidInput ? kExitUsage : kExitRuntime;
  }
  // Before the URLs are printed: a supervisor may send SIGTERM as soon as it has read them.
  server.HandleSignals();

  std::string base = o.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.empty()) {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (h == "0.0.0.0" || h == "[::]") h = "127.0.0.1";
    base = std::string(tls ? "https://" : "http://") + h + ":" + std::to_string(server.port());
  }
  std::string ws_base = base.rfind("https://", 0) == 0 ? "wss://" + base.substr(8)
                        : base.rfind("http://", 0) == 0 ? "ws://" + base.substr(7)
                                                        : base;
  ctx.public_base = base;
  ctx.api_base = base + "/api";
  ctx.gateway_url = ws_base;
  ctx.cdn_base = base + "/cdn";

  if (JsonOutput()) {
    std::printf("%s\n", Json{{"api", ctx.api_base},
                             {"gateway", ctx.gateway_url},
                             {"cdn", ctx.cdn_base},
                             {"listen", host + ":" + std::to_string(server.port())},
                             {"tls", tls}}
                            .dump()
                            .c_str());
  } else {
    std::printf("ferry serve: %s on %s:%u\n", o.store.c_str(), host.c_str(), server.port());
    std::printf("API base URL: %s\n", ctx.api_base.c_str());
    std::printf("Gateway URL:  %s\n", ctx.gateway_url.c_str());
    std::printf("CDN base URL: %s\n", ctx.cdn_base.c_str());
  }
  std::fflush(stdout);
  spdlog::info("serving {} (ids above {}), {} rate limits", o.store, floor, o.no_rate_limits ? "without" : "with");
  server.Run();
  spdlog::info("stopped");
  return kExitOk;
}

static Registrar reg("serve", "Serve the Discord HTTP API v10 and Gateway v10 over a store, for unmodified bots",
                     [](CLI::App& app) {
                       auto o = std::make_shared<ServeOptions>();
                       app.add_option("--store", o->store, "Store file (made by `ferry import`)")->required();
                       app.add_option("--listen", o->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
                       app.add_option("--tls-cert", o->tls_cert, "PEM certificate chain: serve HTTPS/WSS");
                       app.add_option("--tls-key", o->tls_key, "PEM private key for --tls-cert");
                       app.add_option("--public-url", o->public_url,
                                      "Base URL clients reach the server at (e.g. https://chat.example.org)");
                       app.add_flag("--json-access-log", o->json_access_log, "One JSON line per request on stderr");
                       app.add_flag("--access-log", o->access_log, "One text line per request on stderr");
                       app.add_flag("--insecure-listen", o->insecure_listen,
                                    "Allow plain HTTP on a non-loopback address (behind a TLS proxy)");
                       app.add_flag("--no-rate-limits", o->no_rate_limits, "Disable rate limits (benchmarks)");
                       app.add_option("--max-connections", o->max_connections, "Open connections at most");
                       app.add_flag("-v,--verbose", o->verbose, "Debug logging");
                       static bool json_flag = false;  // read through JsonOutput()
                       app.add_flag("--json", json_flag, "Print the URLs as one JSON object");
                       return [o]() { return Run(*o); };
                     });

}  // namespace
}  // namespace ferry::cli
