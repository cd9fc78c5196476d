#include "services/stats/stats.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/aip/request_key.h"
#include "common/auth/token.h"
#include "common/csv.h"
#include "common/departments.h"
#include "common/iso_codes.h"
#include "common/pagination.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/stats/disclosure.h"
#include "services/stats/report_rules.h"

namespace smz::stats {
namespace {

using ::google::protobuf::util::TimeUtil;
using registry::v1::Partner;

// Longest range an aggregate may span (20 years of months).
constexpr int kMaxRangeMonths = 240;
constexpr size_t kMaxListedImportErrors = 1000;

// The page token's position; a bad token becomes a violation (and the first
// page), so it is reported with the request's other bad fields.
PageCursor CursorOrViolation(absl::string_view token, uint64_t fingerprint,
                             FieldViolations* violations) {
  absl::StatusOr<PageCursor> cursor = DecodePageToken(token, fingerprint);
  if (cursor.ok()) return *cursor;
  for (const FieldViolation& v : GetFieldViolations(cursor.status())) {
    violations->Add(v.field, v.description);
  }
  return PageCursor();
}

std::optional<absl::CivilMonth> DesignatedSince(const Partner& partner) {
  std::optional<absl::CivilMonth> since;
  for (const registry::v1::DesignationEvent& event : partner.designations()) {
    if (event.action() != registry::v1::DESIGNATED) continue;
    if (std::optional<absl::CivilDay> day = ParseDate(event.effective_on())) {
      const absl::CivilMonth month(*day);
      if (!since || month < *since) since = month;
    }
  }
  return since;
}

std::string NameOf(const Partner& partner) {
  auto it = partner.name().find("ko");
  return it == partner.name().end() ? "" : it->second;
}

PartnerFacts FactsOf(const Partner& partner) {
  PartnerFacts facts;
  facts.id = partner.id();
  facts.kind = partner.kind();
  facts.region = partner.region();
  facts.name_ko = NameOf(partner);
  auto en = partner.name().find("en");
  if (en != partner.name().end()) facts.name_en = en->second;
  return facts;
}

// A PARTNER reads and writes only its own partner_id; 0 means "mine".
absl::StatusOr<int64_t> ScopedPartner(const Principal& caller,
                                      int64_t requested) {
  if (caller.role() == auth::v1::PARTNER) {
    if (requested == 0) return caller.partner_id();
    if (absl::Status s = AuthorizePartnerScope(caller, requested); !s.ok()) {
      return s;
    }
  }
  return requested;
}

// Parses an optional YYYY-MM range bound into a YYYYMM number (0: none).
int OptionalPeriod(absl::string_view text, absl::string_view field,
                   FieldViolations* violations) {
  if (text.empty()) return 0;
  std::optional<absl::CivilMonth> month = ParseMonth(text);
  if (!month) {
    violations->Add(std::string(field),
                    absl::StrCat("'", text, "' is not YYYY-MM"));
    return 0;
  }
  return PeriodNumber(*month);
}

int RequiredPeriod(absl::string_view text, absl::string_view field,
                   FieldViolations* violations) {
  if (text.empty()) {
    violations->Add(std::string(field), "is required (YYYY-MM)");
    return 0;
  }
  return OptionalPeriod(text, field, violations);
}

std::string BucketLabel(v1::Bucket bucket, int value, int start, int end) {
  switch (bucket) {
    case v1::QUARTER:
      return absl::StrFormat("%04d-Q%d", value / 10, value % 10);
    case v1::YEAR:
      return absl::StrFormat("%04d", value);
    case v1::WHOLE_RANGE:
      return absl::StrCat(FormatMonth(PeriodMonth(start)), "..",
                          FormatMonth(PeriodMonth(end)));
    default:
      return FormatMonth(PeriodMonth(value));
  }
}

// The same bucket one year earlier.
int PreviousYearBucket(v1::Bucket bucket, int value) {
  switch (bucket) {
    case v1::QUARTER:
      return value - 10;
    case v1::YEAR:
      return value - 1;
    case v1::WHOLE_RANGE:
      return 0;
    default:
      return value - 100;
  }
}

std::string DimsKey(const AggregateGroup& g) {
  return absl::StrCat(g.nationality, "|", g.department, "|", g.care_type, "|",
                      g.partner_id, "|", g.partner_kind, "|", g.region, "|",
                      g.sex, "|", g.age_band, "|", g.pooled ? "pooled" : "");
}

// The bucket number of a month for `bucket`: as the store's SQL numbers
// them (StatsStore::Aggregate), which this must match.
int BucketOfPeriod(v1::Bucket bucket, int period) {
  switch (bucket) {
    case v1::QUARTER:
      return (period / 100) * 10 + ((period % 100) + 2) / 3;
    case v1::YEAR:
      return period / 100;
    case v1::WHOLE_RANGE:
      return 0;
    default:
      return period;
  }
}

bool FiltersOrGroupsByBlock(const AggregateQuery& query) {
  return query.filter.partner_kinds_size() > 0 ||
         query.filter.regions_size() > 0 ||
         std::find(query.group_by.begin(), query.group_by.end(),
                   v1::PARTNER_KIND) != query.group_by.end() ||
         std::find(query.group_by.begin(), query.group_by.end(), v1::REGION) !=
             query.group_by.end();
}

bool Has(const google::protobuf::RepeatedField<int>& dims, v1::Dimension d) {
  return std::find(dims.begin(), dims.end(), d) != dims.end();
}

struct Applicability {
  bool new_patients = true;
  bool visits = true;
  bool revenue = true;
};

// Unique patients are not attributable to a department or care type, visits
// are not broken down by sex or age, and revenue is reported per partner
// only; a figure is shown only where the grouping and filters allow it.
Applicability ApplicabilityOf(const v1::AggregateRequest& request) {
  const auto& g = request.group_by();
  const v1::AggregateFilter& f = request.filter();
  Applicability a;
  const bool by_department = Has(g, v1::DEPARTMENT) || Has(g, v1::CARE_TYPE) ||
                             f.departments_size() > 0 ||
                             f.care_types_size() > 0;
  const bool by_person = Has(g, v1::SEX) || Has(g, v1::AGE_BAND);
  a.new_patients = !by_department;
  a.visits = !by_person;
  a.revenue = !by_department && !by_person && !Has(g, v1::NATIONALITY) &&
              f.nationalities_size() == 0;
  return a;
}

}  // namespace

Stats::Stats(StatsStore* store, PartnerDirectory* partners, const Clock* clock,
             StatsOptions options)
    : store_(store), partners_(partners), clock_(clock), options_(options) {}

bool Stats::Restricted(const Principal& caller) const {
  return caller.role() != auth::v1::ADMIN;
}

absl::StatusOr<PartnerFacts> Stats::ReportingPartner(
    int64_t partner_id, std::optional<absl::CivilMonth>* designated_since) {
  absl::StatusOr<Partner> partner = partners_->Get(partner_id);
  if (!partner.ok()) return partner.status();
  if (partner->status() != registry::v1::ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("partner ", partner_id, " is ",
                     registry::v1::PartnerStatus_Name(partner->status()),
                     " in the registry; only active partners report"));
  }
  *designated_since = DesignatedSince(*partner);
  return FactsOf(*partner);
}

absl::StatusOr<v1::SubmitReportResponse> Stats::SubmitReport(
    const Principal& caller, const v1::SubmitReportRequest& request) {
  const Report& report = request.report();
  if (report.partner_id() > 0) {
    if (absl::Status s = AuthorizePartnerScope(caller, report.partner_id());
        !s.ok()) {
      return s;
    }
  }
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  ReportContext context;
  context.current_month = absl::CivilMonth(TodayInSeoul(*clock_));
  PartnerFacts facts;
  if (report.partner_id() > 0) {
    absl::StatusOr<PartnerFacts> partner =
        ReportingPartner(report.partner_id(), &context.designated_since);
    if (!partner.ok()) return partner.status();
    facts = *std::move(partner);
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
  absl::StatusOr<std::vector<v1::SubmitReportResponse>> done =
      store_->Submit({submission}, request.validate_only());
  if (!done.ok()) return done.status();
  return std::move(done->front());
}

absl::StatusOr<Report> Stats::GetReport(const Principal& caller,
                                        const v1::GetReportRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  const int period = RequiredPeriod(request.period(), "period", &violations);
  if (!violations.empty()) return violations.ToStatus();
  if (absl::Status s = AuthorizePartnerScope(caller, request.partner_id());
      !s.ok()) {
    return s;
  }
  return store_->GetReport(request.partner_id(), period);
}

absl::StatusOr<v1::ListReportsResponse> Stats::ListReports(
    const Principal& caller, const v1::ListReportsRequest& request) {
  absl::StatusOr<int64_t> partner_id =
      ScopedPartner(caller, request.partner_id());
  if (!partner_id.ok()) return partner_id.status();
  FieldViolations violations;
  const int page_size = ResolvePageSize(request.page_size(), &violations);
  const int start =
      OptionalPeriod(request.start_period(), "start_period", &violations);
  const int end =
      OptionalPeriod(request.end_period(), "end_period", &violations);
  if (!v1::ReportStatus_IsValid(request.status())) {
    violations.Add("status", "unknown value");
  }
  const uint64_t fingerprint =
      QueryFingerprint({absl::StrCat(*partner_id), request.start_period(),
                        request.end_period(), absl::StrCat(request.status())});
  const PageCursor cursor =
      CursorOrViolation(request.page_token(), fingerprint, &violations);
  if (!violations.empty()) return violations.ToStatus();
  std::vector<int64_t> ids;
  absl::StatusOr<v1::ListReportsResponse> response =
      store_->ListReports(*partner_id, start, end, request.status(),
                          cursor.last_id, page_size + 1, &ids);
  if (!response.ok()) return response.status();
  if (response->reports_size() > page_size) {
    response->mutable_reports()->RemoveLast();
    PageCursor next;
    next.has_position = true;
    next.last_id = ids[page_size - 1];
    response->set_next_page_token(EncodePageToken(fingerprint, next));
  }
  return response;
}

absl::StatusOr<Report> Stats::AcceptReport(
    const Principal& caller, const v1::AcceptReportRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  const int period = RequiredPeriod(request.period(), "period", &violations);
  if (request.etag().empty()) violations.Add("etag", "is required");
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
  if (!violations.empty()) return violations.ToStatus();
  absl::StatusOr<std::vector<v1::LockException>> found =
      store_->ListLockExceptions(period, request.active_only());
  if (!found.ok()) return found.status();
  v1::ListLockExceptionsResponse response;
  for (v1::LockException& e : *found) {
    *response.add_exceptions() = std::move(e);
  }
  return response;
}

absl::StatusOr<v1::ListReportChangesResponse> Stats::ListReportChanges(
    const Principal& caller, const v1::ListReportChangesRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  const int period = RequiredPeriod(request.period(), "period", &violations);
  const int page_size = ResolvePageSize(request.page_size(), &violations);
  const uint64_t fingerprint =
      QueryFingerprint({absl::StrCat(request.partner_id()), request.period()});
  const PageCursor cursor =
      CursorOrViolation(request.page_token(), fingerprint, &violations);
  if (!violations.empty()) return violations.ToStatus();
  if (absl::Status s = AuthorizePartnerScope(caller, request.partner_id());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<v1::ReportChange>> changes =
      store_->ListReportChanges(request.partner_id(), period, cursor.last_id,
                                page_size + 1);
  if (!changes.ok()) return changes.status();
  v1::ListReportChangesResponse response;
  for (int i = 0; i < static_cast<int>(changes->size()) && i < page_size; ++i) {
    *response.add_changes() = std::move((*changes)[i]);
  }
  if (static_cast<int>(changes->size()) > page_size) {
    PageCursor next;
    next.has_position = true;
    next.last_id = response.changes(page_size - 1).id();
    response.set_next_page_token(EncodePageToken(fingerprint, next));
  }
  return response;
}

absl::StatusOr<v1::ListWarningsResponse> Stats::ListWarnings(
    const Principal& caller, const v1::ListWarningsRequest& request) {
  absl::StatusOr<int64_t> partner_id =
      ScopedPartner(caller, request.partner_id());
  if (!partner_id.ok()) return partner_id.status();
  FieldViolations violations;
  const int page_size = ResolvePageSize(request.page_size(), &violations);
  const int start =
      OptionalPeriod(request.start_period(), "start_period", &violations);
  const int end =
      OptionalPeriod(request.end_period(), "end_period", &violations);
  const uint64_t fingerprint =
      QueryFingerprint({absl::StrCat(*partner_id), request.start_period(),
                        request.end_period()});
  const PageCursor cursor =
      CursorOrViolation(request.page_token(), fingerprint, &violations);
  if (!violations.empty()) return violations.ToStatus();
  std::vector<int64_t> ids;
  absl::StatusOr<std::vector<v1::Warning>> warnings = store_->ListWarnings(
      *partner_id, start, end, cursor.last_id, page_size + 1, &ids);
  if (!warnings.ok()) return warnings.status();
  v1::ListWarningsResponse response;
  for (int i = 0; i < static_cast<int>(warnings->size()) && i < page_size;
       ++i) {
    *response.add_warnings() = std::move((*warnings)[i]);
  }
  if (static_cast<int>(warnings->size()) > page_size) {
    PageCursor next;
    next.has_position = true;
    next.last_id = ids[page_size - 1];
    response.set_next_page_token(EncodePageToken(fingerprint, next));
  }
  return response;
}

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
    if (absl::Status s = AuthorizePartnerScope(caller, partner_id); !s.ok()) {
      return s;
    }
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
  // Keys in stats' idempotency table: "imb:" + hash for a whole file (its
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
  absl::StatusOr<std::vector<v1::SubmitReportResponse>> done =
      store_->Submit(submissions, request.dry_run(), batch);
  if (!done.ok()) return done.status();
  for (size_t i = 0; i < done->size(); ++i) {
    v1::ImportedReport* out = response.add_reports();
    out->set_partner_id(submissions[i].report.partner_id());
    out->set_period(submissions[i].report.period());
    *out->mutable_summary() = (*done)[i].summary();
  }
  return response;
}

namespace {

struct ValueContext {
  bool restricted = false;
  int threshold = 5;
};

v1::Value MakeValue(const GroupFigures& figures, bool applicable, bool revenue,
                    const ValueContext& context) {
  v1::Value value;
  value.set_applicable(applicable);
  if (!applicable) return value;
  const bool small =
      revenue ? figures.value > 0
              : figures.value > 0 && figures.value < context.threshold;
  if (context.restricted && small && figures.SinglePartner()) {
    value.set_suppressed(true);
    return value;
  }
  value.set_value(figures.value);
  return value;
}

void AddPrevious(const GroupFigures& previous, bool revenue,
                 const ValueContext& context, v1::Value* value) {
  if (!value->applicable()) return;
  v1::Value earlier = MakeValue(previous, true, revenue, context);
  if (value->suppressed() || earlier.suppressed()) return;
  value->set_previous_value(earlier.value());
  if (earlier.value() != 0) {
    value->set_change_percent(
        100.0 * static_cast<double>(value->value() - earlier.value()) /
        static_cast<double>(earlier.value()));
  }
}

// Secondary suppression: when exactly one figure among `values` is
// suppressed, the total minus the others would reveal it, so the smallest
// other non-zero figure is suppressed too.
void SuppressComplement(const std::vector<v1::Value*>& values) {
  v1::Value* only = nullptr;
  int suppressed = 0;
  v1::Value* smallest = nullptr;
  for (v1::Value* v : values) {
    if (!v->applicable()) continue;
    if (v->suppressed()) {
      ++suppressed;
      only = v;
    } else if (v->value() > 0 &&
               (smallest == nullptr || v->value() < smallest->value())) {
      smallest = v;
    }
  }
  if (suppressed != 1 || only == nullptr || smallest == nullptr) return;
  smallest->set_suppressed(true);
  smallest->set_value(0);
  smallest->clear_previous_value();
  smallest->clear_change_percent();
}

int64_t MetricOf(const AggregateGroup& g, v1::Metric metric) {
  switch (metric) {
    case v1::NEW_PATIENTS:
      return g.new_patients.value;
    case v1::REVENUE_KRW:
      return g.revenue.value;
    default:
      return g.visits.value;
  }
}

}  // namespace

absl::StatusOr<AggregateResult> Stats::AggregateFor(
    const Principal& caller, const AggregateQuery& query) {
  if (!Restricted(caller)) return store_->Aggregate(query);
  // Month by month (and by kind x region where the query selects or groups
  // by them) first, so that small groups and months can be pooled or
  // withheld; then back to the buckets and dimensions asked for.
  const bool by_group = FiltersOrGroupsByBlock(query);
  AggregateQuery fine = query;
  fine.bucket = v1::MONTH;
  if (by_group) {
    for (v1::Dimension d : {v1::PARTNER_KIND, v1::REGION}) {
      if (std::find(fine.group_by.begin(), fine.group_by.end(), d) ==
          fine.group_by.end()) {
        fine.group_by.push_back(d);
      }
    }
  }
  absl::StatusOr<AggregateResult> result = store_->Aggregate(fine);
  if (!result.ok()) return result.status();
  absl::StatusOr<GroupReporters> counted =
      store_->ReportersByGroup(query.start_period, query.end_period);
  if (!counted.ok()) return counted.status();
  // Revenue goes by the hospitals that reported revenue: a group of three
  // active hospitals, one with revenue, would show that one's revenue.
  std::map<GroupMonth, int>* reporters = &counted->active;
  std::map<GroupMonth, int>* revenue_reporters = &counted->with_revenue;
  if (!by_group) {
    // Without kinds or regions, the zone's counts are what matter.
    for (std::map<GroupMonth, int>* counts : {reporters, revenue_reporters}) {
      std::map<GroupMonth, int> zone;
      for (const auto& [key, count] : *counts) {
        zone[{std::get<0>(key), 0, 0}] += count;
      }
      *counts = std::move(zone);
    }
  }
  const int n = options_.min_group_partners;
  const std::set<GroupMonth> pooled =
      by_group ? PooledGroups(*reporters, n) : std::set<GroupMonth>();
  const std::set<GroupMonth> pooled_revenue =
      by_group ? PooledGroups(*revenue_reporters, n) : std::set<GroupMonth>();
  const std::set<int> withheld = WithheldMonths(*reporters, n);
  const std::set<int> withheld_revenue = WithheldMonths(*revenue_reporters, n);

  const bool filtered =
      query.filter.partner_kinds_size() > 0 || query.filter.regions_size() > 0;
  auto wanted = [&](v1::Dimension d) {
    return std::find(query.group_by.begin(), query.group_by.end(), d) !=
           query.group_by.end();
  };
  AggregateResult out;
  out.source = result->source;
  std::map<std::string, size_t> index;
  // The output group `g` belongs to, pooled or not, in the query's bucket
  // and dimensions.
  auto target = [&](const AggregateGroup& g, int period,
                    bool pool) -> AggregateGroup& {
    AggregateGroup key = g;
    key.new_patients = key.visits = key.revenue = GroupFigures();
    key.pooled = pool;
    if (pool || !wanted(v1::PARTNER_KIND)) key.partner_kind = 0;
    if (pool || !wanted(v1::REGION)) key.region = 0;
    key.bucket = BucketOfPeriod(query.bucket, period);
    auto [it, inserted] = index.emplace(
        absl::StrCat(key.bucket, "#", DimsKey(key)), out.groups.size());
    if (inserted) out.groups.push_back(std::move(key));
    return out.groups[it->second];
  };
  for (const AggregateGroup& g : result->groups) {
    const int period = g.bucket;
    const GroupMonth group{period, by_group ? g.partner_kind : 0,
                           by_group ? g.region : 0};
    if (withheld.count(period) > 0 || withheld_revenue.count(period) > 0) {
      out.withheld_periods.insert(period);
    }
    // Patients and visits, then revenue, each to its own group or the pool
    // (left out under a kind or region filter), or nowhere when withheld.
    if (withheld.count(period) == 0 &&
        (g.new_patients.present || g.visits.present)) {
      const bool pool = pooled.count(group) > 0;
      if (!(pool && filtered)) {
        AggregateGroup& to = target(g, period, pool);
        to.new_patients.Add(g.new_patients);
        to.visits.Add(g.visits);
      }
    }
    if (withheld_revenue.count(period) == 0 && g.revenue.present) {
      const bool pool = pooled_revenue.count(group) > 0;
      if (!(pool && filtered)) target(g, period, pool).revenue.Add(g.revenue);
    }
  }
  return out;
}

absl::StatusOr<v1::AggregateResponse> Stats::QueryAggregate(
    const Principal& caller, const v1::AggregateRequest& request) {
  FieldViolations violations;
  const int start =
      RequiredPeriod(request.start_period(), "start_period", &violations);
  const int end =
      RequiredPeriod(request.end_period(), "end_period", &violations);
  if (start > 0 && end > 0) {
    const int months =
        (end / 100 - start / 100) * 12 + end % 100 - start % 100 + 1;
    if (months <= 0) {
      violations.Add("end_period", "must not be before start_period");
    } else if (months > kMaxRangeMonths) {
      violations.Add("end_period", absl::StrCat("range must be at most ",
                                                kMaxRangeMonths, " months"));
    }
  }
  if (!v1::Bucket_IsValid(request.bucket())) {
    violations.Add("bucket", "unknown value");
  }
  std::set<int> seen_dims;
  for (int i = 0; i < request.group_by_size(); ++i) {
    const int d = request.group_by(i);
    const std::string field = absl::StrCat("group_by[", i, "]");
    if (d == v1::DIMENSION_UNSPECIFIED || !v1::Dimension_IsValid(d)) {
      violations.Add(field, "unknown dimension");
    } else if (!seen_dims.insert(d).second) {
      violations.Add(field, "repeated dimension");
    }
  }
  const v1::AggregateFilter& f = request.filter();
  for (int i = 0; i < f.nationalities_size(); ++i) {
    if (!IsCountryCode(f.nationalities(i))) {
      violations.Add(
          absl::StrCat("filter.nationalities[", i, "]"),
          absl::StrCat("unknown nationality '", f.nationalities(i), "'"));
    }
  }
  for (int i = 0; i < f.departments_size(); ++i) {
    if (!IsDepartmentCode(f.departments(i))) {
      violations.Add(
          absl::StrCat("filter.departments[", i, "]"),
          absl::StrCat("unknown department '", f.departments(i), "'"));
    }
  }
  for (int i = 0; i < f.care_types_size(); ++i) {
    if (f.care_types(i) == 0 || !v1::CareType_IsValid(f.care_types(i))) {
      violations.Add(absl::StrCat("filter.care_types[", i, "]"),
                     "unknown care type");
    }
  }
  for (int i = 0; i < f.partner_kinds_size(); ++i) {
    if (f.partner_kinds(i) == 0 ||
        !registry::v1::PartnerKind_IsValid(f.partner_kinds(i))) {
      violations.Add(absl::StrCat("filter.partner_kinds[", i, "]"),
                     "unknown partner kind");
    }
  }
  for (int i = 0; i < f.regions_size(); ++i) {
    if (f.regions(i) == 0 || !registry::v1::ZoneRegion_IsValid(f.regions(i))) {
      violations.Add(absl::StrCat("filter.regions[", i, "]"), "unknown region");
    }
  }
  for (int i = 0; i < f.partner_ids_size(); ++i) {
    if (f.partner_ids(i) <= 0) {
      violations.Add(absl::StrCat("filter.partner_ids[", i, "]"),
                     "must be a partner id");
    }
  }
  if (request.top_n() < 0) violations.Add("top_n", "must be >= 0");
  if (!v1::Metric_IsValid(request.order_by())) {
    violations.Add("order_by", "unknown value");
  }
  const int filter_values = f.nationalities_size() + f.departments_size() +
                            f.care_types_size() + f.partner_kinds_size() +
                            f.regions_size() + f.partner_ids_size();
  if (filter_values > 500) {
    violations.Add("filter", "at most 500 values in all");
  }
  if (!violations.empty()) return violations.ToStatus();
  if (Restricted(caller) &&
      (f.partner_ids_size() > 0 || Has(request.group_by(), v1::PARTNER))) {
    // Three sums over chosen pairs of hospitals give each one's figures:
    // only ADMIN (and each hospital, for itself) sees single hospitals.
    return absl::PermissionDeniedError(absl::StrCat(
        f.partner_ids_size() > 0 ? "filter.partner_ids" : "group_by PARTNER",
        ": role ", auth::v1::Role_Name(caller.role()),
        " sees hospitals in groups only (by partner kind and region)"));
  }

  AggregateQuery query;
  query.start_period = start;
  query.end_period = end;
  query.bucket =
      request.bucket() == v1::BUCKET_UNSPECIFIED ? v1::MONTH : request.bucket();
  for (int d : request.group_by()) {
    query.group_by.push_back(static_cast<v1::Dimension>(d));
  }
  query.filter = f;
  const Applicability applicable = ApplicabilityOf(request);
  if (applicable.new_patients) {
    query.measures.push_back(static_cast<int>(Measure::kNewPatients));
  }
  if (applicable.visits) {
    query.measures.push_back(static_cast<int>(Measure::kVisits));
  }
  if (applicable.revenue) {
    query.measures.push_back(static_cast<int>(Measure::kRevenueKrw));
  }
  absl::StatusOr<AggregateResult> current = AggregateFor(caller, query);
  if (!current.ok()) return current.status();

  std::map<std::string, const AggregateGroup*> previous_index;
  AggregateResult previous;
  if (request.year_over_year()) {
    AggregateQuery earlier = query;
    earlier.start_period = start - 100;
    earlier.end_period = end - 100;
    absl::StatusOr<AggregateResult> found = AggregateFor(caller, earlier);
    if (!found.ok()) return found.status();
    previous = *std::move(found);
    for (const AggregateGroup& g : previous.groups) {
      previous_index[absl::StrCat(g.bucket, "#", DimsKey(g))] = &g;
    }
  }

  std::map<int64_t, std::string> names;
  if (Has(request.group_by(), v1::PARTNER)) {
    absl::StatusOr<std::vector<PartnerFacts>> known = store_->KnownPartners();
    if (!known.ok()) return known.status();
    for (const PartnerFacts& p : *known) names[p.id] = p.name_ko;
  }

  std::vector<AggregateGroup>& groups = current->groups;
  const v1::Metric metric = request.order_by();
  // Buckets ascending; within a bucket by the metric (desc) when ranking,
  // else by the dimension values.
  std::sort(
      groups.begin(), groups.end(),
      [&](const AggregateGroup& a, const AggregateGroup& b) {
        if (a.bucket != b.bucket) return a.bucket < b.bucket;
        if (request.top_n() > 0) {
          const int64_t ma = MetricOf(a, metric);
          const int64_t mb = MetricOf(b, metric);
          if (ma != mb) return ma > mb;
        }
        return std::tie(a.nationality, a.department, a.care_type, a.partner_id,
                        a.partner_kind, a.region, a.sex, a.age_band) <
               std::tie(b.nationality, b.department, b.care_type, b.partner_id,
                        b.partner_kind, b.region, b.sex, b.age_band);
      });

  const ValueContext context{Restricted(caller),
                             options_.suppression_threshold};
  v1::AggregateResponse response;
  response.set_suppression_threshold(options_.suppression_threshold);
  response.set_source(current->source);
  if (context.restricted) {
    response.set_min_group_partners(options_.min_group_partners);
    for (const std::set<int>* withheld :
         {&current->withheld_periods, &previous.withheld_periods}) {
      for (int period : *withheld) {
        response.add_withheld_periods(FormatMonth(PeriodMonth(period)));
      }
    }
  }
  AggregateGroup total;
  AggregateGroup previous_total;
  for (const AggregateGroup& g : previous.groups) {
    previous_total.new_patients.Add(g.new_patients);
    previous_total.visits.Add(g.visits);
    previous_total.revenue.Add(g.revenue);
  }
  std::map<int, int> kept_per_bucket;
  for (const AggregateGroup& g : groups) {
    total.new_patients.Add(g.new_patients);
    total.visits.Add(g.visits);
    total.revenue.Add(g.revenue);
    if (request.top_n() > 0 && ++kept_per_bucket[g.bucket] > request.top_n()) {
      continue;
    }
    v1::AggregateRow* row = response.add_rows();
    row->set_bucket(BucketLabel(query.bucket, g.bucket, start, end));
    row->set_nationality(g.nationality);
    row->set_department(g.department);
    row->set_care_type(static_cast<v1::CareType>(g.care_type));
    row->set_partner_id(g.partner_id);
    row->set_partner_kind(
        static_cast<registry::v1::PartnerKind>(g.partner_kind));
    row->set_region(static_cast<registry::v1::ZoneRegion>(g.region));
    row->set_sex(static_cast<v1::Sex>(g.sex));
    row->set_age_band(static_cast<v1::AgeBand>(g.age_band));
    row->set_pooled(g.pooled);
    if (g.partner_id != 0) row->set_partner_name(names[g.partner_id]);
    *row->mutable_new_patients() =
        MakeValue(g.new_patients, applicable.new_patients, false, context);
    *row->mutable_visits() =
        MakeValue(g.visits, applicable.visits, false, context);
    *row->mutable_revenue_krw() =
        MakeValue(g.revenue, applicable.revenue, true, context);
    if (request.year_over_year()) {
      auto it = previous_index.find(absl::StrCat(
          PreviousYearBucket(query.bucket, g.bucket), "#", DimsKey(g)));
      const AggregateGroup empty;
      const AggregateGroup& p =
          it == previous_index.end() ? empty : *it->second;
      AddPrevious(p.new_patients, false, context, row->mutable_new_patients());
      AddPrevious(p.visits, false, context, row->mutable_visits());
      AddPrevious(p.revenue, true, context, row->mutable_revenue_krw());
    }
  }
  if (context.restricted) {
    std::map<std::string, std::vector<v1::AggregateRow*>> by_bucket;
    for (v1::AggregateRow& row : *response.mutable_rows()) {
      by_bucket[row.bucket()].push_back(&row);
    }
    for (auto& [bucket, rows] : by_bucket) {
      std::vector<v1::Value*> new_patients, visits, revenue;
      for (v1::AggregateRow* row : rows) {
        new_patients.push_back(row->mutable_new_patients());
        visits.push_back(row->mutable_visits());
        revenue.push_back(row->mutable_revenue_krw());
      }
      SuppressComplement(new_patients);
      SuppressComplement(visits);
      SuppressComplement(revenue);
    }
  }
  for (const GroupFigures* figures :
       {&total.new_patients, &total.visits, &total.revenue,
        &previous_total.new_patients, &previous_total.visits,
        &previous_total.revenue}) {
    // The total adds every group (shown or not), so it carries any overflow.
    if (figures->overflow) {
      return absl::OutOfRangeError(
          "the figures of this query add up beyond what can be counted; "
          "narrow the period or the filters");
    }
  }
  v1::AggregateRow* total_row = response.mutable_total();
  total_row->set_bucket(BucketLabel(v1::WHOLE_RANGE, 0, start, end));
  *total_row->mutable_new_patients() =
      MakeValue(total.new_patients, applicable.new_patients, false, context);
  *total_row->mutable_visits() =
      MakeValue(total.visits, applicable.visits, false, context);
  *total_row->mutable_revenue_krw() =
      MakeValue(total.revenue, applicable.revenue, true, context);
  if (request.year_over_year()) {
    AddPrevious(previous_total.new_patients, false, context,
                total_row->mutable_new_patients());
    AddPrevious(previous_total.visits, false, context,
                total_row->mutable_visits());
    AddPrevious(previous_total.revenue, true, context,
                total_row->mutable_revenue_krw());
  }
  return response;
}

namespace {

// A suppressed count shows as "<5"; suppressed revenue is not small, only
// hidden (one hospital's), so it shows as "suppressed".
CsvCell CsvValue(const v1::Value& value, int threshold, bool revenue) {
  if (!value.applicable()) return "";
  if (value.suppressed()) {
    return revenue ? "suppressed" : absl::StrCat("<", threshold);
  }
  return value.value();
}

}  // namespace

absl::StatusOr<v1::CsvFile> Stats::ExportAggregateCsv(
    const Principal& caller, const v1::AggregateRequest& request) {
  absl::StatusOr<v1::AggregateResponse> aggregate =
      QueryAggregate(caller, request);
  if (!aggregate.ok()) return aggregate.status();
  const int threshold = aggregate->suppression_threshold();
  std::vector<CsvCell> header = {"bucket"};
  std::vector<v1::Dimension> dims;
  for (int d : request.group_by())
    dims.push_back(static_cast<v1::Dimension>(d));
  std::sort(dims.begin(), dims.end());
  for (v1::Dimension d : dims) {
    header.push_back(absl::AsciiStrToLower(v1::Dimension_Name(d)));
    if (d == v1::PARTNER) header.push_back("partner_name");
  }
  for (const char* measure : {"new_patients", "visits", "revenue_krw"}) {
    header.push_back(measure);
    if (request.year_over_year()) {
      header.push_back(absl::StrCat(measure, "_previous_year"));
      header.push_back(absl::StrCat(measure, "_change_percent"));
    }
  }
  CsvWriter csv;
  csv.Row(header);
  auto append_row = [&](const v1::AggregateRow& row, bool is_total) {
    std::vector<CsvCell> fields = {
        is_total ? absl::StrCat("total ", row.bucket()) : row.bucket()};
    for (v1::Dimension d : dims) {
      switch (d) {
        case v1::NATIONALITY:
          fields.push_back(row.nationality());
          break;
        case v1::DEPARTMENT:
          fields.push_back(row.department());
          break;
        case v1::CARE_TYPE:
          fields.push_back(is_total ? "" : v1::CareType_Name(row.care_type()));
          break;
        case v1::PARTNER:
          fields.push_back(is_total ? CsvCell("") : CsvCell(row.partner_id()));
          fields.push_back(row.partner_name());
          break;
        case v1::PARTNER_KIND:
          fields.push_back(is_total       ? ""
                           : row.pooled() ? "POOLED"
                                          : registry::v1::PartnerKind_Name(
                                                row.partner_kind()));
          break;
        case v1::REGION:
          fields.push_back(is_total ? ""
                           : row.pooled()
                               ? "POOLED"
                               : registry::v1::ZoneRegion_Name(row.region()));
          break;
        case v1::SEX:
          fields.push_back(is_total ? "" : v1::Sex_Name(row.sex()));
          break;
        case v1::AGE_BAND:
          fields.push_back(is_total ? "" : v1::AgeBand_Name(row.age_band()));
          break;
        default:
          break;
      }
    }
    for (const v1::Value* value :
         {&row.new_patients(), &row.visits(), &row.revenue_krw()}) {
      fields.push_back(
          CsvValue(*value, threshold, value == &row.revenue_krw()));
      if (request.year_over_year()) {
        fields.push_back(value->has_previous_value()
                             ? CsvCell(value->previous_value())
                             : CsvCell(""));
        fields.push_back(value->has_change_percent()
                             ? CsvCell::Decimal(value->change_percent(), 1)
                             : CsvCell(""));
      }
    }
    csv.Row(fields);
  };
  for (const v1::AggregateRow& row : aggregate->rows()) append_row(row, false);
  append_row(aggregate->total(), true);
  v1::CsvFile file;
  file.set_filename(absl::StrCat("smz-aggregate-", request.start_period(), "-",
                                 request.end_period(), ".csv"));
  file.set_content_type("text/csv; charset=utf-8");
  file.set_content(std::move(csv).Finish());
  return file;
}

absl::StatusOr<v1::CompletenessResponse> Stats::GetCompleteness(
    const Principal& caller, const v1::GetCompletenessRequest& request) {
  FieldViolations violations;
  const int start =
      RequiredPeriod(request.start_period(), "start_period", &violations);
  int end =
      request.end_period().empty()
          ? start
          : OptionalPeriod(request.end_period(), "end_period", &violations);
  if (start > 0 && end > 0) {
    if (end < start) {
      violations.Add("end_period", "must not be before start_period");
    } else if ((end / 100 - start / 100) * 12 + end % 100 - start % 100 >= 60) {
      violations.Add("end_period", "range must be at most 60 months");
    }
  }
  if (!violations.empty()) return violations.ToStatus();

  // Who is expected to report: every active specialized operator and
  // cooperating institution, from the month of its first designation.
  std::map<int64_t, std::pair<std::string, std::optional<absl::CivilMonth>>>
      expected;
  for (registry::v1::PartnerKind kind :
       {registry::v1::SPECIALIZED_OPERATOR,
        registry::v1::COOPERATING_INSTITUTION}) {
    absl::StatusOr<std::vector<Partner>> active = partners_->ListActive(kind);
    if (!active.ok()) return active.status();
    for (const Partner& p : *active) {
      expected[p.id()] = {NameOf(p), DesignatedSince(p)};
    }
  }
  absl::StatusOr<std::vector<ReportingRow>> reports =
      store_->ListReporting(start, end);
  if (!reports.ok()) return reports.status();
  absl::StatusOr<std::vector<PartnerFacts>> known = store_->KnownPartners();
  if (!known.ok()) return known.status();
  std::map<int64_t, std::string> names;
  for (const PartnerFacts& p : *known) names[p.id] = p.name_ko;
  std::map<std::pair<int, int64_t>, const ReportingRow*> by_key;
  for (const ReportingRow& r : *reports) by_key[{r.period, r.partner_id}] = &r;

  v1::CompletenessResponse response;
  const int deadline_days = store_->options().deadline_days;
  for (absl::CivilMonth month = PeriodMonth(start); PeriodNumber(month) <= end;
       ++month) {
    const int period = PeriodNumber(month);
    std::set<int64_t> partner_ids;
    for (const auto& [id, info] : expected) {
      if (!info.second || *info.second <= month) partner_ids.insert(id);
    }
    for (const ReportingRow& r : *reports) {
      if (r.period == period) partner_ids.insert(r.partner_id);
    }
    v1::PeriodCompleteness* summary = response.add_periods();
    summary->set_period(FormatMonth(month));
    *summary->mutable_deadline() = TimeUtil::MicrosecondsToTimestamp(
        absl::ToUnixMicros(PeriodDeadline(month, deadline_days)));
    for (int64_t id : partner_ids) {
      v1::PartnerReporting* entry = response.add_partners();
      entry->set_partner_id(id);
      auto e = expected.find(id);
      entry->set_partner_name(e != expected.end() ? e->second.first
                                                  : names[id]);
      entry->set_period(FormatMonth(month));
      auto it = by_key.find({period, id});
      v1::ReportingState state = v1::NOT_REPORTED;
      if (it != by_key.end()) {
        const ReportingRow& r = *it->second;
        entry->set_no_activity(r.no_activity);
        if (r.first_submit_time_us == 0) {
          state = v1::DRAFT_ONLY;
        } else {
          state = r.late ? v1::LATE : v1::ON_TIME;
          *entry->mutable_first_submit_time() =
              TimeUtil::MicrosecondsToTimestamp(r.first_submit_time_us);
        }
      }
      entry->set_state(state);
      summary->set_expected(summary->expected() + 1);
      if (state == v1::ON_TIME || state == v1::LATE) {
        summary->set_reported(summary->reported() + 1);
        if (entry->no_activity()) {
          summary->set_no_activity(summary->no_activity() + 1);
        }
      }
      if (state == v1::ON_TIME) summary->set_on_time(summary->on_time() + 1);
      if (state == v1::LATE) summary->set_late(summary->late() + 1);
    }
    if (summary->expected() > 0) {
      summary->set_reporting_rate(static_cast<double>(summary->reported()) /
                                  summary->expected());
      summary->set_on_time_rate(static_cast<double>(summary->on_time()) /
                                summary->expected());
    }
  }
  return response;
}

absl::StatusOr<v1::KpiProgress> Stats::GetKpiProgress(
    const Principal& caller, const v1::GetKpiProgressRequest& request) {
  FieldViolations violations;
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  absl::CivilDay as_of = TodayInSeoul(*clock_);
  if (!request.as_of().empty()) {
    if (std::optional<absl::CivilDay> day = ParseDate(request.as_of())) {
      as_of = *day;
    } else {
      violations.Add("as_of", "must be a date YYYY-MM-DD");
    }
  }
  if (request.target() < 0) violations.Add("target", "must be >= 0");
  if (!violations.empty()) return violations.ToStatus();
  const absl::CivilDay first(request.year(), 1, 1);
  const absl::CivilDay last(request.year(), 12, 31);
  if (as_of < first) {
    return InvalidField("as_of", absl::StrCat("is before ", request.year()));
  }
  if (as_of > last) as_of = last;
  const int64_t target =
      request.target() > 0 ? request.target() : options_.default_yearly_target;

  AggregateQuery query;
  query.start_period = request.year() * 100 + 1;
  query.end_period = PeriodNumber(absl::CivilMonth(as_of));
  query.bucket = v1::MONTH;
  query.measures = {static_cast<int>(Measure::kNewPatients)};
  absl::StatusOr<AggregateResult> figures = AggregateFor(caller, query);
  if (!figures.ok()) return figures.status();
  absl::StatusOr<std::map<int, int>> counted_reports =
      store_->CountCountedReports(query.start_period, query.end_period);
  if (!counted_reports.ok()) return counted_reports.status();
  std::map<int, GroupFigures> by_month;
  for (const AggregateGroup& g : figures->groups) {
    by_month[g.bucket].Add(g.new_patients);
  }

  const ValueContext context{Restricted(caller),
                             options_.suppression_threshold};
  v1::KpiProgress progress;
  progress.set_year(request.year());
  progress.set_as_of(FormatDate(as_of));
  progress.set_target(target);
  GroupFigures ytd;
  for (absl::CivilMonth month(first); PeriodNumber(month) <= query.end_period;
       ++month) {
    const GroupFigures& f = by_month[PeriodNumber(month)];
    ytd.Add(f);
    v1::KpiMonth* out = progress.add_months();
    out->set_period(FormatMonth(month));
    *out->mutable_new_patients() = MakeValue(f, true, false, context);
    out->set_reports((*counted_reports)[PeriodNumber(month)]);
    const v1::Value cumulative = MakeValue(ytd, true, false, context);
    out->set_cumulative(cumulative.value());
  }
  if (context.restricted) {
    std::vector<v1::Value*> months;
    bool any_suppressed = false;
    for (v1::KpiMonth& m : *progress.mutable_months()) {
      months.push_back(m.mutable_new_patients());
    }
    SuppressComplement(months);
    for (v1::KpiMonth& m : *progress.mutable_months()) {
      any_suppressed = any_suppressed || m.new_patients().suppressed();
    }
    // Consecutive cumulative figures would give a suppressed month away.
    if (any_suppressed) {
      for (v1::KpiMonth& m : *progress.mutable_months()) m.set_cumulative(0);
    }
  }
  // Months with too few hospitals so far are left out of every figure
  // (AggregateFor); they show as suppressed.
  for (v1::KpiMonth& m : *progress.mutable_months()) {
    if (figures->withheld_periods.count(PeriodNumber(*ParseMonth(m.period()))) >
        0) {
      m.mutable_new_patients()->set_suppressed(true);
    }
  }
  const v1::Value ytd_value = MakeValue(ytd, true, false, context);
  progress.set_ytd_suppressed(ytd_value.suppressed());
  progress.set_new_patients_ytd(ytd_value.value());
  const double elapsed =
      static_cast<double>(as_of - first + 1) / (last - first + 1);
  progress.set_pro_rata_target(target * elapsed);
  if (target > 0) {
    progress.set_achievement_percent(100.0 * ytd_value.value() / target);
    progress.set_pacing_percent(100.0 * ytd_value.value() / (target * elapsed));
  }
  progress.set_projected_year_end(
      static_cast<int64_t>(ytd_value.value() / elapsed + 0.5));
  return progress;
}

absl::StatusOr<v1::CsvFile> Stats::ExportAnnualReport(
    const Principal& caller, const v1::ExportAnnualReportRequest& request) {
  absl::StatusOr<int64_t> partner_id =
      ScopedPartner(caller, request.partner_id());
  if (!partner_id.ok()) return partner_id.status();
  FieldViolations violations;
  if (*partner_id <= 0) violations.Add("partner_id", "is required");
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  if (!violations.empty()) return violations.ToStatus();
  absl::StatusOr<Partner> partner = partners_->Get(*partner_id);
  if (!partner.ok()) return partner.status();
  absl::StatusOr<std::vector<Report>> reports =
      store_->PartnerYear(*partner_id, request.year());
  if (!reports.ok()) return reports.status();

  std::map<std::string, const Report*> by_period;
  for (const Report& r : *reports) by_period[r.period()] = &r;
  auto country_ko = [](const std::string& code) -> std::string {
    const IsoCode* c = FindCountry(code);
    return c ? std::string(c->name_ko) : "";
  };
  auto department_ko = [](const std::string& code) -> std::string {
    for (const Department& d : Departments()) {
      if (d.code == code) return std::string(d.name_ko);
    }
    return "";
  };
  CsvWriter csv;
  csv.Comment(absl::StrCat(NameOf(*partner), " (partner ", *partner_id,
                           "), foreign patients ", request.year(),
                           ": monthly cells, then the year's totals. Counts "
                           "of SUBMITTED and ACCEPTED reports."));
  csv.Row({"period", "report_status", "record", "nationality", "nationality_ko",
           "department", "department_ko", "care_type", "sex", "age_band",
           "count"});
  // Year totals: visits by nationality x department x care type, new
  // patients by nationality.
  std::map<std::tuple<std::string, std::string, int>, int64_t> visit_totals;
  std::map<std::string, int64_t> new_totals;
  int64_t revenue_total = 0;
  for (int m = 1; m <= 12; ++m) {
    const std::string period = FormatMonth(absl::CivilMonth(request.year(), m));
    auto it = by_period.find(period);
    if (it == by_period.end()) {
      csv.Row({period, "NOT_REPORTED", "not_reported", "", "", "", "", "", "",
               "", ""});
      continue;
    }
    const Report& r = *it->second;
    const std::string status = v1::ReportStatus_Name(r.status());
    const bool counted = r.status() != v1::DRAFT;
    if (r.no_activity()) {
      csv.Row({period, status, "no_activity", "", "", "", "", "", "", "", 0});
    }
    for (const v1::NewPatientCell& c : r.new_patients()) {
      csv.Row({period, status, "new_patients", c.nationality(),
               country_ko(c.nationality()), "", "", "",
               c.sex() ? v1::Sex_Name(c.sex()) : "",
               c.age_band() ? v1::AgeBand_Name(c.age_band()) : "", c.count()});
      if (counted) new_totals[c.nationality()] += c.count();
    }
    for (const v1::VisitCell& c : r.visits()) {
      csv.Row({period, status, "visits", c.nationality(),
               country_ko(c.nationality()), c.department(),
               department_ko(c.department()), v1::CareType_Name(c.care_type()),
               "", "", c.count()});
      if (counted) {
        visit_totals[{c.nationality(), c.department(), c.care_type()}] +=
            c.count();
      }
    }
    if (r.has_revenue_krw()) {
      csv.Row({period, status, "revenue_krw", "", "", "", "", "", "", "",
               r.revenue_krw()});
      if (counted) revenue_total += r.revenue_krw();
    }
  }
  const std::string year = absl::StrCat(request.year());
  for (const auto& [nationality, count] : new_totals) {
    csv.Row({year, "TOTAL", "new_patients", nationality,
             country_ko(nationality), "", "", "", "", "", count});
  }
  for (const auto& [key, count] : visit_totals) {
    const auto& [nationality, department, care_type] = key;
    csv.Row({year, "TOTAL", "visits", nationality, country_ko(nationality),
             department, department_ko(department),
             v1::CareType_Name(static_cast<v1::CareType>(care_type)), "", "",
             count});
  }
  if (revenue_total > 0) {
    csv.Row({year, "TOTAL", "revenue_krw", "", "", "", "", "", "", "",
             revenue_total});
  }
  v1::CsvFile file;
  file.set_filename(
      absl::StrCat("smz-annual-", *partner_id, "-", request.year(), ".csv"));
  file.set_content_type("text/csv; charset=utf-8");
  file.set_content(std::move(csv).Finish());
  return file;
}

}  // namespace smz::stats
