#include "services/registry/registry_server.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"
#include "common/mail/mail_message.h"
#include "common/mysql/migrations.h"
#include "services/registry/expiry_digest.h"
#include "services/registry/registry_schema.h"

namespace smz::registry {
namespace {

// The break-glass commands work on the registry's database without serving
// it, after the migrations any start would apply.
absl::Status MigrateWithoutServing(const RegistryServerOptions& options,
                                   Database& database) {
  return ApplyMigrationsWhenReady(database, RegistryMigrations(),
                                  *options.clock, options.startup_timeout);
}

}  // namespace

RegistryServer::RegistryServer(RegistryServerOptions options)
    : options_(std::move(options)) {}

RegistryServer::~RegistryServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    RegistryServerOptions options) {
  for (const std::string& address : options.district_mail) {
    if (!IsMailAddress(address)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "district_mail: '", address, "' is not an address mail can carry"));
    }
  }
  if (options.outbox.service.empty()) options.outbox.service = "registry";
  if (options.outbox.from.empty()) {
    options.outbox.from = "smz@smz.yeongdeungpo.example";
  }
  std::unique_ptr<RegistryServer> server(
      new RegistryServer(std::move(options)));
  RegistryServerOptions& o = server->options_;
  if (o.outbox.worker_id.empty()) {
    o.outbox.worker_id =
        absl::StrCat("registry@", reinterpret_cast<uintptr_t>(server.get()));
  }
  RandomSource* random =
      o.random != nullptr ? o.random : &server->secure_random_;
  BackendOptions backend_options;
  backend_options.database = o.database;
  backend_options.startup_timeout = o.startup_timeout;
  backend_options.token_cache_ttl = o.token_cache_ttl;
  backend_options.clock = o.clock;
  // The registry resolves callers from its own token and session tables.
  backend_options.local_lookup = [clock = o.clock](Database& database) {
    return std::make_unique<RegistryStore>(&database, clock);
  };
  SMZ_ASSIGN_OR_RETURN(server->backend_,
                       Backend::Open(backend_options, RegistryMigrations(),
                                     v1::RegistryService::service_full_name()));
  Backend& backend = *server->backend_;
  server->store_ =
      std::make_unique<RegistryStore>(&backend.database(), o.clock);
  server->store_->UseReplicaForLists(backend.replica_reads());
  server->registry_ = std::make_unique<Registry>(
      server->store_.get(), &backend.authenticator(), o.clock, random);
  // A restored backup first: the provisioned tokens are kept through it.
  SMZ_RETURN_IF_ERROR(
      server->registry_->ReviewAfterRestore(o.provisioned_tokens).status());
  SMZ_RETURN_IF_ERROR(
      server->registry_->EnsureProvisionedTokens(o.provisioned_tokens)
          .status());
  if (o.deliver_bootstrap_admin_token) {
    SMZ_ASSIGN_OR_RETURN(bool created,
                         server->registry_->EnsureBootstrapAdminToken(
                             o.deliver_bootstrap_admin_token));
    if (created) Log(LogLevel::kInfo, "bootstrap admin token created");
  }
  MailSender* sender = o.mail_sender;
  if (sender == nullptr && o.smtp.has_value()) {
    server->smtp_sender_ = std::make_unique<SmtpSender>(*o.smtp, o.clock);
    sender = server->smtp_sender_.get();
  }
  server->outbox_ =
      std::make_unique<Outbox>(&backend.database(), sender, o.clock, o.outbox);
  server->service_ = std::make_unique<RegistryGrpcService>(
      server->registry_.get(), server->outbox_.get(), &backend.runner());
  server->account_store_ =
      std::make_unique<AccountStore>(&backend.database(), o.clock);
  server->throttle_ =
      std::make_unique<SignInThrottle>(&backend.database(), o.clock);
  server->hasher_ = std::make_unique<PasswordHasher>(o.password_cost);
  server->accounts_ = std::make_unique<Accounts>(
      server->account_store_.get(), server->throttle_.get(),
      server->hasher_.get(), &backend.authenticator(), o.clock, random,
      // Without a relay a mailed link would wait in the outbox in plain
      // text for as long as it works: then links are only answered.
      sender != nullptr ? o.public_url : std::string());
  server->account_runner_ =
      backend.MakeRunner(v1::AccountService::service_full_name());
  server->account_service_ = std::make_unique<AccountGrpcService>(
      server->accounts_.get(), server->account_runner_.get());
  // The gateway's council tables read partners and their counts: their
  // stamp, unless counts come from a replica (which may be older).
  backend.set_freshness_fence(server->store_->ReadsCountsFromReplica()
                                  ? nullptr
                                  : &server->store_->directory_fence());
  ServerOptions serving = o.server;
  serving.health_service_names.push_back(
      v1::AccountService::service_full_name());
  SMZ_RETURN_IF_ERROR(backend.Serve(
      {server->service_.get(), server->account_service_.get()}, serving));
  OutboxWorkerOptions worker;
  worker.poll = o.mail_poll;
  // Hourly: the district's weekly digest of what runs out (its key keeps
  // it to one a week).
  worker.before_pass = [server = server.get(),
                        last_sweep = absl::InfinitePast()]() mutable {
    const RegistryServerOptions& options = server->options_;
    const absl::Time now = options.clock->Now();
    if (last_sweep != absl::InfinitePast() && now >= last_sweep &&
        now - last_sweep < absl::Hours(1)) {
      return absl::OkStatus();
    }
    absl::StatusOr<int> queued =
        QueueExpiryDigest(*server->store_, server->backend_->database(), now,
                          options.district_mail, options.public_url);
    if (!queued.ok()) return queued.status();
    last_sweep = now;
    return absl::OkStatus();
  };
  server->mail_worker_ =
      std::make_unique<OutboxWorker>(server->outbox_.get(), worker);
  return server;
}

namespace {

// Break-glass by hand after a restore, before the registry's first start:
// the review would revoke what it issues, and it does not know the
// provisioned secrets the service's unit hands over (revoking those too).
absl::Status RefuseWhileRestoreUnreviewed(
    Database& database, const RegistryServerOptions& options) {
  RegistryStore store(&database, options.clock);
  SMZ_ASSIGN_OR_RETURN(bool pending, store.RestoreUnreviewed());
  if (!pending) return absl::OkStatus();
  database.Close();
  return absl::FailedPreconditionError(
      "a restored backup awaits the registry's first start, which reviews "
      "its credentials: start the registry (with its secrets) first");
}

}  // namespace

absl::StatusOr<v1::AccountLinkResponse> RegistryServer::BreakGlassAdminAccount(
    const RegistryServerOptions& options, absl::string_view login,
    absl::string_view actor) {
  Database database(options.database);
  SMZ_RETURN_IF_ERROR(MigrateWithoutServing(options, database));
  SecureRandom secure_random;
  RandomSource* random =
      options.random != nullptr ? options.random : &secure_random;
  SMZ_RETURN_IF_ERROR(RefuseWhileRestoreUnreviewed(database, options));
  AccountStore store(&database, options.clock);
  SignInThrottle throttle(&database, options.clock);
  PasswordHasher hasher(options.password_cost);
  Accounts accounts(&store, &throttle, &hasher, /*authenticator=*/nullptr,
                    options.clock, random);
  absl::StatusOr<v1::AccountLinkResponse> link =
      accounts.BreakGlassAdminAccount(login, actor);
  database.Close();
  return link;
}

absl::StatusOr<v1::TokenInfo> RegistryServer::IssueBreakGlassAdminToken(
    const RegistryServerOptions& options, absl::string_view actor,
    absl::FunctionRef<absl::Status(const std::string& token)> deliver) {
  Database database(options.database);
  SMZ_RETURN_IF_ERROR(MigrateWithoutServing(options, database));
  SecureRandom secure_random;
  RandomSource* random =
      options.random != nullptr ? options.random : &secure_random;
  RegistryStore store(&database, options.clock);
  Registry registry(&store, /*authenticator=*/nullptr, options.clock, random);
  SMZ_RETURN_IF_ERROR(RefuseWhileRestoreUnreviewed(database, options));
  absl::StatusOr<v1::TokenInfo> issued =
      registry.IssueBreakGlassAdminToken(actor, deliver);
  database.Close();
  return issued;
}

void RegistryServer::Shutdown() {
  mail_worker_.reset();
  if (backend_ != nullptr) backend_->Shutdown();
}

}  // namespace smz::registry
