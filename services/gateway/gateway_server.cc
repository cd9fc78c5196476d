#include "services/gateway/gateway_server.h"

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/clients/service_channel.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "smz/registry/v1/accounts.grpc.pb.h"

namespace smz::gateway {

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
  server->service_ = std::make_unique<GatewayGrpcService>(
      server->gateway_.get(), server->runner_.get());
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
    HttpServiceChannels services{
        {std::string(v1::GatewayService::service_full_name()),
         channel(absl::StrCat("127.0.0.1:", server->runtime_->port()),
                 "gateway")},
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
