// A complete registry server in one object: the shared Backend (database
// pool, migrations, health, reflection, metrics) with callers resolved from
// the registry's own token and session tables, the bootstrap admin token,
// and the two gRPC services (RegistryService, AccountService). The binary
// (registry_main.cc), the tests and the benchmark all start it the same way.
//
//   RegistryServerOptions options;
//   options.database = ...;               // the registry's own database
//   options.server.listen = "127.0.0.1:0";
//   auto server = RegistryServer::Start(options);
//   int port = (*server)->port();
//   (*server)->Shutdown();
#ifndef SMZ_SERVICES_REGISTRY_REGISTRY_SERVER_H_
#define SMZ_SERVICES_REGISTRY_REGISTRY_SERVER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "common/mail/outbox.h"
#include "common/mail/smtp_sender.h"
#include "common/mysql/database.h"
#include "common/server/backend.h"
#include "common/server/metrics.h"
#include "common/server/service_runtime.h"
#include "services/registry/account_grpc_service.h"
#include "services/registry/accounts.h"
#include "services/registry/password_hasher.h"
#include "services/registry/registry.h"
#include "services/registry/registry_grpc_service.h"
#include "services/registry/registry_store.h"
#include "services/registry/sign_in_throttle.h"

namespace smz::registry {

struct RegistryServerOptions {
  ServerOptions server;
  DatabaseOptions database;
  // How long start-up waits for the database to apply migrations.
  absl::Duration startup_timeout = absl::Seconds(60);
  absl::Duration token_cache_ttl = absl::Seconds(10);
  const Clock* clock = &SystemClock::Get();
  RandomSource* random = nullptr;  // null: SecureRandom
  // When set, on a deployment's first start (no active ADMIN token) a new
  // admin token is handed to this function (e.g. to write a 0600 file)
  // before the server starts serving, so "SERVING" implies it exists.
  std::function<absl::Status(const std::string& token)>
      deliver_bootstrap_admin_token;
  // Tokens an operator made, registered before serving (their hashes, when
  // not yet stored); a provisioned ADMIN token means no bootstrap token is
  // minted. See provisioned_tokens.h.
  std::vector<ProvisionedToken> provisioned_tokens;
  // What a password check costs (tests may make it cheaper).
  PasswordCost password_cost = kDefaultPasswordCost;
  // Mail: account invitations and password resets to the account's
  // address, sent by a worker through the relay; without one, mail waits
  // in the outbox.
  OutboxOptions outbox;
  std::optional<SmtpOptions> smtp;
  MailSender* mail_sender = nullptr;  // tests: instead of a relay
  absl::Duration mail_poll = absl::Seconds(2);
  // The gateway's address, which the mailed links open; empty, or no relay
  // (smtp, mail_sender): links are only answered to the administrator, not
  // mailed.
  std::string public_url;
  // The district's addresses for the weekly digest of designations and
  // registrations running out (expiry_digest.h); empty: none.
  std::vector<std::string> district_mail;
};

class RegistryServer {
 public:
  // Break-glass, without serving: applies the migrations, then issues a new
  // ADMIN token (Registry::IssueBreakGlassAdminToken) delivered to
  // `deliver`, audited as by `actor`.
  static absl::StatusOr<v1::TokenInfo> IssueBreakGlassAdminToken(
      const RegistryServerOptions& options, absl::string_view actor,
      absl::FunctionRef<absl::Status(const std::string& token)> deliver);

  // Break-glass for people: applies the migrations, then makes `login` an
  // enabled ADMIN account (created when missing) and answers a one-time
  // link that sets its password (Accounts::BreakGlassAdminAccount).
  static absl::StatusOr<v1::AccountLinkResponse> BreakGlassAdminAccount(
      const RegistryServerOptions& options, absl::string_view login,
      absl::string_view actor);

  static absl::StatusOr<std::unique_ptr<RegistryServer>> Start(
      RegistryServerOptions options);
  ~RegistryServer();

  int port() const { return backend_->port(); }
  int metrics_port() const { return backend_->metrics_port(); }
  Registry& registry() { return *registry_; }
  Accounts& accounts() { return *accounts_; }
  RpcMetrics& metrics() { return backend_->metrics(); }
  // Stops accepting, finishes in-flight RPCs, closes the pool. Idempotent.
  void Shutdown();

 private:
  explicit RegistryServer(RegistryServerOptions options);

  RegistryServerOptions options_;
  SecureRandom secure_random_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<RegistryStore> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<RegistryGrpcService> service_;
  std::unique_ptr<AccountStore> account_store_;
  std::unique_ptr<SignInThrottle> throttle_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<RpcRunner> account_runner_;
  std::unique_ptr<AccountGrpcService> account_service_;
  std::unique_ptr<SmtpSender> smtp_sender_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<OutboxWorker> mail_worker_;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_REGISTRY_SERVER_H_
