#include "services/stats/stats_server.h"

#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"
#include "services/stats/stats_schema.h"

namespace smz::stats {

StatsServer::StatsServer(StatsServerOptions options)
    : options_(std::move(options)) {}

StatsServer::~StatsServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<StatsServer>> StatsServer::Start(
    StatsServerOptions options) {
  if (options.registry_token.empty()) {
    return absl::InvalidArgumentError(
        "a registry token for the statistics service is required");
  }
  std::unique_ptr<StatsServer> server(new StatsServer(std::move(options)));
  const StatsServerOptions& o = server->options_;
  SMZ_ASSIGN_OR_RETURN(server->backend_,
                       Backend::Open(BackendOptionsOf(o), StatsMigrations(),
                                     v1::StatsService::service_full_name()));
  server->store_ = std::make_unique<StatsStore>(&server->backend_->database(),
                                                o.clock, o.store);
  server->partners_ = std::make_unique<RegistryPartnerDirectory>(
      server->backend_->registry_channel(), o.registry_token, o.clock,
      o.partner_cache_ttl);
  server->stats_ = std::make_unique<Stats>(
      server->store_.get(), server->partners_.get(), o.clock, o.stats);
  server->service_ = std::make_unique<StatsGrpcService>(
      server->stats_.get(), &server->backend_->runner());
  ServerOptions server_options = o.server;
  // ImportReports takes a CSV of up to 16 MiB; the request around it is
  // small.
  server_options.max_receive_message_bytes =
      static_cast<int>(kMaxImportCsvBytes) + (1 << 20);
  SMZ_RETURN_IF_ERROR(
      server->backend_->Serve(server->service_.get(), server_options));
  return server;
}

void StatsServer::Shutdown() {
  if (backend_ != nullptr) backend_->Shutdown();
}

}  // namespace smz::stats
