#include "services/stats/stats.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/aip/etag.h"
#include "common/aip/pager.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/csv.h"
#include "common/departments.h"
#include "common/iso_codes.h"
#include "common/mysql/audit.h"
#include "common/pagination.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/stats/disclosure.h"
#include "services/stats/report_rules.h"
#include "services/stats/stats_internal.h"

namespace smz::stats {

using ::google::protobuf::util::TimeUtil;

Stats::Stats(StatsStore* store, PartnerDirectory* partners, const Clock* clock,
             StatsOptions options)
    : store_(store),
      partners_(partners),
      clock_(clock),
      options_(options),
      aggregate_cache_(options.aggregate_cache_bytes) {}

bool Stats::Restricted(const Principal& caller) const {
  return caller.role() != auth::v1::ADMIN;
}

absl::StatusOr<PartnerFacts> Stats::ReportingPartner(
    int64_t partner_id, std::optional<absl::CivilMonth>* designated_since) {
  SMZ_ASSIGN_OR_RETURN(Partner partner, partners_->Get(partner_id));
  if (partner.status() != registry::v1::ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("partner ", partner_id, " is ",
                     registry::v1::PartnerStatus_Name(partner.status()),
                     " in the registry; only active partners report"));
  }
  *designated_since = DesignatedSince(partner);
  return FactsOf(partner);
}

absl::StatusOr<v1::SubmitReportResponse> Stats::SubmitReport(
    const Principal& caller, const v1::SubmitReportRequest& request) {
  const Report& report = request.report();
  if (report.partner_id() > 0) {
    SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, report.partner_id()));
  }
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  ReportContext context;
  context.current_month = absl::CivilMonth(TodayInSeoul(*clock_));
  PartnerFacts facts;
  if (report.partner_id() > 0) {
    SMZ_ASSIGN_OR_RETURN(
        PartnerFacts partner,
        ReportingPartner(report.partner_id(), &context.designated_since));
    facts = std::move(partner);
  }
  std::vector<Cell> cells = CanonicalCells(report, context, &violations);
  if (!violations.empty()) return violations.ToStatus();

  Submission submission;
  submission.report = report;
  submission.cells = std::move(cells);
  submission.draft = request.draft();
  submission.etag = request.etag();
  submission.method = "SubmitReport";
  submission.request_id = request.request_id();
  // Of the whole request, id included, as before request keys were shared:
  // keys stored then still match their retries.
  submission.request_digest = RequestDigest(request);
  submission.partner = facts;
  submission.actor = PrincipalLabel(caller);
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::SubmitReportResponse> done,
                       store_->Submit({submission}, request.validate_only()));
  return std::move(done.front());
}

absl::StatusOr<Report> Stats::GetReport(const Principal& caller,
                                        const v1::GetReportRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  const int period = RequiredPeriod(request.period(), "period", &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, request.partner_id()));
  return store_->GetReport(request.partner_id(), period);
}

absl::StatusOr<v1::ListReportsResponse> Stats::ListReports(
    const Principal& caller, const v1::ListReportsRequest& request) {
  SMZ_ASSIGN_OR_RETURN(int64_t partner_id,
                       ScopedPartner(caller, request.partner_id()));
  FieldViolations violations;
  const int start =
      OptionalPeriod(request.start_period(), "start_period", &violations);
  const int end =
      OptionalPeriod(request.end_period(), "end_period", &violations);
  if (!v1::ReportStatus_IsValid(request.status())) {
    violations.Add("status", "unknown value");
  }
  v1::ListReportsRequest scoped = request;
  scoped.set_partner_id(partner_id);
  Pager pager = PagerFor(scoped, &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<ListedReport> rows,
      store_->ListReports(partner_id, start, end, request.status(),
                          pager.after_id(), pager.fetch_limit()));
  v1::ListReportsResponse response;
  response.set_next_page_token(
      pager.Finish(&rows, [](const ListedReport& row) { return row.id; }));
  for (ListedReport& row : rows) {
    *response.add_reports() = std::move(row.report);
  }
  return response;
}

// Long by design: one pass over the year's months, then the due month,
// which may lie in the year before (December is due in January).
absl::StatusOr<v1::ReportingCalendar> Stats::GetReportingCalendar(
    const Principal& caller, const v1::GetReportingCalendarRequest& request) {
  const absl::Time now = clock_->Now();
  const absl::CivilMonth this_month(TodayInSeoul(*clock_));
  const int year = request.year() == 0 ? static_cast<int>(this_month.year())
                                       : request.year();
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  if (year < 2000 || year > 2100) {
    violations.Add("year", absl::StrCat("must be 2000..2100 (0: this year), "
                                        "got ",
                                        request.year()));
  }
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, request.partner_id()));
  SMZ_ASSIGN_OR_RETURN(Partner partner, partners_->Get(request.partner_id()));
  const std::optional<absl::CivilMonth> designated_since =
      DesignatedSince(partner);
  // Who reports, as GetCompleteness counts them: active specialized
  // operators and cooperating institutions, from their designation on.
  const bool reports =
      partner.status() == registry::v1::ACTIVE &&
      (partner.kind() == registry::v1::SPECIALIZED_OPERATOR ||
       partner.kind() == registry::v1::COOPERATING_INSTITUTION);
  const int deadline_days = store_->options().deadline_days;

  // The months still open for a first submission: ended, deadline ahead.
  absl::CivilMonth open_from = this_month;
  while (open_from - this_month > -12 &&
         PeriodDeadline(open_from - 1, deadline_days) > now) {
    --open_from;
  }
  const absl::CivilMonth first_month(year, 1);
  const absl::CivilMonth last_month(year, 12);
  SMZ_ASSIGN_OR_RETURN(
      PartnerCalendarRows rows,
      store_->PartnerCalendar(
          request.partner_id(), PeriodNumber(std::min(first_month, open_from)),
          PeriodNumber(std::max(last_month, this_month)), now));
  std::map<int, const ReportingRow*> by_period;
  for (const ReportingRow& r : rows.reports) by_period[r.period] = &r;
  auto status_of = [&](absl::CivilMonth month) {
    auto it = by_period.find(PeriodNumber(month));
    return it == by_period.end()
               ? v1::REPORT_STATUS_UNSPECIFIED
               : static_cast<v1::ReportStatus>(it->second->status);
  };
  auto submitted = [](v1::ReportStatus status) {
    return status == v1::SUBMITTED || status == v1::ACCEPTED;
  };
  auto expected = [&](absl::CivilMonth month) {
    return reports && month < this_month &&
           (!designated_since || *designated_since <= month);
  };

  v1::ReportingCalendar calendar;
  calendar.set_partner_id(request.partner_id());
  calendar.set_year(year);
  calendar.set_current_period(FormatMonth(this_month));
  for (absl::CivilMonth month = first_month; month <= last_month; ++month) {
    const int period = PeriodNumber(month);
    const absl::Time deadline = PeriodDeadline(month, deadline_days);
    v1::CalendarMonth* out = calendar.add_months();
    out->set_period(FormatMonth(month));
    *out->mutable_deadline() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(deadline));
    const v1::ReportStatus status = status_of(month);
    if (auto it = by_period.find(period); it != by_period.end()) {
      const ReportingRow& r = *it->second;
      out->set_no_activity(r.no_activity);
      out->set_late(r.late);
      out->set_revision(r.revision);
      *out->mutable_update_time() =
          TimeUtil::MicrosecondsToTimestamp(r.update_time_us);
    }
    out->set_status(status);
    out->set_expected(expected(month));
    out->set_overdue(out->expected() && !submitted(status) && now >= deadline);
    if (auto open = rows.exception_expire_us.find(period);
        open != rows.exception_expire_us.end()) {
      *out->mutable_exception_expire_time() =
          TimeUtil::MicrosecondsToTimestamp(open->second);
    } else {
      out->set_locked(now >= deadline || status == v1::ACCEPTED);
    }
  }
  for (absl::CivilMonth month = this_month - 1; month >= open_from; --month) {
    if (expected(month) && !submitted(status_of(month))) {
      calendar.set_due_period(FormatMonth(month));
      *calendar.mutable_due_deadline() = TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(PeriodDeadline(month, deadline_days)));
      break;
    }
  }
  return calendar;
}

absl::StatusOr<Report> Stats::AcceptReport(
    const Principal& caller, const v1::AcceptReportRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  const int period = RequiredPeriod(request.period(), "period", &violations);
  RequireEtag(request.etag(), "etag", &violations);
  if (!violations.empty()) return violations.ToStatus();
  return store_->AcceptReport(request.partner_id(), period, request.etag(),
                              PrincipalLabel(caller));
}

absl::StatusOr<v1::LockException> Stats::GrantLockException(
    const Principal& caller, const v1::GrantLockExceptionRequest& request) {
  FieldViolations violations;
  if (request.partner_id() < 0) {
    violations.Add("partner_id", "must be a partner id, or 0 for every one");
  }
  RequiredPeriod(request.period(), "period", &violations);
  if (request.reason().empty()) {
    violations.Add("reason", "is required: why the period is reopened");
  } else if (request.reason().size() > 2000) {
    violations.Add("reason", "must be at most 2000 bytes");
  }
  if (request.duration_hours() < 0 || request.duration_hours() > 720) {
    violations.Add("duration_hours", "must be 1..720 (default 72)");
  }
  ValidateRequestId(request.request_id(), &violations);
  if (!violations.empty()) return violations.ToStatus();
  if (request.partner_id() > 0) {
    if (absl::StatusOr<Partner> p = partners_->Get(request.partner_id());
        !p.ok()) {
      return p.status();
    }
  }
  return store_->GrantLockException(
      request, KeyOf(caller, "GrantLockException", request));
}

absl::StatusOr<v1::ListLockExceptionsResponse> Stats::ListLockExceptions(
    const Principal& caller, const v1::ListLockExceptionsRequest& request) {
  FieldViolations violations;
  const int period = OptionalPeriod(request.period(), "period", &violations);
  Pager pager = PagerFor(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  // Newest first: the token's position is the last id shown, and the next
  // page starts below it.
  SMZ_ASSIGN_OR_RETURN(
      std::vector<v1::LockException> found,
      store_->ListLockExceptions(period, request.active_only(),
                                 pager.after_id(), pager.fetch_limit()));
  v1::ListLockExceptionsResponse response;
  response.set_next_page_token(
      pager.Finish(&found, [](const v1::LockException& e) { return e.id(); }));
  for (v1::LockException& e : found) {
    *response.add_exceptions() = std::move(e);
  }
  return response;
}

absl::StatusOr<v1::ListReportChangesResponse> Stats::ListReportChanges(
    const Principal& caller, const v1::ListReportChangesRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  const int period = RequiredPeriod(request.period(), "period", &violations);
  Pager pager = PagerFor(request, &violations, "", kAuditMaxChangesPerPage);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, request.partner_id()));
  bool cut = false;
  SMZ_ASSIGN_OR_RETURN(
      std::vector<v1::ReportChange> changes,
      store_->ListReportChanges(request.partner_id(), period, pager.after_id(),
                                pager.fetch_limit(), &cut));
  v1::ListReportChangesResponse response;
  response.set_next_page_token(
      cut ? pager.TokenAfter(changes.back().id())
          : pager.Finish(&changes,
                         [](const v1::ReportChange& c) { return c.id(); }));
  for (v1::ReportChange& change : changes) {
    *response.add_changes() = std::move(change);
  }
  return response;
}

absl::StatusOr<v1::ListWarningsResponse> Stats::ListWarnings(
    const Principal& caller, const v1::ListWarningsRequest& request) {
  SMZ_ASSIGN_OR_RETURN(int64_t partner_id,
                       ScopedPartner(caller, request.partner_id()));
  FieldViolations violations;
  const int start =
      OptionalPeriod(request.start_period(), "start_period", &violations);
  const int end =
      OptionalPeriod(request.end_period(), "end_period", &violations);
  v1::ListWarningsRequest scoped = request;
  scoped.set_partner_id(partner_id);
  Pager pager = PagerFor(scoped, &violations);
  if (!violations.empty()) return violations.ToStatus();
  std::vector<int64_t> ids;
  SMZ_ASSIGN_OR_RETURN(
      std::vector<v1::Warning> warnings,
      store_->ListWarnings(partner_id, start, end, pager.after_id(),
                           pager.fetch_limit(), &ids));
  // Paged by the warning rows' ids, which the answer does not carry.
  std::vector<std::pair<int64_t, v1::Warning>> rows;
  for (size_t i = 0; i < warnings.size(); ++i) {
    rows.emplace_back(ids[i], std::move(warnings[i]));
  }
  v1::ListWarningsResponse response;
  response.set_next_page_token(pager.Finish(
      &rows, [](const std::pair<int64_t, v1::Warning>& r) { return r.first; }));
  for (auto& [id, warning] : rows)
    *response.add_warnings() = std::move(warning);
  return response;
}

// Long by design: parse, check every line (errors by line), then store the
// whole file in one transaction.
absl::StatusOr<v1::ImportReportsResponse> Stats::ImportReports(
    const Principal& caller, const v1::ImportReportsRequest& request) {
  FieldViolations request_violations;
  ValidateRequestId(request.request_id(), &request_violations);
  if (request.csv().size() > kMaxImportCsvBytes) {
    request_violations.Add("csv", "must be at most 16 MiB");
  }
  if (!request_violations.empty()) return request_violations.ToStatus();

  v1::ImportReportsResponse response;
  response.set_dry_run(request.dry_run());
  std::vector<v1::RowError> errors;
  std::vector<ParsedImportReport> parsed =
      ParseImportCsv(request.csv(), &errors);
  const ReportContext base{absl::CivilMonth(TodayInSeoul(*clock_)),
                           std::nullopt};
  std::vector<Submission> submissions;
  int rows = 0;
  for (const ParsedImportReport& p : parsed) {
    rows += p.report.new_patients_size() + p.report.visits_size() +
            (p.revenue_line ? 1 : 0) + (p.no_activity_line ? 1 : 0);
    const int64_t partner_id = p.report.partner_id();
    SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, partner_id));
    ReportContext context = base;
    absl::StatusOr<PartnerFacts> facts =
        ReportingPartner(partner_id, &context.designated_since);
    if (absl::IsUnavailable(facts.status())) return facts.status();
    if (!facts.ok()) {
      v1::RowError& e = errors.emplace_back();
      e.set_line(p.first_line);
      e.set_field("partner_id");
      e.set_message(std::string(facts.status().message()));
      continue;
    }
    FieldViolations violations;
    std::vector<Cell> cells = CanonicalCells(p.report, context, &violations);
    for (const FieldViolation& v : violations.violations()) {
      v1::RowError& e = errors.emplace_back();
      e.set_line(LineOfViolation(p, v.field));
      e.set_field(v.field);
      e.set_message(v.description);
    }
    Submission& s = submissions.emplace_back();
    s.report = p.report;
    s.cells = std::move(cells);
    s.require_etag = false;
    s.method = "ImportReports";
    if (!request.request_id().empty()) {
      // Derived per report, and hashed so distinct import ids never share
      // a prefix: "imp:<24 hex>:<partner>:<period>" (at most 64 chars).
      s.request_id =
          absl::StrCat("imp:", HashToken(request.request_id()).substr(0, 24),
                       ":", partner_id, ":", p.report.period());
    }
    s.request_digest = RequestDigest(p.report);
    s.partner = *facts;
    s.actor = PrincipalLabel(caller);
  }
  response.set_rows(rows);
  std::sort(errors.begin(), errors.end(),
            [](const v1::RowError& a, const v1::RowError& b) {
              return a.line() < b.line();
            });
  if (!errors.empty()) {
    if (!request.dry_run()) {
      FieldViolations violations;
      for (const v1::RowError& e : errors) {
        violations.Add(absl::StrCat("csv line ", e.line(), ": ", e.field()),
                       e.message());
      }
      return violations.ToStatus();
    }
    // Bounded, so that the answer to a file full of bad lines stays far
    // below a client's 4 MiB receive limit.
    response.set_error_count(static_cast<int32_t>(errors.size()));
    for (size_t i = 0; i < errors.size() && i < kMaxListedImportErrors; ++i) {
      *response.add_errors() = std::move(errors[i]);
    }
    return response;
  }
  if (submissions.empty()) {
    return InvalidField("csv", "has no report rows");
  }
  // Request keys (request_keys): "imb:" + hash for a whole file (its
  // digest is the file's), "imp:" + hash + partner + period for each of its
  // reports (below); hashed, so distinct ids never share a prefix and every
  // key fits 64 characters.
  std::optional<RequestKey> batch;
  if (!request.request_id().empty()) {
    batch = RequestKey{
        PrincipalLabel(caller), "ImportReports",
        absl::StrCat("imb:", HashToken(request.request_id()).substr(0, 24)),
        HashToken(request.csv())};
  }
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::SubmitReportResponse> done,
                       store_->Submit(submissions, request.dry_run(), batch));
  for (size_t i = 0; i < done.size(); ++i) {
    v1::ImportedReport* out = response.add_reports();
    out->set_partner_id(submissions[i].report.partner_id());
    out->set_period(submissions[i].report.period());
    *out->mutable_summary() = done[i].summary();
  }
  return response;
}

}  // namespace smz::stats
