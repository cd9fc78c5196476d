#include "services/gateway/gateway_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/aip/status_macros.h"
#include "common/clients/service_channel.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "smz/registry/v1/accounts.grpc.pb.h"

namespace smz::gateway {
namespace {

// Where the HTTP edge reaches this gateway's own gRPC port: loopback when it
// listens on every address, else the one address it listens on (a host
// with several addresses may listen on one only, where loopback would find
// nothing). An IP address, never a name: a name would be looked up again,
// and the callers' credentials go with these calls. The certificate is
// checked for 127.0.0.1, which deploy/tls/make_certs.sh puts in every
// certificate: the gateway calls itself, on its own host.
struct SelfAddress {
  std::string target;
  std::string tls_name;
};
absl::StatusOr<SelfAddress> SelfAddressOf(absl::string_view listen, int port) {
  const size_t colon = listen.rfind(':');
  const std::string host(colon == absl::string_view::npos
                             ? absl::string_view()
                             : listen.substr(0, colon));
  // 127.0.0.1 for [::] too: a dual-stack socket takes it, and a host without
  // IPv6 has gRPC listen on 0.0.0.0 instead.
  if (host.empty() || host == "0.0.0.0" || host == "[::]" ||
      host == "localhost" || host == "127.0.0.1") {
    return SelfAddress{absl::StrCat("127.0.0.1:", port), ""};
  }
  in_addr v4;
  in6_addr v6;
  const bool bracketed =
      host.size() > 2 && host.front() == '[' && host.back() == ']';
  if ((bracketed && inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(),
                              &v6) == 1) ||
      (!bracketed && inet_pton(AF_INET, host.c_str(), &v4) == 1)) {
    return SelfAddress{absl::StrCat(host, ":", port), "127.0.0.1"};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "listen: with an HTTP side the gateway listens on an IP address (or "
      "0.0.0.0, [::], localhost), not '",
      host, "': its HTTP side calls its gRPC port there"));
}

}  // namespace

GatewayServer::GatewayServer(GatewayServerOptions options)
    : options_(std::move(options)) {}

GatewayServer::~GatewayServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    GatewayServerOptions options) {
  for (const auto& [name, target] :
       {std::pair<const char*, const std::string*>{"registry",
                                                   &options.registry_target},
        {"stats", &options.stats_target},
        {"events", &options.events_target},
        {"programme", &options.programme_target}}) {
    if (target->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ", name, " service's address is required"));
    }
  }
  std::unique_ptr<GatewayServer> server(new GatewayServer(std::move(options)));
  GatewayServerOptions& o = server->options_;
  auto channel = [&o, &server](const std::string& target, const char* backend) {
    return CreateServiceChannel(target, o.server.tls, backend,
                                &server->metrics_);
  };
  BackendChannels backends{channel(o.registry_target, "registry"),
                           channel(o.stats_target, "stats"),
                           channel(o.events_target, "events"),
                           channel(o.programme_target, "programme")};
  server->principal_lookup_ =
      std::make_unique<RemotePrincipalLookup>(backends.registry);
  server->authenticator_ = std::make_unique<Authenticator>(
      server->principal_lookup_.get(), o.clock, o.token_cache_ttl);
  server->gateway_ = std::make_unique<Gateway>(backends, o.clock, o.gateway);
  server->runner_ = std::make_unique<RpcRunner>(
      v1::GatewayService::service_full_name(), server->authenticator_.get(),
      &server->metrics_, o.server.tls.trusted_edges);
  if (o.council_cache.max_bytes > 0) {
    server->council_cache_ =
        std::make_unique<CouncilCache>(backends, o.council_cache);
  }
  server->service_ = std::make_unique<GatewayGrpcService>(
      server->gateway_.get(), server->runner_.get(),
      server->council_cache_.get());
  ServerOptions server_options = o.server;
  server_options.health_service_names.push_back(
      v1::GatewayService::service_full_name());
  // Stateless: serving while it runs; a backend outage degrades sections of
  // answers, it does not make the gateway unhealthy.
  server->runtime_ = std::make_unique<ServiceRuntime>(
      server_options, [] { return true; }, &server->metrics_);
  SMZ_RETURN_IF_ERROR(server->runtime_->Start({server->service_.get()}));
  if (!o.http_listen.empty()) {
    // The gateway's own methods through its gRPC port (so that they are
    // authenticated, logged and measured as gRPC calls); every other
    // service's straight to that service, with the caller's credential.
    absl::StatusOr<SelfAddress> self =
        SelfAddressOf(o.server.listen, server->runtime_->port());
    if (!self.ok()) return self.status();
    HttpServiceChannels services{
        {std::string(v1::GatewayService::service_full_name()),
         CreateServiceChannel(self->target, o.server.tls, "gateway",
                              &server->metrics_, self->tls_name)},
        {std::string(registry::v1::RegistryService::service_full_name()),
         backends.registry},
        {std::string(registry::v1::AccountService::service_full_name()),
         backends.registry},
        {std::string(stats::v1::StatsService::service_full_name()),
         backends.stats},
        {std::string(events::v1::EventsService::service_full_name()),
         backends.events},
        {std::string(programme::v1::ProgrammeService::service_full_name()),
         backends.programme}};
    HttpFrontOptions http = o.http;
    RpcMetrics* metrics = &server->metrics_;
    http.on_tls_certificate = [metrics](absl::Time not_after) {
      metrics->SetCertificateExpiry("https", not_after);
    };
    server->http_ =
        std::make_unique<HttpJsonFront>(std::move(services), std::move(http));
    SMZ_RETURN_IF_ERROR(server->http_->Start(o.http_listen));
  }
  return server;
}

void GatewayServer::Shutdown() {
  // HTTP first: its requests go through the gRPC server.
  if (http_ != nullptr) http_->Shutdown();
  if (runtime_ != nullptr) runtime_->Shutdown();
}

}  // namespace smz::gateway
