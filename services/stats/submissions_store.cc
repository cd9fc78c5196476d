#include <algorithm>
#include <cassert>
#include <cmath>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aip/etag.h"
#include "common/aip/idempotency.h"
#include "common/aip/status_macros.h"
#include "common/aip/versioned_row.h"
#include "common/auth/token.h"
#include "common/mysql/audit.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/stats/count_deltas.h"
#include "services/stats/stats_store.h"
#include "services/stats/stats_store_rows.h"

// The write side of the statistics store: submissions (the report row with
// its cells, rollups, plausibility warnings and request keys), acceptance
// and lock exceptions.
namespace smz::stats {
namespace {

using ::google::protobuf::util::TimeUtil;

// Adds to the rollups the difference between a partner's counted cells
// before and after.
void CountRollups(int period, int partner_kind, int region, int64_t partner_id,
                  const std::vector<CellChange>& changes,
                  SharedCounts* counts) {
  for (const CellChange& change : changes) {
    const int64_t before = change.old_value;
    const int64_t after = change.cell.value;
    RollupDelta delta;
    delta.value = after - before;
    delta.contributors = (after > 0 ? 1 : 0) - (before > 0 ? 1 : 0);
    delta.partner_sum = delta.contributors * partner_id;
    delta.partner_square_sum = delta.contributors * partner_id * partner_id;
    if (delta.Empty()) continue;
    const Cell& c = change.cell;
    counts->AddCell(
        {period, static_cast<int>(c.measure), c.nationality, c.department,
         c.care_type, c.sex, c.age_band, partner_kind, region},
        delta);
  }
}

// What a group adds to the shared rows, as a new count_deltas row for
// StatsStore::FoldCountDeltas (count_deltas.h), after the stamps it moves:
// the stamps first, so that RebuildRollups, which holds every stamp, never
// meets a group's deltas uncommitted.
absl::Status WriteCountDeltas(Session& session, const SharedCounts& counts) {
  SMZ_RETURN_IF_ERROR(MoveRollupStamps(session, counts));
  if (counts.Empty()) return absl::OkStatus();
  // One row, but for a large import: rows of 1 MiB at most. Each with its
  // size, which a fold reads instead of the blob's (FoldCountDeltas).
  std::vector<std::vector<SqlValue>> rows;
  for (const storage::CountDeltas& row :
       ToCountDeltaRows(counts, kInsertBatchBytes)) {
    std::string bytes = row.SerializeAsString();
    const int64_t size = static_cast<int64_t>(bytes.size());
    rows.push_back({std::move(bytes), SqlInt(size)});
  }
  return InsertBatched(
      session, "INSERT INTO count_deltas (deltas, deltas_bytes) VALUES ",
      "(?, ?)", "", rows);
}

// The rows a submission inserts that none of its own later statements
// reads: its warnings, its audit entry and its request key.
// (Not the hospital's snapshot: upserted at once, its lock wait stays the
// caller's own.) A group inserts them for all its callers at once,
// after the last caller (WritePendingRows: a few multi-row statements
// instead of five or more per caller, the cost that mattered at 16 callers
// being round trips); a failed caller's rows are dropped, never added.
// Only a later submission of the same report, or under the same request
// key, would read them (its warnings replaced, its key looked up): they are
// written before it runs (MustBeWrittenBefore), so that it reads what it would
// alone.
struct PendingRows {
  std::vector<std::vector<SqlValue>> warnings;
  std::vector<std::vector<SqlValue>> audit;
  // By (caller, method, request_id): inserted in key order.
  std::map<std::tuple<std::string, std::string, std::string>,
           std::vector<SqlValue>>
      request_keys;
  // The reports, (partner, period), these rows belong to.
  std::set<std::pair<int64_t, int>> reports;

  size_t Rows() const {
    return warnings.size() + audit.size() + request_keys.size();
  }

  void Add(PendingRows&& other) {
    auto append = [](std::vector<std::vector<SqlValue>>& to,
                     std::vector<std::vector<SqlValue>>& from) {
      to.insert(to.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
    };
    append(warnings, other.warnings);
    append(audit, other.audit);
    for (auto& [key, row] : other.request_keys) {
      request_keys[key] = std::move(row);
    }
    reports.insert(other.reports.begin(), other.reports.end());
  }

  bool MustBeWrittenBefore(const Submission& in) const {
    const std::optional<absl::CivilMonth> month =
        ParseMonth(in.report.period());
    return (month.has_value() && reports.count({in.report.partner_id(),
                                                PeriodNumber(*month)}) > 0) ||
           request_keys.count({in.actor, in.method, in.request_id}) > 0;
  }
  bool MustBeWrittenBefore(const std::vector<Submission>& submissions) const {
    return std::any_of(
        submissions.begin(), submissions.end(),
        [this](const Submission& in) { return MustBeWrittenBefore(in); });
  }
};

// What WritePendingRows answers when its rows meet another transaction: a
// twin (through another replica) that recorded one of the request keys
// first, or holds it uncommitted past the lock wait timeout; or a deadlock.
enum class OnConflict {
  // A retryable ABORTED for a twin's key (the transaction runs again and
  // finds the twin's answer), the error as it is otherwise: a caller alone,
  // or a caller's own rows inside its savepoint.
  kRunAgain,
  // Not retryable: the group cannot commit, and each caller runs again
  // alone (SubmitGroup), rather than the whole group up to nine times
  // over one caller's twin.
  kSplitGroup,
};

// Inserts the pending rows and empties `pending`; on failure the
// transaction is abandoned with them. Request keys first, in key order,
// the same in every transaction (warnings and audit entries have no
// key another transaction writes: their reports' rows are locked).
absl::Status WritePendingRows(Session& session, PendingRows* pending,
                              OnConflict on_conflict) {
  std::vector<std::vector<SqlValue>> key_rows;
  for (auto& [key, row] : pending->request_keys) {
    key_rows.push_back(std::move(row));
  }
  absl::Status recorded = InsertBatched(
      session, kRequestKeyInsertHead, kRequestKeyRowPlaceholders, "", key_rows);
  if (absl::IsAlreadyExists(recorded) && on_conflict == OnConflict::kRunAgain) {
    return KeyRecordedByTwinError("report submission");
  }
  if (IsRetryableAbort(recorded) && on_conflict == OnConflict::kSplitGroup) {
    // A twin's uncommitted key held us past the lock wait, or a deadlock:
    // the same plain ABORTED without the retry mark.
    return absl::AbortedError(recorded.message());
  }
  SMZ_RETURN_IF_ERROR(recorded);
  SMZ_RETURN_IF_ERROR(InsertBatched(
      session,
      "INSERT INTO warnings (report_id, partner_id, period, revision, cell, "
      "value, history_median, z_score, history_months) VALUES ",
      "(?,?,?,?,?,?,?,?,?)", "", pending->warnings));
  SMZ_RETURN_IF_ERROR(InsertBatched(session, kAuditInsertHead,
                                    kAuditRowPlaceholders, "", pending->audit));
  *pending = PendingRows();
  return absl::OkStatus();
}

std::vector<CellChange> AllCreated(const std::vector<Cell>& cells) {
  std::vector<CellChange> changes;
  changes.reserve(cells.size());
  for (const Cell& cell : cells) changes.push_back({cell, 0});
  return changes;
}

// The plausibility check (PlausibilityHistory in report_rules.h) against
// the partner's earlier counted months, read here.
absl::StatusOr<std::vector<v1::Warning>> ComputeWarnings(
    Session& session, const StoreOptions& options, int64_t partner_id,
    absl::CivilMonth month, int revision, const std::vector<Cell>& cells) {
  if (options.history_months < kMinHistoryMonths)
    return std::vector<v1::Warning>();
  const int from = PeriodNumber(month - options.history_months);
  const int to = PeriodNumber(month);
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> months,
      session.Query(
          "SELECT period, cells FROM reports WHERE partner_id = ? AND "
          "period >= ? AND period < ? AND status IN " COUNTED_STATUS_SQL,
          {SqlInt(partner_id), SqlInt(from), SqlInt(to)}));
  PlausibilityHistory history;
  // One message for every month: parsing into it again reuses its cells'
  // memory, where a message per month would allocate them all anew.
  Report holder;
  for (const Row& row : months) {
    if (!holder.ParseFromString(row.Text(1))) {
      return absl::DataLossError("unreadable stored report cells");
    }
    history.AddMonth(holder);
  }
  return history.WarningsFor(partner_id, month, revision, cells,
                             options.min_warning_difference);
}

// Replaces a report's warnings: the old ones deleted at once, the new ones
// queued in `pending`.
absl::Status DeleteWarningsAndQueueNew(Session& session, int64_t report_id,
                                       bool replace,
                                       const std::vector<v1::Warning>& warnings,
                                       PendingRows* pending) {
  if (replace) {
    SMZ_RETURN_IF_ERROR(
        (session.Execute("DELETE FROM warnings WHERE report_id = ?",
                         {SqlInt(report_id)}))
            .status());
  }
  for (const v1::Warning& w : warnings) {
    const absl::CivilMonth month = *ParseMonth(w.period());
    pending->warnings.push_back(
        {SqlInt(report_id), SqlInt(w.partner_id()), SqlInt(PeriodNumber(month)),
         SqlInt(w.revision()), w.cell(), SqlInt(w.value()), w.history_median(),
         w.modified_z_score(), SqlInt(w.history_months())});
  }
  return absl::OkStatus();
}

absl::Status CheckOpen(Session& session, int64_t partner_id,
                       absl::CivilMonth month, int status, absl::Time now,
                       int deadline_days) {
  const absl::Time deadline = PeriodDeadline(month, deadline_days);
  const bool accepted = status == v1::ACCEPTED;
  if (now < deadline && !accepted) return absl::OkStatus();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> open,
      session.Query(
          "SELECT id FROM lock_exceptions WHERE period = ? AND partner_id IN "
          "(?, 0) AND expire_time_us > ? LIMIT 1",
          {SqlInt(PeriodNumber(month)), SqlInt(partner_id),
           SqlInt(absl::ToUnixMicros(now))}));
  if (!open.empty()) return absl::OkStatus();
  const std::string how =
      "to correct it, ask the district (an ADMIN) to grant a lock exception "
      "(GrantLockException) with the reason";
  if (accepted) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the report of partner ", partner_id, " for ", FormatMonth(month),
        " was accepted by the district and is locked; ", how));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "period ", FormatMonth(month), " is locked since ",
      absl::FormatTime("%Y-%m-%d %H:%M %Z", deadline, SeoulTimeZone()),
      " (submissions close ", deadline_days, " days after month end); ", how));
}

v1::ImportSummary SummaryOf(const CellDiff& diff) {
  v1::ImportSummary summary;
  summary.set_cells_created(diff.created);
  summary.set_cells_updated(diff.updated);
  summary.set_cells_unchanged(diff.unchanged);
  summary.set_cells_deleted(diff.deleted);
  return summary;
}

// The hospital's facts as of this submission, kept for the council's
// tables. Upserted by each caller, not queued with the group's rows: a
// wait on this row (a large import of the same hospital holds it) then
// fails that caller alone, and every transaction locks it after its
// report's row.
absl::Status UpsertPartner(Session& session, const PartnerFacts& partner,
                           absl::Time now) {
  return session
      .Execute(
          "INSERT INTO partners (id, kind, region, name_ko, name_en, "
          "refresh_time_us) VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY "
          "UPDATE kind = VALUES(kind), region = VALUES(region), "
          "name_ko = VALUES(name_ko), name_en = VALUES(name_en), "
          "refresh_time_us = VALUES(refresh_time_us)",
          {SqlInt(partner.id), SqlInt(partner.kind), SqlInt(partner.region),
           partner.name_ko, partner.name_en, SqlInt(absl::ToUnixMicros(now))})
      .status();
}

// What a submission that changes its report writes: the row's new state.
struct Revision {
  int old_status = 0;
  int new_status = 0;
  int revision = 0;
  int partner_kind = 0;
  int region = 0;
  bool first_submission = false;
  bool late = false;
  absl::Time deadline;
  int64_t report_id = 0;  // 0 until inserted
};

Revision PlanRevision(const Submission& in,
                      const std::optional<StoredReport>& stored,
                      absl::CivilMonth month, absl::Time now,
                      int deadline_days) {
  Revision r;
  r.old_status = stored ? stored->status : 0;
  r.new_status = in.draft ? v1::DRAFT : v1::SUBMITTED;
  r.deadline = PeriodDeadline(month, deadline_days);
  r.first_submission =
      !in.draft && (!stored || stored->first_submit_time_us == 0);
  r.revision = stored ? stored->revision + 1 : 1;
  r.partner_kind = stored ? stored->partner_kind : in.partner.kind;
  r.region = stored ? stored->region : in.partner.region;
  const bool late_now = r.first_submission && now >= r.deadline;
  r.late = stored ? (stored->late || late_now) : late_now;
  r.report_id = stored ? stored->id : 0;
  return r;
}

// Updates or inserts the report row; sets r->report_id when inserted.
absl::Status WriteReportRow(Session& session, const Submission& in, bool exists,
                            int period, const std::string& digest,
                            absl::Time now, Revision* r) {
  const int64_t now_us = absl::ToUnixMicros(now);
  const SqlValue first_submit =
      r->first_submission ? SqlValue(SqlInt(now_us)) : SqlValue(nullptr);
  if (exists) {
    return session
        .Execute(
            "UPDATE reports SET status = ?, no_activity = ?, revision = ?, "
            "digest = ?, first_submit_time_us = COALESCE("
            "first_submit_time_us, ?), update_time_us = ?, submitted_by = ?, "
            "late = ?, cells = ?, cells_json = ? WHERE id = ?",
            {SqlInt(r->new_status), SqlInt(in.report.no_activity() ? 1 : 0),
             SqlInt(r->revision), digest, first_submit, SqlInt(now_us),
             in.actor, SqlInt(r->late ? 1 : 0), CellsBlob(in.cells),
             CellsJson(in.cells, digest), SqlInt(r->report_id)})
        .status();
  }
  absl::StatusOr<int64_t> inserted = session.Execute(
      "INSERT INTO reports (partner_id, period, status, no_activity, "
      "revision, digest, partner_kind, region, first_submit_time_us, "
      "update_time_us, submitted_by, late, cells, cells_json) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {SqlInt(in.report.partner_id()), SqlInt(period), SqlInt(r->new_status),
       SqlInt(in.report.no_activity() ? 1 : 0), SqlInt(r->revision), digest,
       SqlInt(r->partner_kind), SqlInt(r->region), first_submit, SqlInt(now_us),
       in.actor, SqlInt(r->late ? 1 : 0), CellsBlob(in.cells),
       CellsJson(in.cells, digest)});
  if (absl::IsAlreadyExists(inserted.status())) {
    // Two first submissions of one report raced on its unique key
    // (partner, period); run again to see the winner's report.
    return RetryableAbort("a first submission of this report raced");
  }
  SMZ_RETURN_IF_ERROR(inserted.status());
  SMZ_ASSIGN_OR_RETURN(r->report_id, session.LastInsertId());
  return absl::OkStatus();
}

// A SUBMITTED report in the counts: reports per period, reporting hospitals
// per group, the rollups. Only added up here; WriteCountDeltas writes them
// once for the whole group, last.
void CountSubmission(const Submission& in,
                     const std::optional<StoredReport>& stored,
                     const CellDiff& diff, absl::CivilMonth month,
                     const Revision& r, SharedCounts* counts) {
  const int period = PeriodNumber(month);
  const int64_t partner_id = in.report.partner_id();
  const int shard = static_cast<int>(partner_id % kReportCountShards);
  const bool was_counted = Counted(r.old_status);
  if (!was_counted) counts->reports[{period, shard}] += 1;
  // Reporting hospitals of the group: one more or fewer with activity or
  // revenue (a report keeps the group it was first filed in).
  const int active_delta = (in.report.no_activity() ? 0 : 1) -
                           (was_counted && !stored->no_activity ? 1 : 0);
  const int revenue_delta = (HasRevenue(in.cells) ? 1 : 0) -
                            (was_counted && HasRevenue(stored->cells) ? 1 : 0);
  if (active_delta != 0 || revenue_delta != 0) {
    auto& reporters =
        counts->reporters[{period, r.partner_kind, r.region, shard}];
    reporters.first += active_delta;
    reporters.second += revenue_delta;
  }
  const std::vector<CellChange> counted_changes =
      was_counted ? diff.changes : AllCreated(in.cells);
  CountRollups(period, r.partner_kind, r.region, partner_id, counted_changes,
               counts);
  counts->version_shards.insert(shard);
}

// The stored revision, as a read would return it.
Report StoredRevision(const Submission& in,
                      const std::optional<StoredReport>& stored,
                      absl::CivilMonth month, const Revision& r,
                      absl::Time now) {
  Report after;
  if (stored) {
    after = stored->report;
  } else {
    after.set_partner_id(in.report.partner_id());
    after.set_period(FormatMonth(month));
    *after.mutable_deadline() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(r.deadline));
  }
  const int64_t now_us = absl::ToUnixMicros(now);
  after.set_status(static_cast<v1::ReportStatus>(r.new_status));
  after.set_no_activity(in.report.no_activity());
  after.set_revision(r.revision);
  after.set_etag(EtagOf(r.revision));
  if (r.first_submission) {
    *after.mutable_first_submit_time() =
        TimeUtil::MicrosecondsToTimestamp(now_us);
  }
  *after.mutable_update_time() = TimeUtil::MicrosecondsToTimestamp(now_us);
  after.set_submitted_by(in.actor);
  after.set_late(r.late);
  SetReportCells(in.cells, &after);
  return after;
}

std::vector<SqlValue> AuditRowOfSubmission(
    const Submission& in, const std::optional<StoredReport>& stored,
    const CellDiff& diff, const Report& after, const Revision& r,
    absl::Time now) {
  AuditEntry entry;
  entry.entity = std::string(kReportEntity);
  entry.entity_id = r.report_id;
  entry.action = in.draft                ? "SAVE_DRAFT"
                 : Counted(r.old_status) ? "CORRECT"
                                         : "SUBMIT";
  entry.actor = in.actor;
  entry.time = now;
  if (stored) {
    Report before = stored->report;
    SetReportCells(stored->cells, &before);
    entry.before = ReportBytes(before);
    if (before.status() != after.status()) {
      entry.changed_fields.push_back("status");
    }
    if (before.no_activity() != after.no_activity()) {
      entry.changed_fields.push_back("no_activity");
    }
  }
  entry.after = ReportBytes(after);
  for (const CellChange& change : diff.changes) {
    entry.changed_fields.push_back(CellName(change.cell));
  }
  return AuditRowValues(entry);
}

// The checks a change to an existing report must pass first: its etag, no
// draft over a counted report, and the period open.
absl::Status CheckChangeAllowed(Session& session, const Submission& in,
                                const std::optional<StoredReport>& stored,
                                absl::CivilMonth month, absl::Time now,
                                int deadline_days) {
  const int64_t partner_id = in.report.partner_id();
  const int old_status = stored ? stored->status : 0;
  if (stored && in.etag.empty() && in.require_etag) {
    return absl::AbortedError(
        absl::StrCat("partner ", partner_id, " already has a report for ",
                     in.report.period(), " (", EtagOf(stored->revision),
                     "); to correct it, send its etag"));
  }
  if (Counted(old_status) && in.draft) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the report for ", in.report.period(),
        " is already submitted; submit a correction instead of a draft"));
  }
  return CheckOpen(session, partner_id, month, old_status, now, deadline_days);
}

// A submission's answer replayed from its request key: nothing new was
// created by the retry.
absl::StatusOr<v1::SubmitReportResponse> Replay(const FirstAnswer& first) {
  v1::SubmitReportResponse replay;
  if (!replay.ParseFromString(first.response)) {
    return absl::DataLossError("stored response unreadable");
  }
  if (replay.has_summary()) replay.mutable_summary()->set_unchanged(true);
  return replay;
}

// One submission inside the caller's transaction; what it adds to the
// shared rows goes to `counts`, the rows it inserts to `pending`, for the
// caller to write.
absl::StatusOr<v1::SubmitReportResponse> ApplySubmission(
    Session& session, const Submission& in, const StoreOptions& options,
    absl::Time now, bool dry_run, SharedCounts* counts, PendingRows* pending) {
  const std::string digest =
      HashToken(ContentDigest(in.cells, in.report.no_activity()));
  const absl::CivilMonth month = *ParseMonth(in.report.period());
  const int period = PeriodNumber(month);
  const int64_t partner_id = in.report.partner_id();
  SMZ_ASSIGN_OR_RETURN(const std::optional<StoredReport> stored,
                       LoadReport(session, partner_id, period,
                                  /*for_update=*/true, options.deadline_days));

  // Looked up after the report row is locked, so this read (READ
  // COMMITTED: see SubmitGroup) sees a concurrent twin that committed while
  // we waited, and we return its answer; a twin earlier in the same group
  // is in this very transaction (its pending rows written before this
  // caller began: PendingRows::MustBeWrittenBefore). The key itself is
  // queued with the answer at the end, and recorded with the group's other
  // new rows; twins that both found no row lose on the report's
  // unique key and run again (the loser alone, after its group).
  const RequestKey key{in.actor, in.method, in.request_id, in.request_digest};
  SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> first,
                       LookUpRequest(session, key));
  if (first.has_value()) return Replay(*first);

  if (!stored && !in.etag.empty()) {
    return absl::AbortedError(
        absl::StrCat("etag ", in.etag, " given, but partner ", partner_id,
                     " has no report for ", in.report.period(),
                     " (was it read from another period?)"));
  }
  if (stored && !in.etag.empty()) {
    SMZ_RETURN_IF_ERROR(
        CheckEtag(in.etag, stored->revision,
                  absl::StrCat("the report of partner ", partner_id, " for ",
                               in.report.period())));
  }
  Revision r = PlanRevision(in, stored, month, now, options.deadline_days);
  const bool identical =
      stored && stored->digest == digest &&
      (stored->status == r.new_status ||
       (stored->status == v1::ACCEPTED && r.new_status == v1::SUBMITTED));
  const CellDiff diff =
      DiffCells(stored ? stored->cells : std::vector<Cell>(), in.cells);
  bool counted = false;  // a new SUBMITTED revision, for CountSubmission
  v1::SubmitReportResponse response;
  *response.mutable_summary() = SummaryOf(diff);

  if (identical) {
    // Nothing new: no revision, no audit entry, same etag.
    response.mutable_summary()->set_unchanged(true);
    *response.mutable_report() = WithCells(*stored);
  } else {
    SMZ_RETURN_IF_ERROR(CheckChangeAllowed(session, in, stored, month, now,
                                           options.deadline_days));
    // The counts and rollups take SUBMITTED and ACCEPTED reports only.
    counted = r.new_status == v1::SUBMITTED;
    std::vector<v1::Warning> warnings;
    if (counted) {
      // Read before any write: the hospital's earlier months only.
      SMZ_ASSIGN_OR_RETURN(warnings,
                           ComputeWarnings(session, options, partner_id, month,
                                           r.revision, in.cells));
    }
    // A dry run leaves the hospital's snapshot and (below) the request key
    // out: it would only roll them back, and a key it wrote would make its
    // own rehearsal look like a twin.
    if (!dry_run) SMZ_RETURN_IF_ERROR(UpsertPartner(session, in.partner, now));
    SMZ_RETURN_IF_ERROR(WriteReportRow(session, in, stored.has_value(), period,
                                       digest, now, &r));
    if (counted) {
      SMZ_RETURN_IF_ERROR(DeleteWarningsAndQueueNew(
          session, r.report_id,
          /*replace=*/stored.has_value(), warnings, pending));
      for (v1::Warning& w : warnings) {
        *response.mutable_summary()->add_warnings() = std::move(w);
      }
    }
    *response.mutable_report() = StoredRevision(in, stored, month, r, now);
    pending->audit.push_back(
        AuditRowOfSubmission(in, stored, diff, response.report(), r, now));
  }

  pending->reports.insert({partner_id, period});
  if (!dry_run && !key.request_id.empty()) {
    // The whole answer is kept: a retry gets it back as it was.
    pending->request_keys[{key.caller, key.method, key.request_id}] =
        RequestKeyRowValues(key, /*result_id=*/0, response.SerializeAsString(),
                            now);
  }
  if (counted) CountSubmission(in, stored, diff, month, r, counts);
  return response;
}

}  // namespace

namespace {

// Claims a whole batch's request_id: reused with another batch it is
// refused, even where the reports differ. A retry of the batch passes, and
// each of its reports answers from its own key. A dry run only looks.
absl::Status ClaimBatch(Session& session, const RequestKey& batch, bool dry_run,
                        absl::Time now) {
  if (dry_run) return LookUpRequest(session, batch).status();
  SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> first,
                       ClaimRequest(session, batch, now));
  if (first.has_value()) return absl::OkStatus();
  return SetRequestResult(session, batch, /*result_id=*/0, /*response=*/"");
}

}  // namespace

namespace {

// One caller's submissions in the caller's transaction, their shared rows
// added to `counts`, the rows they insert queued in `pending` (the
// caller's own). Some of those are written here, in the caller's part of
// the transaction: before a second submission of the same report, and
// whenever options.max_queued_rows have gathered (a large import).
absl::StatusOr<std::vector<v1::SubmitReportResponse>> ApplyJob(
    Session& session, const StatsStore::SubmitJob& job,
    const StoreOptions& options, bool dry_run, SharedCounts* counts,
    PendingRows* pending) {
  if (job.batch->has_value()) {
    SMZ_RETURN_IF_ERROR(ClaimBatch(session, **job.batch, dry_run, job.now));
  }
  std::vector<v1::SubmitReportResponse> responses;
  for (const Submission& submission : *job.submissions) {
    if (pending->MustBeWrittenBefore(submission) ||
        pending->Rows() >= static_cast<size_t>(options.max_queued_rows)) {
      // A twin's key fails this caller alone, to run again (SubmitGroup).
      SMZ_RETURN_IF_ERROR(
          WritePendingRows(session, pending, OnConflict::kRunAgain));
    }
    SMZ_ASSIGN_OR_RETURN(v1::SubmitReportResponse response,
                         ApplySubmission(session, submission, options, job.now,
                                         dry_run, counts, pending));
    responses.push_back(std::move(response));
  }
  return responses;
}

}  // namespace

namespace {

// Where a caller's submissions start: groups take their callers in this
// order, so that concurrent groups lock report rows in one order.
std::pair<int64_t, std::string> FirstReport(const StatsStore::SubmitJob& job) {
  if (job.submissions->empty()) return {0, ""};
  const Report& report = job.submissions->front().report;
  return {report.partner_id(), report.period()};
}

// A caller's weight in a group: its cells (a report without any counts as
// one), so that a group's transaction stays about the same size.
int WeightOf(const std::vector<Submission>& submissions) {
  int64_t cells = 0;
  for (const Submission& s : submissions) {
    cells += std::max<int64_t>(1, static_cast<int64_t>(s.cells.size()));
  }
  return static_cast<int>(std::min<int64_t>(cells, 1 << 30));
}

}  // namespace

void StatsStore::SubmitGroup(absl::Span<SubmitJob* const> group) {
  std::vector<SubmitJob*> jobs(group.begin(), group.end());
  // Stable: one report's callers keep their arrival order.
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const SubmitJob* a, const SubmitJob* b) {
                     return FirstReport(*a) < FirstReport(*b);
                   });
  const bool alone = jobs.size() == 1;
  // The group's new rows meeting a twin elsewhere (a request key it
  // recorded first, or holds): alone, this transaction runs again and
  // replays the twin's answer; in a group, the group splits into callers
  // alone (once, not up to nine times as a whole).
  const OnConflict on_conflict =
      alone ? OnConflict::kRunAgain : OnConflict::kSplitGroup;
  std::vector<SubmitJob*> alone_after;  // to run again on their own
  const absl::Status status = database_->Transact(
      [&](Session& session) -> absl::Status {
        // A transaction run again (after a deadlock) starts afresh.
        alone_after.clear();
        SharedCounts shared;
        PendingRows pending;
        for (SubmitJob* job : jobs) {
          // A caller of a report or request key already in the group reads
          // what the earlier one wrote, as it would alone. Written before
          // the caller's mark, so that its failure cannot undo them.
          if (pending.MustBeWrittenBefore(*job->submissions)) {
            SMZ_RETURN_IF_ERROR(
                WritePendingRows(session, &pending, on_conflict));
          }
          // In a group each caller's submissions can fail alone: what they
          // wrote is undone back to the mark, and the rows they queued
          // (own_rows) are dropped; the others' work stays.
          if (!alone) SMZ_RETURN_IF_ERROR(session.SetSavepoint());
          SharedCounts own;
          PendingRows own_rows;
          job->result = ApplyJob(session, *job, options_, /*dry_run=*/false,
                                 &own, &own_rows);
          if (job->result.ok()) {
            shared.Add(own);
            pending.Add(std::move(own_rows));
            continue;
          }
          const absl::Status failed = job->result.status();
          if (alone) return failed;
          if (absl::Status undone = session.RollbackToSavepoint();
              !undone.ok()) {
            // A deadlock ends the whole transaction, the mark with it:
            // then the whole group runs again.
            return IsRetryableAbort(failed) ? failed : undone;
          }
          // The transaction lives on (a lock wait timed out, a twin raced):
          // this caller runs again on its own once the group committed, so
          // one caller's wait never fails the others.
          if (IsRetryableAbort(failed)) alone_after.push_back(job);
        }
        // Last: the callers' own new rows, then what the group adds to the
        // rows every submission of the month shares (a count delta).
        SMZ_RETURN_IF_ERROR(WritePendingRows(session, &pending, on_conflict));
        return WriteCountDeltas(session, shared);
      },
      // Each caller's plain reads (its request key, the hospital's history)
      // see what is committed when they run, as they would alone, not the
      // snapshot an earlier caller of the group took: a twin committed by
      // another replica meanwhile is replayed, not refused as stale.
      Database::Isolation::kReadCommitted);
  if (status.ok()) {
    NoteGroupCommitted();
    for (SubmitJob* job : alone_after) SubmitGroup({job});
    return;
  }
  if (alone || absl::IsUnavailable(status)) {
    // Nothing was committed, for a reason every caller shares.
    for (SubmitJob* job : jobs) job->result = status;
    return;
  }
  // Nothing was committed, for a reason the group shares (its counts, a
  // twin's key among its new rows): each caller again on its own, so that
  // each outcome is the caller's.
  submit_groups_split_.fetch_add(1, std::memory_order_relaxed);
  for (SubmitJob* job : jobs) SubmitGroup({job});
}

absl::StatusOr<std::vector<v1::SubmitReportResponse>> StatsStore::Submit(
    const std::vector<Submission>& submissions, bool dry_run,
    const std::optional<RequestKey>& batch) {
  SubmitJob job{&submissions, &batch, clock_->Now()};
  if (!dry_run) {
    const int weight = WeightOf(submissions);
    if (weight > options_.max_group_cells) {
      // A large import runs in its own transaction beside the groups, as
      // every submission did before group commit, rather than hold up the
      // queue (its rows' locks are another matter: a group that needs a
      // report or stamp row it holds waits, as it always did).
      SubmitGroup({&job});
    } else {
      submit_groups_.Run(&job, weight);
    }
    return std::move(job.result);
  }
  // A dry run does everything a submission does (but record its request
  // key and the hospital's snapshot), then rolls it back.
  SMZ_RETURN_IF_ERROR(database_->Rehearse(
      [&](Session& session) -> absl::Status {
        SharedCounts counts;
        PendingRows pending;
        job.result = ApplyJob(session, job, options_, /*dry_run=*/true, &counts,
                              &pending);
        if (!job.result.ok()) return job.result.status();
        SMZ_RETURN_IF_ERROR(
            WritePendingRows(session, &pending, OnConflict::kRunAgain));
        return WriteCountDeltas(session, counts);
      },
      Database::Isolation::kReadCommitted));
  return std::move(job.result);
}

namespace {

// Reports on the shared versioned-row path, for changes of their status
// alone (acceptance). Their cells change only through submissions
// (ApplySubmission): keyed by partner and month rather than id, they create
// or revise a report in one call and move its cells through the rollups,
// with the kit's request keys, etags and audit entries as parts.
VersionedTable<Report> ReportTable(int deadline_days) {
  VersionedTable<Report> table;
  table.entity = std::string(kReportEntity);
  table.read = [deadline_days](Session& session, int64_t id,
                               bool lock) -> absl::StatusOr<Report> {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        session.Query(absl::StrCat("SELECT ", kReportColumns,
                                   " FROM reports WHERE id = ?",
                                   lock ? " FOR UPDATE" : ""),
                      {SqlInt(id)}));
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("report ", id, " not found"));
    }
    StoredReport stored = ReportFromRow(rows.front(), deadline_days);
    if (stored.unreadable) {
      return absl::DataLossError(
          absl::StrCat("report ", id, " has unreadable cells"));
    }
    return WithCells(stored);
  };
  table.etag = [](const Report& report) { return report.etag(); };
  table.audit_value = ReportBytes;
  // A Report names its row by partner and month (the API has no report id).
  table.write = [](Session& session, const Report&, const Report& report,
                   absl::Time now) {
    const std::optional<absl::CivilMonth> month = ParseMonth(report.period());
    assert(month.has_value());  // read from a stored row
    return session
        .Execute(
            "UPDATE reports SET status = ?, revision = revision + 1, "
            "update_time_us = ? WHERE partner_id = ? AND period = ?",
            {SqlInt(report.status()), SqlInt(absl::ToUnixMicros(now)),
             SqlInt(report.partner_id()), SqlInt(PeriodNumber(*month))})
        .status();
  };
  return table;
}

}  // namespace

absl::StatusOr<Report> StatsStore::AcceptReport(int64_t partner_id, int period,
                                                const std::string& etag,
                                                const std::string& actor) {
  const WriteContext write{actor, clock_->Now()};
  const VersionedTable<Report> reports = ReportTable(options_.deadline_days);
  return database_->TransactFor<Report>(
      [&](Session& session) -> absl::StatusOr<Report> {
        // A report keeps its id for good once its month has one.
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> found,
            session.Query(
                "SELECT id FROM reports WHERE partner_id = ? AND period = ?",
                {SqlInt(partner_id), SqlInt(period)}));
        if (found.empty()) {
          return absl::NotFoundError(
              absl::StrCat("partner ", partner_id, " has no report for ",
                           FormatMonth(PeriodMonth(period))));
        }
        return ModifyVersioned<Report>(
            session, reports, found.front().Int(0), etag, "ACCEPT", write,
            [](Session&, Report& report) -> absl::Status {
              if (report.status() != v1::SUBMITTED) {
                return absl::FailedPreconditionError(absl::StrCat(
                    "only a SUBMITTED report can be accepted; this one is ",
                    v1::ReportStatus_Name(report.status())));
              }
              report.set_status(v1::ACCEPTED);
              return absl::OkStatus();
            });
      });
}

namespace {

v1::LockException LockExceptionFromRow(const Row& row) {
  v1::LockException exception;
  exception.set_id(row.Int(0));
  exception.set_partner_id(row.Int(1));
  exception.set_period(FormatMonth(PeriodMonth(static_cast<int>(row.Int(2)))));
  exception.set_reason(row.Text(3));
  exception.set_granted_by(row.Text(4));
  *exception.mutable_grant_time() =
      TimeUtil::MicrosecondsToTimestamp(row.Int(5));
  *exception.mutable_expire_time() =
      TimeUtil::MicrosecondsToTimestamp(row.Int(6));
  return exception;
}

constexpr char kLockExceptionColumns[] =
    "id, partner_id, period, reason, granted_by, grant_time_us, "
    "expire_time_us";

}  // namespace

absl::StatusOr<v1::LockException> StatsStore::GrantLockException(
    const v1::GrantLockExceptionRequest& request, const RequestKey& key) {
  const absl::Time now = clock_->Now();
  const int period = PeriodNumber(*ParseMonth(request.period()));
  const int hours =
      request.duration_hours() == 0 ? 72 : request.duration_hours();
  return database_->TransactFor<v1::LockException>(
      [&](Session& session) -> absl::StatusOr<v1::LockException> {
        auto load = [&](int64_t id) -> absl::StatusOr<v1::LockException> {
          SMZ_ASSIGN_OR_RETURN(
              std::vector<Row> rows,
              session.Query(absl::StrCat("SELECT ", kLockExceptionColumns,
                                         " FROM lock_exceptions WHERE id = ?"),
                            {SqlInt(id)}));
          if (rows.empty()) {
            return absl::DataLossError("remembered lock exception missing");
          }
          return LockExceptionFromRow(rows.front());
        };
        SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> first,
                             ClaimRequest(session, key, now));
        if (first.has_value()) return load(first->result_id);
        // The request_id column is kept for exceptions granted before keys
        // were per caller (request_keys): new ones leave it NULL.
        SMZ_RETURN_IF_ERROR(
            session
                .Execute("INSERT INTO lock_exceptions (partner_id, period, "
                         "reason, granted_by, grant_time_us, expire_time_us) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         {SqlInt(request.partner_id()), SqlInt(period),
                          request.reason(), key.caller,
                          SqlInt(absl::ToUnixMicros(now)),
                          SqlInt(absl::ToUnixMicros(now + absl::Hours(hours)))})
                .status());
        SMZ_ASSIGN_OR_RETURN(const int64_t id, session.LastInsertId());
        SMZ_RETURN_IF_ERROR(SetRequestResult(session, key, id));
        SMZ_ASSIGN_OR_RETURN(v1::LockException exception, load(id));

        // The unlock is part of the report's history (or the period's, for
        // an exception that covers every partner).
        AuditEntry entry;
        entry.action = "UNLOCK";
        entry.actor = key.caller;
        entry.time = now;
        entry.after = exception.SerializeAsString();
        entry.changed_fields = {"lock_exception"};
        if (request.partner_id() == 0) {
          entry.entity = std::string(kPeriodEntity);
          entry.entity_id = period;
        } else {
          SMZ_ASSIGN_OR_RETURN(std::optional<StoredReport> stored,
                               LoadReport(session, request.partner_id(), period,
                                          false, options_.deadline_days));
          if (!stored.has_value()) return exception;  // nothing to record on
          entry.entity = std::string(kReportEntity);
          entry.entity_id = stored->id;
        }
        SMZ_RETURN_IF_ERROR(AppendAudit(session, entry));
        return exception;
      });
}

absl::StatusOr<std::vector<v1::LockException>> StatsStore::ListLockExceptions(
    int period, bool active_only, int64_t before_id, int limit) {
  const int64_t now_us = absl::ToUnixMicros(clock_->Now());
  return database_->RunFor<std::vector<v1::LockException>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::LockException>> {
        std::string sql = absl::StrCat("SELECT ", kLockExceptionColumns,
                                       " FROM lock_exceptions WHERE 1 = 1");
        std::vector<SqlValue> params;
        if (period > 0) {
          absl::StrAppend(&sql, " AND period = ?");
          params.push_back(SqlInt(period));
        }
        if (active_only) {
          absl::StrAppend(&sql, " AND expire_time_us > ?");
          params.push_back(SqlInt(now_us));
        }
        if (before_id > 0) {
          absl::StrAppend(&sql, " AND id < ?");
          params.push_back(SqlInt(before_id));
        }
        absl::StrAppend(&sql, " ORDER BY id DESC LIMIT ?");
        params.push_back(SqlInt(limit));
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        std::vector<v1::LockException> out;
        for (const Row& row : rows) out.push_back(LockExceptionFromRow(row));
        return out;
      });
}

}  // namespace smz::stats
