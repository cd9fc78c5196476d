#include "services/events/events_server.h"

#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"
#include "services/events/events_schema.h"

namespace smz::events {

EventsServer::EventsServer(EventsServerOptions options)
    : options_(std::move(options)) {}

EventsServer::~EventsServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<EventsServer>> EventsServer::Start(
    EventsServerOptions options) {
  if (options.registry_token.empty()) {
    return absl::InvalidArgumentError(
        "a registry token for the events service is required");
  }
  std::unique_ptr<EventsServer> server(new EventsServer(std::move(options)));
  const EventsServerOptions& o = server->options_;
  SMZ_ASSIGN_OR_RETURN(server->backend_,
                       Backend::Open(BackendOptionsOf(o), EventsMigrations(),
                                     v1::EventsService::service_full_name()));
  server->store_ =
      std::make_unique<EventsStore>(&server->backend_->database(), o.clock);
  server->partners_ = std::make_unique<RegistryPartnerDirectory>(
      server->backend_->registry_channel(), o.registry_token, o.clock,
      o.partner_cache_ttl);
  server->events_ = std::make_unique<Events>(
      server->store_.get(), server->partners_.get(), o.clock, o.events);
  server->service_ = std::make_unique<EventsGrpcService>(
      server->events_.get(), &server->backend_->runner());
  ServerOptions server_options = o.server;
  SMZ_RETURN_IF_ERROR(
      server->backend_->Serve(server->service_.get(), server_options));
  return server;
}

void EventsServer::Shutdown() {
  if (backend_ != nullptr) backend_->Shutdown();
}

}  // namespace smz::events
