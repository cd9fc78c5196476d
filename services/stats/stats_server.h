// A complete statistics server in one object: database pool, migrations,
// authentication through the registry, the partner directory, and the gRPC
// service with health, reflection and metrics. The binary (stats_main.cc),
// the tests and the benchmark all start it the same way.
//
//   StatsServerOptions options;
//   options.database = ...;                  // the service's own database
//   options.registry_target = "127.0.0.1:50051";
//   options.registry_token = ...;            // the service's ANALYST token
//   options.server.listen = "127.0.0.1:0";
//   auto server = StatsServer::Start(options);
//   int port = (*server)->port();
#ifndef SMZ_SERVICES_STATS_STATS_SERVER_H_
#define SMZ_SERVICES_STATS_STATS_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/auth/remote_principal_lookup.h"
#include "common/clients/partner_directory.h"
#include "common/clock.h"
#include "common/mail/outbox.h"
#include "common/mail/smtp_sender.h"
#include "common/mysql/database.h"
#include "common/server/backend.h"
#include "common/server/metrics.h"
#include "common/server/rpc_runner.h"
#include "common/server/service_runtime.h"
#include "services/stats/report_reminders.h"
#include "services/stats/stats.h"
#include "services/stats/stats_grpc_service.h"
#include "services/stats/stats_store.h"

namespace smz::stats {

struct StatsServerOptions {
  ServerOptions server;
  DatabaseOptions database;
  // The registry: callers' tokens are resolved there, and partners read
  // with this service's own token.
  std::string registry_target;
  std::string registry_token;
  StoreOptions store;
  StatsOptions stats;
  absl::Duration startup_timeout = absl::Seconds(60);
  absl::Duration token_cache_ttl = absl::Seconds(10);
  absl::Duration partner_cache_ttl = absl::Seconds(30);
  // Mail: the monthly report's reminders to the hospitals' contacts
  // (report_reminders.h), queued by an hourly sweep of the mail worker and
  // sent through the relay; without one, mail waits in the outbox.
  OutboxOptions outbox;
  std::optional<SmtpOptions> smtp;
  // Tests hand in their own sender instead of a relay; not owned.
  MailSender* mail_sender = nullptr;
  absl::Duration mail_poll = absl::Seconds(2);
  ReminderPolicy reminders;  // its deadline_days is store.deadline_days
  // Where hospitals reach their pages (the gateway): the reminders link to
  // the report form under it.
  std::string public_url = "http://127.0.0.1:8055";
  const Clock* clock = &SystemClock::Get();
};

class StatsServer {
 public:
  static absl::StatusOr<std::unique_ptr<StatsServer>> Start(
      StatsServerOptions options);
  ~StatsServer();

  int port() const { return backend_->port(); }
  int metrics_port() const { return backend_->metrics_port(); }
  StatsStore& store() { return *store_; }
  Stats& stats() { return *stats_; }
  Outbox& outbox() { return *outbox_; }
  RegistryPartnerDirectory& partners() { return *partners_; }
  // Stops accepting, finishes in-flight RPCs, closes the pool. Idempotent.
  void Shutdown();

 private:
  explicit StatsServer(StatsServerOptions options);
  void StartMailWorker();
  // StatsStore::RepairCellsJson, logging how many reports it wrote.
  absl::Status RepairCellsJson();

  StatsServerOptions options_;
  // Pool, migrations, authentication, runner and serving.
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<StatsStore> store_;
  std::unique_ptr<RegistryPartnerDirectory> partners_;
  std::unique_ptr<Stats> stats_;
  std::unique_ptr<StatsGrpcService> service_;
  std::unique_ptr<SmtpSender> smtp_sender_;
  std::unique_ptr<Outbox> outbox_;
  // smz_stats_reports_overdue, set by each hourly sweep (in the backend's
  // metrics registry).
  prometheus::Gauge* reports_overdue_ = nullptr;
  // Last: it runs the sweep over the members above.
  std::unique_ptr<OutboxWorker> mail_worker_;
};

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_STATS_SERVER_H_
