// The statistics service's application logic, independent of gRPC: who may
// submit or read what, request validation, partner checks against the
// registry, aggregate shaping (buckets, year-on-year, top-N), small-cell
// suppression, completeness, KPI pacing and CSV exports, on top of
// StatsStore; aggregates are answered from memory while the rollups are
// unchanged (AggregateCache). The gRPC adapter (stats_grpc_service.h)
// authenticates the caller, checks the method's roles and calls one method
// here.
//
//   Stats stats(&store, &partner_directory, &clock, StatsOptions{});
//   absl::StatusOr<v1::SubmitReportResponse> done =
//       stats.SubmitReport(caller, request);
#ifndef SMZ_SERVICES_STATS_STATS_H_
#define SMZ_SERVICES_STATS_STATS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/clients/partner_directory.h"
#include "common/clock.h"
#include "common/mysql/freshness_fence.h"
#include "services/stats/aggregate_cache.h"
#include "services/stats/stats_store.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::stats {

// The largest CSV ImportReports takes (the stats server's gRPC receive limit
// is set above it).
inline constexpr size_t kMaxImportCsvBytes = size_t{16} << 20;
// The most aggregate rows ExportAggregateXlsx writes (the CSV has no cap).
inline constexpr int kMaxXlsxExportRows = 100'000;

struct StatsOptions {
  // Cells below this count that come from a single partner are suppressed
  // for every role but ADMIN.
  int suppression_threshold = 5;
  // The yearly foreign-patient target when a KPI request names none (the
  // zone's programme target: 10,000 a year).
  int64_t default_yearly_target = 10000;
  // Restricted roles see a kind x region group of a month alone only when
  // at least this many hospitals reported activity in it (QueryAggregate).
  int min_group_partners = 3;
  // Serialized bytes of aggregate answers kept in memory (AggregateCache).
  size_t aggregate_cache_bytes = size_t{8} << 20;
};

class Stats {
 public:
  Stats(StatsStore* store, PartnerDirectory* partners, const Clock* clock,
        StatsOptions options);

  absl::StatusOr<v1::SubmitReportResponse> SubmitReport(
      const Principal& caller, const v1::SubmitReportRequest& request);
  absl::StatusOr<Report> GetReport(const Principal& caller,
                                   const v1::GetReportRequest& request);
  absl::StatusOr<v1::ListReportsResponse> ListReports(
      const Principal& caller, const v1::ListReportsRequest& request);
  absl::StatusOr<v1::ReportingCalendar> GetReportingCalendar(
      const Principal& caller, const v1::GetReportingCalendarRequest& request);
  absl::StatusOr<Report> AcceptReport(const Principal& caller,
                                      const v1::AcceptReportRequest& request);
  absl::StatusOr<v1::LockException> GrantLockException(
      const Principal& caller, const v1::GrantLockExceptionRequest& request);
  absl::StatusOr<v1::ListLockExceptionsResponse> ListLockExceptions(
      const Principal& caller, const v1::ListLockExceptionsRequest& request);
  absl::StatusOr<v1::ListReportChangesResponse> ListReportChanges(
      const Principal& caller, const v1::ListReportChangesRequest& request);
  absl::StatusOr<v1::ListWarningsResponse> ListWarnings(
      const Principal& caller, const v1::ListWarningsRequest& request);
  absl::StatusOr<v1::ImportReportsResponse> ImportReports(
      const Principal& caller, const v1::ImportReportsRequest& request);

  // Answers from the rollups are kept in memory under the rollups' stamp
  // (AggregateCache) and read from it while the stamp stands still.
  absl::StatusOr<v1::AggregateResponse> QueryAggregate(
      const Principal& caller, const v1::AggregateRequest& request);
  // QueryAggregate's answer from memory alone, as of the rollups' `stamp`
  // (from rollups_fence()); nullopt when memory does not hold it (then call
  // QueryAggregate). Never blocks: for callback-API handlers.
  std::optional<v1::AggregateResponse> QueryAggregateFromMemory(
      const Principal& caller, const v1::AggregateRequest& request,
      const std::string& stamp) const;
  absl::StatusOr<v1::CsvFile> ExportAggregateCsv(
      const Principal& caller, const v1::AggregateRequest& request);
  absl::StatusOr<v1::CsvFile> ExportAggregateXlsx(
      const Principal& caller, const v1::AggregateRequest& request);
  absl::StatusOr<v1::ZoneComparison> CompareWithZone(
      const Principal& caller, const v1::CompareWithZoneRequest& request);
  absl::StatusOr<v1::CompletenessResponse> GetCompleteness(
      const Principal& caller, const v1::GetCompletenessRequest& request);
  absl::StatusOr<v1::KpiProgress> GetKpiProgress(
      const Principal& caller, const v1::GetKpiProgressRequest& request);
  absl::StatusOr<v1::CsvFile> ExportAnnualReport(
      const Principal& caller, const v1::ExportAnnualReportRequest& request);

  // Whether QueryAggregateFromMemory can ever answer `request` (not by
  // partner, aggregates not read from a replica).
  bool MayAnswerFromMemory(const v1::AggregateRequest& request) const;
  // The rollups' stamp QueryAggregateFromMemory is called with.
  FreshnessFence& rollups_fence() { return store_->rollups_fence(); }
  const AggregateCache& aggregate_cache() const { return aggregate_cache_; }

 private:
  // The registry's view of a partner that reports: NOT_FOUND, or
  // FAILED_PRECONDITION unless ACTIVE.
  absl::StatusOr<PartnerFacts> ReportingPartner(
      int64_t partner_id, std::optional<absl::CivilMonth>* designated_since);
  bool Restricted(const Principal& caller) const;
  // QueryAggregate's answer computed from the database, without
  // AggregateCache.
  absl::StatusOr<v1::AggregateResponse> ComputeAggregate(
      const Principal& caller, const v1::AggregateRequest& request);
  // The store's aggregate, with small kind x region groups pooled for
  // restricted callers (see QueryAggregate in stats.proto).
  absl::StatusOr<AggregateResult> AggregateFor(const Principal& caller,
                                               const AggregateQuery& query);

  StatsStore* const store_;
  PartnerDirectory* const partners_;
  const Clock* const clock_;
  const StatsOptions options_;
  AggregateCache aggregate_cache_;
};

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_STATS_H_
