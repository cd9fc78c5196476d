#include "services/programme/programme_server.h"

#include "common/aip/status_macros.h"
#include "services/programme/programme_schema.h"

namespace smz::programme {

ProgrammeServer::ProgrammeServer(ProgrammeServerOptions options)
    : options_(std::move(options)) {}

ProgrammeServer::~ProgrammeServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<ProgrammeServer>> ProgrammeServer::Start(
    ProgrammeServerOptions options) {
  std::unique_ptr<ProgrammeServer> server(
      new ProgrammeServer(std::move(options)));
  const ProgrammeServerOptions& o = server->options_;
  SMZ_ASSIGN_OR_RETURN(
      server->backend_,
      Backend::Open(BackendOptionsOf(o), ProgrammeMigrations(),
                    v1::ProgrammeService::service_full_name()));
  server->store_ =
      std::make_unique<ProgrammeStore>(&server->backend_->database(), o.clock);
  server->programme_ = std::make_unique<Programme>(server->store_.get());
  server->service_ = std::make_unique<ProgrammeGrpcService>(
      server->programme_.get(), &server->backend_->runner());
  // The gateway's council tables read projects, indicators and budgets:
  // every write moves the stamp it checks.
  SMZ_RETURN_IF_ERROR(server->backend_->StampEveryWrite());
  ServerOptions server_options = o.server;
  SMZ_RETURN_IF_ERROR(
      server->backend_->Serve(server->service_.get(), server_options));
  return server;
}

void ProgrammeServer::Shutdown() {
  if (backend_ != nullptr) backend_->Shutdown();
}

}  // namespace smz::programme
