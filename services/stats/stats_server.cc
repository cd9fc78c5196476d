#include "services/stats/stats_server.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"
#include "prometheus/gauge.h"
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
  // One deadline: the one the reports are held to.
  options.reminders.deadline_days = options.store.deadline_days;
  if (options.outbox.service.empty()) options.outbox.service = "stats";
  if (options.outbox.from.empty()) {
    options.outbox.from = "smz@smz.yeongdeungpo.example";
  }
  std::unique_ptr<StatsServer> server(new StatsServer(std::move(options)));
  if (server->options_.outbox.worker_id.empty()) {
    server->options_.outbox.worker_id =
        absl::StrCat("stats@", reinterpret_cast<uintptr_t>(server.get()));
  }
  const StatsServerOptions& o = server->options_;
  SMZ_ASSIGN_OR_RETURN(server->backend_,
                       Backend::Open(BackendOptionsOf(o), StatsMigrations(),
                                     v1::StatsService::service_full_name()));
  server->store_ = std::make_unique<StatsStore>(&server->backend_->database(),
                                                o.clock, o.store);
  server->store_->UseReplicaForAggregates(server->backend_->replica_reads());
  // Reports an older release saved lack the cells SQL aggregates: written
  // before the first read, or no start (a hospital's figures would miss
  // months without a word). While the database is briefly away (UNAVAILABLE,
  // or ABORTED past Transact's own retries) tried again, as the migrations
  // are. The hourly sweep writes those that replicas of the older release
  // save while a rollout runs.
  const absl::Time repair_deadline = absl::Now() + o.startup_timeout;
  for (;;) {
    absl::Status repaired = server->RepairCellsJson();
    if (repaired.ok()) break;
    if ((!absl::IsUnavailable(repaired) && !absl::IsAborted(repaired)) ||
        absl::Now() >= repair_deadline) {
      return repaired;
    }
    Log(LogLevel::kWarning, "report cells not written as JSON; retrying",
        {{"error", repaired.ToString()}});
    absl::SleepFor(absl::Seconds(1));
  }
  server->reports_overdue_ =
      &prometheus::BuildGauge()
           .Name("smz_stats_reports_overdue")
           .Help(
               "Hospitals without a report for the latest month past its "
               "deadline (as of the last hourly sweep)")
           .Register(*server->backend_->metrics().registry())
           .Add({});
  server->partners_ = std::make_unique<RegistryPartnerDirectory>(
      server->backend_->registry_channel(), o.registry_token, o.clock,
      o.partner_cache_ttl);
  server->stats_ = std::make_unique<Stats>(
      server->store_.get(), server->partners_.get(), o.clock, o.stats);
  MailSender* sender = o.mail_sender;
  if (sender == nullptr && o.smtp.has_value()) {
    server->smtp_sender_ = std::make_unique<SmtpSender>(*o.smtp, o.clock);
    sender = server->smtp_sender_.get();
  }
  server->outbox_ = std::make_unique<Outbox>(&server->backend_->database(),
                                             sender, o.clock, o.outbox);
  server->service_ = std::make_unique<StatsGrpcService>(
      server->stats_.get(), server->outbox_.get(), &server->backend_->runner());
  // Aggregates read from a replica may be older than the primary's stamp:
  // then no stamp vouches for them.
  server->backend_->set_freshness_fence(
      server->store_->ReadsAggregatesFromReplica()
          ? nullptr
          : &server->store_->rollups_fence(),
      // What a council answer depends on besides the rollups.
      absl::StrCat("target=", o.stats.default_yearly_target,
                   ",suppression=", o.stats.suppression_threshold,
                   ",groups=", o.stats.min_group_partners));
  ServerOptions server_options = o.server;
  // ImportReports takes a CSV of up to 16 MiB; the request around it is
  // small.
  server_options.max_receive_message_bytes =
      static_cast<int>(kMaxImportCsvBytes) + (1 << 20);
  SMZ_RETURN_IF_ERROR(
      server->backend_->Serve(server->service_.get(), server_options));
  server->StartMailWorker();
  return server;
}

absl::Status StatsServer::RepairCellsJson() {
  SMZ_ASSIGN_OR_RETURN(const int64_t repaired, store_->RepairCellsJson());
  if (repaired > 0) {
    Log(LogLevel::kInfo, "report cells written as JSON",
        {{"reports", absl::StrCat(repaired)}});
  }
  return absl::OkStatus();
}

void StatsServer::StartMailWorker() {
  OutboxWorkerOptions worker;
  worker.poll = options_.mail_poll;
  // Hourly (at once after a start, or a clock set back): the reminders
  // whose window holds the time; the outbox's keys make the repeats
  // harmless, so an hour missed in an outage is made up by the next sweep.
  // The report cells' repair on a timer of its own, an hour after start-up
  // (which ran it) and then hourly, whatever the reminders do: once per
  // hour at most even while it fails (it reads every report's row); a
  // clock set back restarts the hour.
  worker.before_pass = [this, last_sweep = absl::InfinitePast(),
                        last_repair = options_.clock->Now()]() mutable {
    // First, the count deltas that groups left since the folder thread
    // last ran (every fold_after_groups groups, count_deltas.h): a reader
    // of this release folds them itself, but one of 0.23 during a rollout
    // cannot, and the first council read after a quiet hour should not
    // fold a backlog.
    if (absl::StatusOr<bool> rebuilt = store_->FoldCountDeltasOrRebuild();
        !rebuilt.ok()) {
      Log(LogLevel::kWarning, "count deltas not folded",
          {{"error", rebuilt.status().ToString()}});
    } else if (*rebuilt) {
      Log(LogLevel::kError,
          "a count delta could not be folded; the rollups were rebuilt from "
          "the reports",
          {});
    }
    const absl::Time now = options_.clock->Now();
    if (now < last_repair) last_repair = now;
    if (now - last_repair >= absl::Hours(1)) {
      last_repair = now;
      if (absl::Status repaired = RepairCellsJson(); !repaired.ok()) {
        Log(LogLevel::kWarning, "report cells not written as JSON",
            {{"error", repaired.ToString()}});
      }
    }
    if (last_sweep != absl::InfinitePast() && now >= last_sweep &&
        now - last_sweep < absl::Hours(1)) {
      return absl::OkStatus();
    }
    OverdueReports overdue;
    absl::StatusOr<int> queued =
        QueueReportReminders(*store_, *partners_, now, options_.reminders,
                             options_.public_url, &overdue);
    if (!queued.ok()) return queued.status();
    last_sweep = now;
    reports_overdue_->Set(overdue.partners);
    if (*queued > 0) {
      Log(LogLevel::kInfo, "report reminders queued",
          {{"count", absl::StrCat(*queued)}});
    }
    return absl::OkStatus();
  };
  mail_worker_ = std::make_unique<OutboxWorker>(outbox_.get(), worker);
}

void StatsServer::Shutdown() {
  // The worker first: its sweep uses the database and the registry.
  mail_worker_.reset();
  if (backend_ != nullptr) backend_->Shutdown();
}

}  // namespace smz::stats
