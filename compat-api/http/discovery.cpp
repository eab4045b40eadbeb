// Spacebar discovery: clients built for Spacebar find the API, gateway and CDN from these answers.
#include "compat-api/http/api.hpp"
#include "compat-api/http/errors.hpp"

namespace ferry::compat::http {
namespace {

Json Domains(const ServerContext& ctx) {
  return {{"cdn", ctx.cdn_base},       {"gateway", ctx.gateway_url}, {"defaultApiVersion", "10"},
          {"apiEndpoint", ctx.api_base}, {"api", ctx.api_base + "/"}, {"admin", nullptr}};
}

static RouteRegistrar instance_domains{"GET", "/policies/instance/domains", "",
                                       [](ServerContext& ctx, Request&) { return Response::Json(Domains(ctx)); },
                                       Auth::kNone};

static RouteRegistrar instance{"GET", "/policies/instance", "",
                               [](ServerContext& ctx, Request&) {
                                 return Response::Json({{"instanceName", "Ferry"},
                                                        {"instanceDescription",
                                                         "A Discord community's history and bots, moved by Ferry"},
                                                        {"frontPage", nullptr},
                                                        {"tosPage", nullptr},
                                                        {"correspondenceEmail", nullptr},
                                                        {"correspondenceUserID", nullptr},
                                                        {"image", nullptr},
                                                        {"instanceId", "0"},
                                                        {"serverName", ctx.public_base},
                                                        {"autoCreateBotUsers", false}});
                               },
                               Auth::kNone};

}  // namespace

std::optional<Response> ServeWellKnown(ServerContext& ctx, std::string_view path) {
  if (path == "/.well-known/spacebar" || path == "/.well-known/spacebar/")
    return Response::Json({{"api", ctx.api_base + "/"}});
  if (path == "/.well-known/spacebar/client") {
    return Response::Json({
        {"api", {{"baseUrl", ctx.public_base}, {"apiVersions", {{"default", "10"}, {"active", {"9", "10"}}}}}},
        {"cdn", {{"baseUrl", ctx.cdn_base}}},
        {"gateway", {{"baseUrl", ctx.gateway_url}, {"encoding", {"json"}}, {"compression", {"zlib-stream", nullptr}}}},
    });
  }
  return std::nullopt;
}

}  // namespace ferry::compat::http
