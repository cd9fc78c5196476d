#include "services/stats/stats_internal.h"

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

namespace smz::stats {

using ::google::protobuf::util::TimeUtil;

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
  if (requested < 0) return InvalidField("partner_id", "is not a partner id");
  if (caller.role() == auth::v1::PARTNER) {
    if (requested == 0) return caller.partner_id();
    SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, requested));
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

}  // namespace smz::stats
