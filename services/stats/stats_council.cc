#include <algorithm>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
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
#include "services/stats/stats.h"
#include "services/stats/stats_internal.h"

// What the council and the district read: who reported, the KPI year to
// date, and the annual report.
namespace smz::stats {

using ::google::protobuf::util::TimeUtil;

// Long by design: who reported, who is late and who is missing, from one
// snapshot of partners and reports.
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
    SMZ_ASSIGN_OR_RETURN(std::vector<Partner> active,
                         partners_->ListActive(kind));
    for (const Partner& listed : active) {
      // The designation history is on the partner's own record (cached).
      SMZ_ASSIGN_OR_RETURN(const Partner p, partners_->Get(listed.id()));
      expected[p.id()] = {NameOf(p), DesignatedSince(p)};
    }
  }
  SMZ_ASSIGN_OR_RETURN(std::vector<ReportingRow> reports,
                       store_->ListReporting(start, end));
  absl::StatusOr<std::vector<PartnerFacts>> known = store_->KnownPartners();
  if (!known.ok()) return known.status();
  std::map<int64_t, std::string> names;
  for (const PartnerFacts& p : *known) names[p.id] = p.name_ko;
  std::map<std::pair<int, int64_t>, const ReportingRow*> by_key;
  for (const ReportingRow& r : reports) by_key[{r.period, r.partner_id}] = &r;

  v1::CompletenessResponse response;
  const int deadline_days = store_->options().deadline_days;
  for (absl::CivilMonth month = PeriodMonth(start); PeriodNumber(month) <= end;
       ++month) {
    const int period = PeriodNumber(month);
    std::set<int64_t> partner_ids;
    for (const auto& [id, info] : expected) {
      if (!info.second || *info.second <= month) partner_ids.insert(id);
    }
    for (const ReportingRow& r : reports) {
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

// Long by design: the year's months and its year to date under the same
// disclosure rules, from one read.
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
  SMZ_ASSIGN_OR_RETURN(AggregateResult figures, AggregateFor(caller, query));
  absl::StatusOr<std::map<int, int>> counted_reports =
      store_->CountCountedReports(query.start_period, query.end_period);
  if (!counted_reports.ok()) return counted_reports.status();
  std::map<int, GroupFigures> by_month;
  for (const AggregateGroup& g : figures.groups) {
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
    if (figures.withheld_periods.count(PeriodNumber(*ParseMonth(m.period()))) >
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

// Long by design: the report's CSV, section by section.
absl::StatusOr<v1::CsvFile> Stats::ExportAnnualReport(
    const Principal& caller, const v1::ExportAnnualReportRequest& request) {
  SMZ_ASSIGN_OR_RETURN(int64_t partner_id,
                       ScopedPartner(caller, request.partner_id()));
  FieldViolations violations;
  if (partner_id <= 0) violations.Add("partner_id", "is required");
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  if (!violations.empty()) return violations.ToStatus();
  absl::StatusOr<Partner> partner = partners_->Get(partner_id);
  if (!partner.ok()) return partner.status();
  absl::StatusOr<std::vector<Report>> reports =
      store_->PartnerYear(partner_id, request.year());
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
  csv.Comment(absl::StrCat(NameOf(*partner), " (partner ", partner_id,
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
      absl::StrCat("smz-annual-", partner_id, "-", request.year(), ".csv"));
  file.set_content_type("text/csv; charset=utf-8");
  file.set_content(std::move(csv).Finish());
  return file;
}

}  // namespace smz::stats
