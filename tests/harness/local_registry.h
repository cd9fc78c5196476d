// A registry for benchmarks and tests: started on loopback over its own
// database in a private MariaDB, with the bootstrap admin token and a client,
// so a program that needs partners and tokens gets them in one call.
//
//   auto mariadb = smz::testing::MariaDbServer::Start();
//   absl::StatusOr<std::unique_ptr<smz::testing::LocalRegistry>> registry =
//       smz::testing::LocalRegistry::Start(**mariadb, &clock);
//   absl::StatusOr<std::string> analyst =
//       (*registry)->IssueToken(auth::v1::ANALYST, "benchmark");
//   options.registry_target = (*registry)->target();
#ifndef SMZ_TESTS_HARNESS_LOCAL_REGISTRY_H_
#define SMZ_TESTS_HARNESS_LOCAL_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "services/registry/registry_server.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/mariadb_server.h"

namespace smz::testing {

class LocalRegistry {
 public:
  // Creates the database "smz_registry" in `mariadb` (kept when it exists)
  // and starts the server on an ephemeral loopback port with `clock`;
  // `tune` adjusts its options before start. admin_token() is the bootstrap
  // token minted when no ADMIN token is active, else empty.
  static absl::StatusOr<std::unique_ptr<LocalRegistry>> Start(
      MariaDbServer& mariadb, const Clock* clock,
      std::function<void(registry::RegistryServerOptions&)> tune = nullptr);

  registry::RegistryServer& server() { return *server_; }
  registry::v1::RegistryService::Stub& stub() { return *stub_; }
  const std::string& admin_token() const { return admin_token_; }
  std::string target() const;  // "127.0.0.1:<port>"

  // A new token, issued by the administrator.
  absl::StatusOr<std::string> IssueToken(auth::v1::Role role,
                                         absl::string_view display_name,
                                         int64_t partner_id = 0);

 private:
  LocalRegistry() = default;

  std::unique_ptr<registry::RegistryServer> server_;
  std::unique_ptr<registry::v1::RegistryService::Stub> stub_;
  std::string admin_token_;
};

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_LOCAL_REGISTRY_H_
