#include "services/events/events_server.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
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
  // Defaults for servers started without a mail configuration (tests).
  if (options.outbox.service.empty()) options.outbox.service = "events";
  if (options.outbox.from.empty()) {
    options.outbox.from = "smz@smz.yeongdeungpo.example";
  }
  SMZ_RETURN_IF_ERROR(ValidatePublicUrl(options.public_side.public_url));
  std::unique_ptr<EventsServer> server(new EventsServer(std::move(options)));
  if (server->options_.outbox.worker_id.empty()) {
    server->options_.outbox.worker_id =
        absl::StrCat("events@", reinterpret_cast<uintptr_t>(server.get()));
  }
  const EventsServerOptions& o = server->options_;
  SMZ_ASSIGN_OR_RETURN(server->backend_,
                       Backend::Open(BackendOptionsOf(o), EventsMigrations(),
                                     v1::EventsService::service_full_name()));
  RandomSource* random =
      o.random != nullptr ? o.random : &server->secure_random_;
  server->store_ = std::make_unique<EventsStore>(&server->backend_->database(),
                                                 o.clock, random);
  server->partners_ = std::make_unique<RegistryPartnerDirectory>(
      server->backend_->registry_channel(), o.registry_token, o.clock,
      o.partner_cache_ttl);
  MailSender* sender = o.mail_sender;
  if (sender == nullptr && o.smtp.has_value()) {
    server->smtp_sender_ = std::make_unique<SmtpSender>(*o.smtp, o.clock);
    sender = server->smtp_sender_.get();
  }
  server->outbox_ = std::make_unique<Outbox>(&server->backend_->database(),
                                             sender, o.clock, o.outbox);
  server->events_ =
      std::make_unique<Events>(server->store_.get(), server->partners_.get(),
                               server->outbox_.get(), o.clock, o.events);
  server->public_side_ = std::make_unique<PublicSignUps>(
      server->store_.get(), o.clock, random, o.public_side);
  server->service_ = std::make_unique<EventsGrpcService>(
      server->events_.get(), server->public_side_.get(),
      &server->backend_->runner());
  // The gateway's council tables read events and registrations: every
  // write moves the stamp it checks.
  SMZ_RETURN_IF_ERROR(server->backend_->StampEveryWrite());
  ServerOptions server_options = o.server;
  SMZ_RETURN_IF_ERROR(
      server->backend_->Serve(server->service_.get(), server_options));
  // Also without a relay: reminders are queued as they fall due, and old
  // mail is erased; sending waits for a relay.
  server->StartMailWorker();
  return server;
}

void EventsServer::StartMailWorker() {
  OutboxWorkerOptions worker;
  worker.poll = options_.mail_poll;
  // Reminders are queued as they fall due: a sweep a minute covers the time
  // since the last one that succeeded (a day back after a start, so a
  // restart or an outage of up to a day misses none); the outbox's keys
  // make overlaps harmless.
  // A clock set back sweeps at once, a day back.
  worker.before_pass = [this, covered = absl::InfinitePast(),
                        last_sweep = absl::InfinitePast(),
                        last_retention = absl::InfinitePast()]() mutable {
    const absl::Time now = options_.clock->Now();
    if (last_sweep != absl::InfinitePast() && now >= last_sweep &&
        now - last_sweep < absl::Minutes(1)) {
      return absl::OkStatus();
    }
    last_sweep = now;
    const absl::Duration day = absl::Hours(24);
    const absl::Duration lookback =
        covered == absl::InfinitePast() || covered > now
            ? day
            : std::min(day, now - covered + absl::Minutes(1));
    // Places held for sign-ups nobody confirmed go to others (whatever
    // becomes of the reminders).
    absl::Status lapsed = store_->LapseUnconfirmedSignUps().status();
    // Hourly: the personal data of people who are not partners' staff, the
    // retention period after their event.
    if (lapsed.ok() &&
        (now < last_retention || now - last_retention >= absl::Hours(1))) {
      absl::StatusOr<int> erased = store_->EraseExpiredRegistrations(
          now - absl::Hours(24) * options_.public_side.retention_days);
      if (erased.ok()) {
        last_retention = now;
        if (*erased > 0) {
          Log(LogLevel::kInfo, "registrations erased after retention",
              {{"count", absl::StrCat(*erased)}});
        }
      } else {
        lapsed = erased.status();
      }
    }
    absl::StatusOr<int> queued = store_->QueueDueReminders(
        now, lookback,
        [this](
            int64_t partner_id) -> absl::StatusOr<EventsStore::HostContacts> {
          SMZ_ASSIGN_OR_RETURN(registry::v1::Partner partner,
                               partners_->Get(partner_id));
          EventsStore::HostContacts host;
          // Korean, else English, else any name it has.
          for (const char* locale : {"ko", "en"}) {
            auto it = partner.name().find(locale);
            if (host.name.empty() && it != partner.name().end()) {
              host.name = it->second;
            }
          }
          if (host.name.empty() && !partner.name().empty()) {
            host.name = partner.name().begin()->second;
          }
          host.contacts.assign(partner.contacts().begin(),
                               partner.contacts().end());
          return host;
        });
    if (!queued.ok()) return queued.status();
    covered = now;
    return lapsed;
  };
  mail_worker_ = std::make_unique<OutboxWorker>(outbox_.get(), worker);
}

void EventsServer::Shutdown() {
  mail_worker_.reset();
  if (backend_ != nullptr) backend_->Shutdown();
}

}  // namespace smz::events
