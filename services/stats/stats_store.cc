#include "services/stats/stats_store.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aip/etag.h"
#include "common/aip/idempotency.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/logging.h"
#include "common/mysql/audit.h"
#include "common/mysql/write_stamps.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/stats/stats_store_rows.h"

namespace smz::stats {

using ::google::protobuf::util::TimeUtil;

int PeriodNumber(absl::CivilMonth month) {
  return static_cast<int>(month.year() * 100 + month.month());
}

absl::CivilMonth PeriodMonth(int period_number) {
  return absl::CivilMonth(period_number / 100, period_number % 100);
}

void GroupFigures::Add(const GroupFigures& other) {
  // Every stored figure is bounded (report_rules.cc), so only sums over
  // millions of hospitals could overflow; checked all the same.
  overflow = overflow || other.overflow ||
             __builtin_add_overflow(value, other.value, &value);
  contributors += other.contributors;
  partner_sum += other.partner_sum;
  partner_square_sum += other.partner_square_sum;
  present = present || other.present;
}

StatsStore::StatsStore(Database* database, const Clock* clock,
                       StoreOptions options)
    : database_(database),
      clock_(clock),
      options_(options),
      rollups_fence_(
          database,
          "SELECT GROUP_CONCAT(version ORDER BY shard) FROM rollup_version",
          kStampLease),
      submit_groups_(
          {.max_group_weight = std::max(1, options_.max_group_cells),
           .max_running_groups =
               std::max(1, options_.concurrent_submission_groups)},
          [this](absl::Span<SubmitJob* const> jobs) { SubmitGroup(jobs); }) {
  database_->WaitOutStampLeases(kStampLease);
  if (options_.fold_after_groups > 0) {
    try {
      folder_ = std::thread([this] { FoldWhenDue(); });
    } catch (const std::system_error& error) {
      // Readers and the worker's passes fold all the same: the store works
      // without it, one reader now and then folding more at once.
      Log(LogLevel::kWarning, "count delta folder thread not started",
          {{"error", error.what()}});
    }
  }
}

StatsStore::~StatsStore() {
  {
    absl::MutexLock lock(&fold_mu_);
    stopping_ = true;
  }
  if (folder_.joinable()) folder_.join();
}

void StatsStore::NoteGroupCommitted() {
  if (options_.fold_after_groups <= 0) return;
  absl::MutexLock lock(&fold_mu_);
  // Capped: with no folder thread running (it could not be started), no
  // one resets it.
  if (groups_since_fold_ < options_.fold_after_groups) ++groups_since_fold_;
}

void StatsStore::FoldWhenDue() {
  for (;;) {
    {
      absl::MutexLock lock(&fold_mu_);
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_) {
        return stopping_ || groups_since_fold_ >= options_.fold_after_groups;
      };
      fold_mu_.Await(absl::Condition(&due));
      if (stopping_) return;
      groups_since_fold_ = 0;
    }
    // A failure is left for the next fold: readers fold before they read,
    // so nothing is missed meanwhile (and a database that is away fails
    // the groups too, so this does not spin).
    if (absl::Status folded = FoldCountDeltas(); !folded.ok()) {
      Log(LogLevel::kWarning, "count deltas not folded",
          {{"error", folded.ToString()}});
    }
  }
}

absl::StatusOr<Report> StatsStore::GetReport(int64_t partner_id, int period) {
  return database_->RunFor<Report>(
      [&](Session& session) -> absl::StatusOr<Report> {
        SMZ_ASSIGN_OR_RETURN(std::optional<StoredReport> stored,
                             LoadReport(session, partner_id, period, false,
                                        options_.deadline_days));
        if (!stored.has_value()) {
          return absl::NotFoundError(
              absl::StrCat("partner ", partner_id, " has no report for ",
                           FormatMonth(PeriodMonth(period))));
        }
        return WithCells(*stored);
      });
}

absl::StatusOr<std::vector<ListedReport>> StatsStore::ListReports(
    int64_t partner_id, int start_period, int end_period, int status,
    int64_t after_id, int limit) {
  return database_->RunFor<std::vector<ListedReport>>(
      [&](Session& session) -> absl::StatusOr<std::vector<ListedReport>> {
        std::string sql = absl::StrCat("SELECT ", kReportColumns,
                                       " FROM reports WHERE id > ?");
        std::vector<SqlValue> params = {SqlInt(after_id)};
        if (partner_id > 0) {
          absl::StrAppend(&sql, " AND partner_id = ?");
          params.push_back(SqlInt(partner_id));
        }
        if (start_period > 0) {
          absl::StrAppend(&sql, " AND period >= ?");
          params.push_back(SqlInt(start_period));
        }
        if (end_period > 0) {
          absl::StrAppend(&sql, " AND period <= ?");
          params.push_back(SqlInt(end_period));
        }
        if (status > 0) {
          absl::StrAppend(&sql, " AND status = ?");
          params.push_back(SqlInt(status));
        }
        absl::StrAppend(&sql, " ORDER BY id LIMIT ?");
        params.push_back(SqlInt(limit));
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        std::vector<ListedReport> listed;
        for (const Row& row : rows) {
          StoredReport stored = ReportFromRow(row, options_.deadline_days);
          if (stored.unreadable) {
            return absl::DataLossError(
                absl::StrCat("report ", stored.id, " has unreadable cells"));
          }
          listed.push_back(ListedReport{stored.id, WithCells(stored)});
        }
        return listed;
      });
}

absl::StatusOr<std::vector<v1::ReportChange>> StatsStore::ListReportChanges(
    int64_t partner_id, int period, int64_t after_id, int limit, bool* cut) {
  return database_->RunFor<std::vector<v1::ReportChange>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::ReportChange>> {
        SMZ_ASSIGN_OR_RETURN(std::optional<StoredReport> stored,
                             LoadReport(session, partner_id, period, false,
                                        options_.deadline_days));
        if (!stored.has_value()) {
          return absl::NotFoundError(
              absl::StrCat("partner ", partner_id, " has no report for ",
                           FormatMonth(PeriodMonth(period))));
        }
        SMZ_ASSIGN_OR_RETURN(
            AuditPage page,
            ReadAudit(session, kReportEntity, stored->id, after_id, limit));
        *cut = page.cut;
        std::vector<v1::ReportChange> changes;
        for (const AuditEntry& entry : page.entries) {
          v1::ReportChange& change = changes.emplace_back();
          change.set_id(entry.id);
          change.set_values_omitted(entry.values_omitted);
          change.set_action(entry.action);
          change.set_actor(entry.actor);
          *change.mutable_time() =
              TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(entry.time));
          for (const std::string& field : entry.changed_fields) {
            change.add_changed_fields(field);
          }
          if (entry.action == "UNLOCK" && !entry.values_omitted) {
            v1::LockException exception;
            if (!exception.ParseFromString(entry.after)) {
              return absl::DataLossError("unreadable audit entry");
            }
            change.set_reason(exception.reason());
            continue;
          }
          if (!entry.before.empty() &&
              !change.mutable_before()->ParseFromString(entry.before)) {
            return absl::DataLossError("unreadable audit entry");
          }
          if (!entry.after.empty() &&
              !change.mutable_after()->ParseFromString(entry.after)) {
            return absl::DataLossError("unreadable audit entry");
          }
        }
        return changes;
      });
}

absl::StatusOr<std::vector<v1::Warning>> StatsStore::ListWarnings(
    int64_t partner_id, int start_period, int end_period, int64_t after_id,
    int limit, std::vector<int64_t>* ids) {
  return database_->RunFor<std::vector<v1::Warning>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::Warning>> {
        std::string sql =
            "SELECT id, partner_id, period, revision, cell, value, "
            "history_median, z_score, history_months FROM warnings "
            "WHERE id > ?";
        std::vector<SqlValue> params = {SqlInt(after_id)};
        if (partner_id > 0) {
          absl::StrAppend(&sql, " AND partner_id = ?");
          params.push_back(SqlInt(partner_id));
        }
        if (start_period > 0) {
          absl::StrAppend(&sql, " AND period >= ?");
          params.push_back(SqlInt(start_period));
        }
        if (end_period > 0) {
          absl::StrAppend(&sql, " AND period <= ?");
          params.push_back(SqlInt(end_period));
        }
        absl::StrAppend(&sql, " ORDER BY id LIMIT ?");
        params.push_back(SqlInt(limit));
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        std::vector<v1::Warning> warnings;
        for (const Row& row : rows) {
          v1::Warning& w = warnings.emplace_back();
          ids->push_back(row.Int(0));
          w.set_partner_id(row.Int(1));
          w.set_period(FormatMonth(PeriodMonth(static_cast<int>(row.Int(2)))));
          w.set_revision(static_cast<int>(row.Int(3)));
          w.set_cell(row.Text(4));
          w.set_value(row.Int(5));
          w.set_history_median(row.Double(6));
          w.set_modified_z_score(row.Double(7));
          w.set_history_months(static_cast<int>(row.Int(8)));
          w.set_message(
              absl::StrCat(w.value(), " is far from this partner's usual ",
                           w.history_median(), " (modified z-score ",
                           absl::SixDigits(w.modified_z_score()), ")"));
        }
        return warnings;
      });
}

absl::StatusOr<GroupReporters> StatsStore::ReportersByGroup(int start_period,
                                                            int end_period) {
  SMZ_RETURN_IF_ERROR(FoldCountDeltas());
  return database_->RunFor<GroupReporters>(
      [&](Session& session) -> absl::StatusOr<GroupReporters> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                "SELECT period, partner_kind, region, SUM(active), "
                "SUM(with_revenue) FROM group_reporters WHERE period BETWEEN ? "
                "AND ? GROUP BY period, partner_kind, region",
                {SqlInt(start_period), SqlInt(end_period)}));
        GroupReporters reporters;
        for (const Row& row : rows) {
          const std::tuple<int, int, int> key{static_cast<int>(row.Int(0)),
                                              static_cast<int>(row.Int(1)),
                                              static_cast<int>(row.Int(2))};
          if (row.Int(3) > 0)
            reporters.active[key] = static_cast<int>(row.Int(3));
          if (row.Int(4) > 0) {
            reporters.with_revenue[key] = static_cast<int>(row.Int(4));
          }
        }
        return reporters;
      });
}

absl::StatusOr<int> StatsStore::QueueMail(
    const std::vector<OutgoingMail>& mail) {
  return EnqueueAll(*database_, mail, clock_->Now());
}

absl::StatusOr<std::vector<ReportingRow>> StatsStore::ListReporting(
    int start_period, int end_period) {
  return database_->RunFor<std::vector<
      ReportingRow>>([&](Session& session)
                         -> absl::StatusOr<std::vector<ReportingRow>> {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        session.Query(
            "SELECT partner_id, period, status, no_activity, late, "
            "first_submit_time_us FROM reports WHERE period BETWEEN ? AND ? "
            "ORDER BY period, partner_id",
            {SqlInt(start_period), SqlInt(end_period)}));
    std::vector<ReportingRow> out;
    for (const Row& row : rows) {
      ReportingRow& r = out.emplace_back();
      r.partner_id = row.Int(0);
      r.period = static_cast<int>(row.Int(1));
      r.status = static_cast<int>(row.Int(2));
      r.no_activity = row.Int(3) != 0;
      r.late = row.Int(4) != 0;
      r.first_submit_time_us = row.IsNull(5) ? 0 : row.Int(5);
    }
    return out;
  });
}

absl::StatusOr<PartnerCalendarRows> StatsStore::PartnerCalendar(
    int64_t partner_id, int start, int end, absl::Time now) {
  return database_->RunFor<PartnerCalendarRows>(
      [&](Session& session) -> absl::StatusOr<PartnerCalendarRows> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                "SELECT period, status, no_activity, late, "
                "first_submit_time_us, revision, update_time_us FROM reports "
                "WHERE partner_id = ? AND period BETWEEN ? AND ? "
                "ORDER BY period",
                {SqlInt(partner_id), SqlInt(start), SqlInt(end)}));
        PartnerCalendarRows out;
        for (const Row& row : rows) {
          ReportingRow& r = out.reports.emplace_back();
          r.partner_id = partner_id;
          r.period = static_cast<int>(row.Int(0));
          r.status = static_cast<int>(row.Int(1));
          r.no_activity = row.Int(2) != 0;
          r.late = row.Int(3) != 0;
          r.first_submit_time_us = row.IsNull(4) ? 0 : row.Int(4);
          r.revision = static_cast<int>(row.Int(5));
          r.update_time_us = row.Int(6);
        }
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> open,
            session.Query(
                "SELECT period, MAX(expire_time_us) FROM lock_exceptions "
                "WHERE period BETWEEN ? AND ? AND partner_id IN (?, 0) AND "
                "expire_time_us > ? GROUP BY period",
                {SqlInt(start), SqlInt(end), SqlInt(partner_id),
                 SqlInt(absl::ToUnixMicros(now))}));
        for (const Row& row : open) {
          out.exception_expire_us[static_cast<int>(row.Int(0))] = row.Int(1);
        }
        return out;
      });
}

absl::StatusOr<std::map<int, int>> StatsStore::CountCountedReports(
    int start_period, int end_period) {
  SMZ_RETURN_IF_ERROR(FoldCountDeltas());
  return database_->RunFor<std::map<int, int>>(
      [&](Session& session) -> absl::StatusOr<std::map<int, int>> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                "SELECT period, SUM(counted) FROM report_counts WHERE period "
                "BETWEEN ? AND ? GROUP BY period",
                {SqlInt(start_period), SqlInt(end_period)}));
        std::map<int, int> counts;
        for (const Row& row : rows) {
          counts[static_cast<int>(row.Int(0))] = static_cast<int>(row.Int(1));
        }
        return counts;
      });
}

absl::StatusOr<std::vector<Report>> StatsStore::PartnerYear(int64_t partner_id,
                                                            int year) {
  return database_->RunFor<std::vector<Report>>(
      [&](Session& session) -> absl::StatusOr<std::vector<Report>> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat("SELECT ", kReportColumns,
                             " FROM reports WHERE partner_id = ? AND period "
                             "BETWEEN ? AND ? ORDER BY period"),
                {SqlInt(partner_id), SqlInt(year * 100 + 1),
                 SqlInt(year * 100 + 12)}));
        std::vector<Report> reports;
        for (const Row& row : rows) {
          StoredReport stored = ReportFromRow(row, options_.deadline_days);
          if (stored.unreadable) {
            return absl::DataLossError(
                absl::StrCat("report ", stored.id, " has unreadable cells"));
          }
          reports.push_back(WithCells(stored));
        }
        return reports;
      });
}

absl::StatusOr<std::vector<PartnerFacts>> StatsStore::KnownPartners() {
  return database_->RunFor<std::vector<PartnerFacts>>(
      [&](Session& session) -> absl::StatusOr<std::vector<PartnerFacts>> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                "SELECT id, kind, region, name_ko, name_en FROM partners "
                "ORDER BY id",
                {}));
        std::vector<PartnerFacts> out;
        for (const Row& row : rows) {
          out.push_back({row.Int(0), static_cast<int>(row.Int(1)),
                         static_cast<int>(row.Int(2)), row.Text(3),
                         row.Text(4)});
        }
        return out;
      });
}

}  // namespace smz::stats
