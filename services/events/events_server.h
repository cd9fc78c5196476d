// A complete events server in one object: database pool, migrations,
// authentication through the registry, the partner directory, and the gRPC
// service with health, reflection and metrics. The binary (events_main.cc),
// the tests and the benchmark all start it the same way.
//
//   EventsServerOptions options;
//   options.database = ...;                  // the service's own database
//   options.registry_target = "127.0.0.1:50051";
//   options.registry_token = ...;            // the service's ANALYST token
//   options.server.listen = "127.0.0.1:0";
//   auto server = EventsServer::Start(options);
//   int port = (*server)->port();
#ifndef SMZ_SERVICES_EVENTS_EVENTS_SERVER_H_
#define SMZ_SERVICES_EVENTS_EVENTS_SERVER_H_

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
#include "services/events/events.h"
#include "services/events/events_grpc_service.h"
#include "services/events/events_store.h"
#include "services/events/public_signups.h"

namespace smz::events {

struct EventsServerOptions {
  ServerOptions server;
  DatabaseOptions database;
  // The registry: callers' tokens are resolved there, and partners read
  // with this service's own token.
  std::string registry_target;
  std::string registry_token;
  EventsOptions events;
  absl::Duration startup_timeout = absl::Seconds(60);
  absl::Duration token_cache_ttl = absl::Seconds(10);
  absl::Duration partner_cache_ttl = absl::Seconds(30);
  // Mail: the outbox's sender and leases, and the relay. A worker thread
  // queues reminders as they fall due and sends what is queued; without a
  // relay, mail waits for one.
  OutboxOptions outbox;
  std::optional<SmtpOptions> smtp;
  // Tests hand in their own sender instead of a relay (then `smtp` is
  // ignored); not owned.
  MailSender* mail_sender = nullptr;
  absl::Duration mail_poll = absl::Seconds(2);
  // The public's side: the pages' address for mailed links, holds, limits.
  PublicSignUpOptions public_side;
  // The tokens of mailed links and check-in codes; unset: SecureRandom.
  // Not owned.
  RandomSource* random = nullptr;
  const Clock* clock = &SystemClock::Get();
};

class EventsServer {
 public:
  static absl::StatusOr<std::unique_ptr<EventsServer>> Start(
      EventsServerOptions options);
  ~EventsServer();

  int port() const { return backend_->port(); }
  int metrics_port() const { return backend_->metrics_port(); }
  EventsStore& store() { return *store_; }
  Outbox& outbox() { return *outbox_; }
  RegistryPartnerDirectory& partners() { return *partners_; }
  // Stops accepting, finishes in-flight RPCs, closes the pool. Idempotent.
  void Shutdown();

 private:
  explicit EventsServer(EventsServerOptions options);
  void StartMailWorker();

  EventsServerOptions options_;
  // Pool, migrations, authentication, runner and serving.
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<EventsStore> store_;
  std::unique_ptr<RegistryPartnerDirectory> partners_;
  std::unique_ptr<MailSender> smtp_sender_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<Events> events_;
  SecureRandom secure_random_;
  std::unique_ptr<PublicSignUps> public_side_;
  std::unique_ptr<EventsGrpcService> service_;
  // Last: destroyed first, before what it uses.
  std::unique_ptr<OutboxWorker> mail_worker_;
};

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENTS_SERVER_H_
