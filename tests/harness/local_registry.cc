#include "tests/harness/local_registry.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/status_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace smz::testing {

using registry::RegistryServer;
using registry::RegistryServerOptions;
namespace v1 = ::smz::registry::v1;

absl::StatusOr<std::unique_ptr<LocalRegistry>> LocalRegistry::Start(
    MariaDbServer& mariadb, const Clock* clock,
    std::function<void(RegistryServerOptions&)> tune) {
  SMZ_ASSIGN_OR_RETURN(DatabaseOptions database,
                       mariadb.CreateServiceDatabase("smz_registry"));
  RegistryServerOptions options;
  options.database = database;
  options.server.listen = "127.0.0.1:0";
  // Tests read its counters (e.g. how often other services asked WhoAmI).
  options.server.metrics_listen = "127.0.0.1:0";
  options.clock = clock;
  if (tune) tune(options);
  absl::StatusOr<std::unique_ptr<RegistryServer>> server =
      RegistryServer::Start(options);
  if (!server.ok()) return server.status();
  std::unique_ptr<LocalRegistry> registry(new LocalRegistry());
  registry->server_ = *std::move(server);
  absl::Status bootstrapped =
      registry->server_->registry()
          .EnsureBootstrapAdminToken([&](const std::string& token) {
            registry->admin_token_ = token;
            return absl::OkStatus();
          })
          .status();
  if (!bootstrapped.ok()) return bootstrapped;
  registry->stub_ = v1::RegistryService::NewStub(grpc::CreateChannel(
      registry->target(), grpc::InsecureChannelCredentials()));
  return registry;
}

std::string LocalRegistry::target() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

absl::StatusOr<std::string> LocalRegistry::IssueToken(
    auth::v1::Role role, absl::string_view display_name, int64_t partner_id) {
  v1::IssueTokenRequest request;
  request.set_role(role);
  request.set_partner_id(partner_id);
  request.set_display_name(std::string(display_name));
  v1::IssueTokenResponse response;
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", admin_token_));
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  grpc::Status status = stub_->IssueToken(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response.token();
}

}  // namespace smz::testing
