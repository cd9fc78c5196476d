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
#include "common/xlsx_writer.h"
#include "google/protobuf/util/time_util.h"
#include "services/stats/disclosure.h"
#include "services/stats/report_rules.h"
#include "services/stats/stats.h"
#include "services/stats/stats_internal.h"
#include "services/stats/zone_comparison.h"

// Aggregates for analysts and the council (the query, its disclosure rules,
// its CSV and XLSX), and a hospital's comparison with its zone.
namespace smz::stats {

using ::google::protobuf::util::TimeUtil;

// Long by design: the disclosure rules (pooling, withheld months) applied to
// one store read, in the order they must apply.
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
  SMZ_ASSIGN_OR_RETURN(AggregateResult result, store_->Aggregate(fine));
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
  out.source = result.source;
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
  for (const AggregateGroup& g : result.groups) {
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

// Every bad field of an aggregate request; its period range in `start` and
// `end` (YYYYMM) when those are good.
// Long by design: one check per field, in field order, so that every bad field
// is named at once.
void ValidateAggregateRequest(const v1::AggregateRequest& request,
                              int* start_out, int* end_out,
                              FieldViolations* violations_out) {
  FieldViolations& violations = *violations_out;
  const int start = *start_out =
      RequiredPeriod(request.start_period(), "start_period", &violations);
  const int end = *end_out =
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
}

// The store query of a valid request: its range, bucket, dimensions, filter
// and the measures that apply to it.
AggregateQuery QueryOf(const v1::AggregateRequest& request, int start, int end,
                       const Applicability& applicable) {
  AggregateQuery query;
  query.start_period = start;
  query.end_period = end;
  query.bucket =
      request.bucket() == v1::BUCKET_UNSPECIFIED ? v1::MONTH : request.bucket();
  for (int d : request.group_by()) {
    query.group_by.push_back(static_cast<v1::Dimension>(d));
  }
  query.filter = request.filter();
  if (applicable.new_patients) {
    query.measures.push_back(static_cast<int>(Measure::kNewPatients));
  }
  if (applicable.visits) {
    query.measures.push_back(static_cast<int>(Measure::kVisits));
  }
  if (applicable.revenue) {
    query.measures.push_back(static_cast<int>(Measure::kRevenueKrw));
  }
  return query;
}

// Buckets ascending; within a bucket by the metric (desc) when ranking,
// else by the dimension values.
void SortGroups(const v1::AggregateRequest& request,
                std::vector<AggregateGroup>* groups_out) {
  std::vector<AggregateGroup>& groups = *groups_out;
  const v1::Metric metric = request.order_by();
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
}

// Complementary suppression within each bucket, so that no suppressed cell
// can be recovered from its bucket's total.
void SuppressComplementsByBucket(v1::AggregateResponse* response) {
  std::map<std::string, std::vector<v1::AggregateRow*>> by_bucket;
  for (v1::AggregateRow& row : *response->mutable_rows()) {
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

// A group's dimension values and figures as a response row.
void FillRow(const AggregateGroup& g, const AggregateQuery& query, int start,
             int end, const std::map<int64_t, std::string>& names,
             const Applicability& applicable, const ValueContext& context,
             v1::AggregateRow* row) {
  row->set_bucket(BucketLabel(query.bucket, g.bucket, start, end));
  row->set_nationality(g.nationality);
  row->set_department(g.department);
  row->set_care_type(static_cast<v1::CareType>(g.care_type));
  row->set_partner_id(g.partner_id);
  row->set_partner_kind(static_cast<registry::v1::PartnerKind>(g.partner_kind));
  row->set_region(static_cast<registry::v1::ZoneRegion>(g.region));
  row->set_sex(static_cast<v1::Sex>(g.sex));
  row->set_age_band(static_cast<v1::AgeBand>(g.age_band));
  row->set_pooled(g.pooled);
  if (g.partner_id != 0) {
    auto name = names.find(g.partner_id);
    if (name != names.end()) row->set_partner_name(name->second);
  }
  *row->mutable_new_patients() =
      MakeValue(g.new_patients, applicable.new_patients, false, context);
  *row->mutable_visits() =
      MakeValue(g.visits, applicable.visits, false, context);
  *row->mutable_revenue_krw() =
      MakeValue(g.revenue, applicable.revenue, true, context);
}

// The whole range's row: every group added (shown or not), and last year's
// beside it when asked.
void FillTotalRow(const AggregateGroup& total,
                  const AggregateGroup& previous_total, bool year_over_year,
                  int start, int end, const Applicability& applicable,
                  const ValueContext& context, v1::AggregateRow* total_row) {
  total_row->set_bucket(BucketLabel(v1::WHOLE_RANGE, 0, start, end));
  *total_row->mutable_new_patients() =
      MakeValue(total.new_patients, applicable.new_patients, false, context);
  *total_row->mutable_visits() =
      MakeValue(total.visits, applicable.visits, false, context);
  *total_row->mutable_revenue_krw() =
      MakeValue(total.revenue, applicable.revenue, true, context);
  if (year_over_year) {
    AddPrevious(previous_total.new_patients, false, context,
                total_row->mutable_new_patients());
    AddPrevious(previous_total.visits, false, context,
                total_row->mutable_visits());
    AddPrevious(previous_total.revenue, true, context,
                total_row->mutable_revenue_krw());
  }
}

// The sum of every group's figures (overflow carried).
AggregateGroup TotalOf(const std::vector<AggregateGroup>& groups) {
  AggregateGroup total;
  for (const AggregateGroup& g : groups) {
    total.new_patients.Add(g.new_patients);
    total.visits.Add(g.visits);
    total.revenue.Add(g.revenue);
  }
  return total;
}

// From AggregateCache while the rollups' stamp allows; computed otherwise.
absl::StatusOr<v1::AggregateResponse> Stats::QueryAggregate(
    const Principal& caller, const v1::AggregateRequest& request) {
  if (!MayAnswerFromMemory(request)) return ComputeAggregate(caller, request);
  // The stamp first: the answer computed next is as new as it, or newer.
  absl::StatusOr<std::string> stamp = store_->rollups_fence().Current();
  if (!stamp.ok() || stamp->empty()) return ComputeAggregate(caller, request);
  const std::string key = AggregateCache::KeyOf(caller, request);
  if (std::optional<v1::AggregateResponse> kept =
          aggregate_cache_.Find(key, *stamp)) {
    return *std::move(kept);
  }
  absl::StatusOr<v1::AggregateResponse> answer =
      ComputeAggregate(caller, request);
  if (!answer.ok()) return answer;
  // Computing reads the rollups and the reporting counts in more than one
  // statement: only an answer no submission committed during is all of one
  // state, the stamp's, and may be kept. Asked of the database, not of a
  // lease: a submission that committed meanwhile may still be waiting one
  // out.
  absl::StatusOr<std::string> after =
      store_->rollups_fence().CurrentFromQuery();
  if (after.ok() && *after == *stamp) {
    aggregate_cache_.Insert(key, *stamp, *answer);
  }
  return answer;
}

bool Stats::MayAnswerFromMemory(const v1::AggregateRequest& request) const {
  return !store_->ReadsAggregatesFromReplica() &&
         AggregateCache::Cacheable(request);
}

std::optional<v1::AggregateResponse> Stats::QueryAggregateFromMemory(
    const Principal& caller, const v1::AggregateRequest& request,
    const std::string& stamp) const {
  if (!MayAnswerFromMemory(request)) return std::nullopt;
  return aggregate_cache_.Find(AggregateCache::KeyOf(caller, request), stamp);
}

// Long by design: the steps are named functions; what remains is their order
// and the year-over-year join.
absl::StatusOr<v1::AggregateResponse> Stats::ComputeAggregate(
    const Principal& caller, const v1::AggregateRequest& request) {
  FieldViolations violations;
  int start = 0;
  int end = 0;
  ValidateAggregateRequest(request, &start, &end, &violations);
  if (!violations.empty()) return violations.ToStatus();
  if (Restricted(caller) && (request.filter().partner_ids_size() > 0 ||
                             Has(request.group_by(), v1::PARTNER))) {
    // Three sums over chosen pairs of hospitals give each one's figures:
    // only ADMIN (and each hospital, for itself) sees single hospitals.
    return absl::PermissionDeniedError(absl::StrCat(
        request.filter().partner_ids_size() > 0 ? "filter.partner_ids"
                                                : "group_by PARTNER",
        ": role ", auth::v1::Role_Name(caller.role()),
        " sees hospitals in groups only (by partner kind and region)"));
  }

  const Applicability applicable = ApplicabilityOf(request);
  const AggregateQuery query = QueryOf(request, start, end, applicable);
  SMZ_ASSIGN_OR_RETURN(AggregateResult current, AggregateFor(caller, query));

  std::map<std::string, const AggregateGroup*> previous_index;
  AggregateResult previous;
  if (request.year_over_year()) {
    AggregateQuery earlier = query;
    earlier.start_period = start - 100;
    earlier.end_period = end - 100;
    SMZ_ASSIGN_OR_RETURN(previous, AggregateFor(caller, earlier));
    for (const AggregateGroup& g : previous.groups) {
      previous_index[absl::StrCat(g.bucket, "#", DimsKey(g))] = &g;
    }
  }

  std::map<int64_t, std::string> names;
  if (Has(request.group_by(), v1::PARTNER)) {
    SMZ_ASSIGN_OR_RETURN(std::vector<PartnerFacts> known,
                         store_->KnownPartners());
    for (const PartnerFacts& p : known) names[p.id] = p.name_ko;
  }

  std::vector<AggregateGroup>& groups = current.groups;
  SortGroups(request, &groups);

  const ValueContext context{Restricted(caller),
                             options_.suppression_threshold};
  v1::AggregateResponse response;
  response.set_suppression_threshold(options_.suppression_threshold);
  response.set_source(current.source);
  if (context.restricted) {
    response.set_min_group_partners(options_.min_group_partners);
    for (const std::set<int>* withheld :
         {&current.withheld_periods, &previous.withheld_periods}) {
      for (int period : *withheld) {
        response.add_withheld_periods(FormatMonth(PeriodMonth(period)));
      }
    }
  }
  const AggregateGroup total = TotalOf(groups);
  const AggregateGroup previous_total = TotalOf(previous.groups);
  std::map<int, int> kept_per_bucket;
  for (const AggregateGroup& g : groups) {
    if (request.top_n() > 0 && ++kept_per_bucket[g.bucket] > request.top_n()) {
      continue;
    }
    v1::AggregateRow* row = response.add_rows();
    FillRow(g, query, start, end, names, applicable, context, row);
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
  if (context.restricted) SuppressComplementsByBucket(&response);
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
  FillTotalRow(total, previous_total, request.year_over_year(), start, end,
               applicable, context, response.mutable_total());
  return response;
}

// Long by design: every field checked, then the scope, then the comparison
// (zone_comparison.h says why a hospital is not shown what analysts are).
absl::StatusOr<v1::ZoneComparison> Stats::CompareWithZone(
    const Principal& caller, const v1::CompareWithZoneRequest& request) {
  // Another hospital's comparison is refused before its fields are read.
  if (request.partner_id() > 0) {
    SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, request.partner_id()));
  }
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  if (request.group_by_size() > 1) {
    // Two groupings of one figure would give away what each hides.
    violations.Add("group_by", "at most one dimension");
  }
  for (int i = 0; i < request.group_by_size(); ++i) {
    const int d = request.group_by(i);
    if (d == v1::PARTNER || d == v1::PARTNER_KIND || d == v1::REGION) {
      violations.Add(absl::StrCat("group_by[", i, "]"),
                     "compares with the zone, not with other hospitals: "
                     "NATIONALITY, DEPARTMENT, CARE_TYPE, SEX or AGE_BAND");
    }
  }
  v1::AggregateRequest as_aggregate;
  as_aggregate.set_start_period(request.start_period());
  as_aggregate.set_end_period(request.end_period());
  as_aggregate.set_bucket(request.bucket());
  *as_aggregate.mutable_group_by() = request.group_by();
  int start = 0;
  int end = 0;
  ValidateAggregateRequest(as_aggregate, &start, &end, &violations);
  // Each month is read by partner and checked on its own: a hospital's page
  // compares years, not decades, and must not cost the service a decade.
  if (start > 0 && end >= start &&
      (end / 100 - start / 100) * 12 + end % 100 - start % 100 + 1 >
          kMaxComparisonMonths) {
    violations.Add("end_period", absl::StrCat("range must be at most ",
                                              kMaxComparisonMonths, " months"));
  }
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(partners_->Get(request.partner_id()).status());
  // Only months closed for reports: while a month is open, two answers a
  // day apart would differ by exactly one hospital's new report.
  absl::CivilMonth last_closed(TodayInSeoul(*clock_));
  while (PeriodDeadline(last_closed, store_->options().deadline_days) >
         clock_->Now()) {
    --last_closed;
  }
  if (start > PeriodNumber(last_closed)) {
    violations.Add("start_period",
                   absl::StrCat("no month of the range is closed for reports "
                                "yet; the latest closed is ",
                                FormatMonth(last_closed)));
    return violations.ToStatus();
  }

  ComparisonSpec spec;
  spec.partner_id = request.partner_id();
  spec.start_period = start;
  spec.end_period = std::min(end, PeriodNumber(last_closed));
  spec.bucket =
      request.bucket() == v1::BUCKET_UNSPECIFIED ? v1::MONTH : request.bucket();
  if (request.group_by_size() == 1) {
    spec.dimension = static_cast<v1::Dimension>(request.group_by(0));
  }
  spec.applicable = ApplicabilityOf(as_aggregate);
  spec.min_partners = options_.min_group_partners;
  spec.threshold = options_.suppression_threshold;
  SMZ_ASSIGN_OR_RETURN(AggregateResult cells,
                       store_->Aggregate(ComparisonQuery(spec)));
  SMZ_ASSIGN_OR_RETURN(v1::ZoneComparison comparison,
                       smz::stats::CompareWithZone(cells.groups, spec));
  comparison.set_compared_until(FormatMonth(PeriodMonth(spec.end_period)));
  return comparison;
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

// Long by design: the export's columns, from the response, in order; the
// same table is written as CSV or XLSX.
std::vector<std::vector<CsvCell>> AggregateTable(
    const v1::AggregateRequest& request,
    const v1::AggregateResponse& aggregate) {
  const int threshold = aggregate.suppression_threshold();
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
  std::vector<std::vector<CsvCell>> table;
  table.push_back(std::move(header));
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
    table.push_back(std::move(fields));
  };
  for (const v1::AggregateRow& row : aggregate.rows()) append_row(row, false);
  append_row(aggregate.total(), true);
  return table;
}

}  // namespace

absl::StatusOr<v1::CsvFile> Stats::ExportAggregateCsv(
    const Principal& caller, const v1::AggregateRequest& request) {
  SMZ_ASSIGN_OR_RETURN(v1::AggregateResponse aggregate,
                       QueryAggregate(caller, request));
  CsvWriter csv;
  for (const auto& row : AggregateTable(request, aggregate)) csv.Row(row);
  v1::CsvFile file;
  file.set_filename(absl::StrCat("smz-aggregate-", request.start_period(), "-",
                                 request.end_period(), ".csv"));
  file.set_content_type("text/csv; charset=utf-8");
  file.set_content(std::move(csv).Finish());
  return file;
}

absl::StatusOr<v1::CsvFile> Stats::ExportAggregateXlsx(
    const Principal& caller, const v1::AggregateRequest& request) {
  SMZ_ASSIGN_OR_RETURN(v1::AggregateResponse aggregate,
                       QueryAggregate(caller, request));
  // Refused before any workbook is built: a sheet this size is more than a
  // reader opens, and the file more than an answer should carry.
  if (aggregate.rows_size() > kMaxXlsxExportRows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the aggregate has ", aggregate.rows_size(),
        " rows; a workbook here holds at most ", kMaxXlsxExportRows,
        ": narrow the range or the grouping, or take the CSV"));
  }
  // The rows, the header and the total.
  XlsxWriter xlsx("aggregate", kMaxXlsxExportRows + 2);
  for (const auto& row : AggregateTable(request, aggregate)) xlsx.Row(row);
  SMZ_ASSIGN_OR_RETURN(std::string bytes, std::move(xlsx).Finish());
  v1::CsvFile file;
  file.set_filename(absl::StrCat("smz-aggregate-", request.start_period(), "-",
                                 request.end_period(), ".xlsx"));
  file.set_content_type(
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  file.set_content(std::move(bytes));
  return file;
}

}  // namespace smz::stats
