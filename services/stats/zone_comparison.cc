#include "services/stats/zone_comparison.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/request_fields.h"
#include "services/stats/report_rules.h"

namespace smz::stats {
namespace {

// New patients, visits, revenue: the figures a cell has, in this order.
constexpr int kMeasures = 3;
constexpr int kRevenue = 2;

const GroupFigures& FiguresOf(const AggregateGroup& g, int measure) {
  switch (measure) {
    case 0:
      return g.new_patients;
    case 1:
      return g.visits;
    default:
      return g.revenue;
  }
}

// The cell of `g` along `dimension`, as a key ("" without a dimension).
std::string CellKey(const AggregateGroup& g, v1::Dimension dimension) {
  switch (dimension) {
    case v1::NATIONALITY:
      return g.nationality;
    case v1::DEPARTMENT:
      return g.department;
    case v1::CARE_TYPE:
      return absl::StrCat(g.care_type);
    case v1::SEX:
      return absl::StrCat(g.sex);
    case v1::AGE_BAND:
      return absl::StrCat(g.age_band);
    default:
      return "";
  }
}

// The other hospitals' part of one figure.
struct Part {
  int64_t value = 0;
  std::set<int64_t> partners;
};

// Adds without wrapping; false when the sum does not fit.
bool AddTo(int64_t* sum, int64_t value) {
  return !__builtin_add_overflow(*sum, value, sum);
}

// Whether the others' part may be shown alone: nobody's, or enough
// hospitals' and (for counts) none or enough of it.
bool Safe(const Part& part, bool revenue, const ComparisonSpec& spec) {
  if (part.partners.empty()) return true;
  if (part.partners.size() < static_cast<size_t>(spec.min_partners)) {
    return false;
  }
  return revenue || part.value == 0 || part.value >= spec.threshold;
}

using CellId = std::pair<int, std::string>;  // month YYYYMM, cell key
using Parts = std::array<Part, kMeasures>;

// Which of the others' month cells are hidden, and which months are
// withheld, measure by measure.
struct Hiding {
  std::map<CellId, std::array<bool, kMeasures>> cells;
  std::map<int, std::array<bool, kMeasures>> months;

  bool MonthWithheld(int month, int measure) const {
    auto it = months.find(month);
    return it != months.end() && it->second[measure];
  }
};

// Long by design: primary suppression, then the complement, per month and
// measure, in the order they must apply.
Hiding HideWhatIsUnsafe(const std::map<CellId, Parts>& others,
                        const std::array<bool, kMeasures>& applies,
                        const ComparisonSpec& spec) {
  std::map<int, std::vector<std::pair<const CellId*, const Parts*>>> by_month;
  for (const auto& [id, parts] : others) {
    by_month[id.first].push_back({&id, &parts});
  }
  Hiding hiding;
  for (const auto& [month, cells] : by_month) {
    for (int m = 0; m < kMeasures; ++m) {
      if (!applies[m]) continue;
      const bool revenue = m == kRevenue;
      Part total;
      for (const auto& [id, parts] : cells) {
        // A wrapped sum is never shown: the range's total overflows too.
        (void)AddTo(&total.value, (*parts)[m].value);
        total.partners.insert((*parts)[m].partners.begin(),
                              (*parts)[m].partners.end());
      }
      bool withheld = !Safe(total, revenue, spec);
      Part hidden;
      std::vector<std::pair<int64_t, const CellId*>> shown;
      for (const auto& [id, parts] : cells) {
        const Part& part = (*parts)[m];
        if (!Safe(part, revenue, spec)) {
          hiding.cells[*id][m] = true;
          (void)AddTo(&hidden.value, part.value);
          hidden.partners.insert(part.partners.begin(), part.partners.end());
        } else if (part.value > 0) {
          shown.push_back({part.value, id});
        }
      }
      // The month's total less the shown cells gives the hidden ones
      // together: they must be safe together, else more go, smallest first.
      if (!withheld && !hidden.partners.empty()) {
        std::sort(shown.begin(), shown.end(), [](const auto& a, const auto& b) {
          return std::tie(a.first, a.second->second) <
                 std::tie(b.first, b.second->second);
        });
        size_t next = 0;
        auto together_safe = [&] {
          return hidden.partners.size() >=
                     static_cast<size_t>(spec.min_partners) &&
                 (revenue || hidden.value >= spec.threshold);
        };
        while (!together_safe() && next < shown.size()) {
          const CellId& id = *shown[next++].second;
          const Part& part = others.at(id)[m];
          hiding.cells[id][m] = true;
          (void)AddTo(&hidden.value, part.value);
          hidden.partners.insert(part.partners.begin(), part.partners.end());
        }
        withheld = !together_safe();
      }
      if (withheld) hiding.months[month][m] = true;
    }
  }
  return hiding;
}

v1::Value Figure(bool applicable, bool hidden, int64_t value) {
  v1::Value figure;
  figure.set_applicable(applicable);
  if (!applicable) return figure;
  if (hidden) {
    figure.set_suppressed(true);
  } else {
    figure.set_value(value);
  }
  return figure;
}

void SetCell(const AggregateGroup& shape, v1::Dimension dimension,
             v1::AggregateRow* row) {
  switch (dimension) {
    case v1::NATIONALITY:
      row->set_nationality(shape.nationality);
      break;
    case v1::DEPARTMENT:
      row->set_department(shape.department);
      break;
    case v1::CARE_TYPE:
      row->set_care_type(static_cast<v1::CareType>(shape.care_type));
      break;
    case v1::SEX:
      row->set_sex(static_cast<v1::Sex>(shape.sex));
      break;
    case v1::AGE_BAND:
      row->set_age_band(static_cast<v1::AgeBand>(shape.age_band));
      break;
    default:
      break;
  }
}

// One figure of a row or total: the hospital's own, and the zone's (own
// plus the others') with whether it must be hidden.
struct Sum {
  int64_t own = 0;
  int64_t zone = 0;
  bool hidden = false;
  bool overflow = false;
};

}  // namespace

AggregateQuery ComparisonQuery(const ComparisonSpec& spec) {
  AggregateQuery query;
  query.start_period = spec.start_period;
  query.end_period = spec.end_period;
  query.bucket = v1::MONTH;
  if (spec.dimension != v1::DIMENSION_UNSPECIFIED) {
    query.group_by.push_back(spec.dimension);
  }
  query.group_by.push_back(v1::PARTNER);
  if (spec.applicable.new_patients) {
    query.measures.push_back(static_cast<int>(Measure::kNewPatients));
  }
  if (spec.applicable.visits) {
    query.measures.push_back(static_cast<int>(Measure::kVisits));
  }
  if (spec.applicable.revenue) {
    query.measures.push_back(static_cast<int>(Measure::kRevenueKrw));
  }
  return query;
}

// Long by design: the parts are split, hidden month by month, then added
// up into the buckets asked for.
absl::StatusOr<v1::ZoneComparison> CompareWithZone(
    const std::vector<AggregateGroup>& by_month_and_partner,
    const ComparisonSpec& spec) {
  const std::array<bool, kMeasures> applies = {spec.applicable.new_patients,
                                               spec.applicable.visits,
                                               spec.applicable.revenue};
  std::map<CellId, Parts> others;
  std::map<CellId, std::array<int64_t, kMeasures>> own;
  std::map<std::string, AggregateGroup> shapes;  // a group of each key
  bool overflow = false;
  for (const AggregateGroup& g : by_month_and_partner) {
    if (g.bucket < spec.start_period || g.bucket > spec.end_period) continue;
    const std::string key = CellKey(g, spec.dimension);
    shapes.emplace(key, g);
    const CellId id{g.bucket, key};
    for (int m = 0; m < kMeasures; ++m) {
      const GroupFigures& figures = FiguresOf(g, m);
      if (!applies[m] || !figures.present) continue;
      overflow |= figures.overflow;
      if (g.partner_id == spec.partner_id) {
        overflow |= !AddTo(&own[id][m], figures.value);
      } else {
        Part& part = others[id][m];
        overflow |= !AddTo(&part.value, figures.value);
        part.partners.insert(g.partner_id);
      }
    }
  }
  const Hiding hiding = HideWhatIsUnsafe(others, applies, spec);

  // Rows by bucket and key; each adds its months, and hides a figure when
  // any of its months hides it.
  std::map<std::pair<int, std::string>, std::array<Sum, kMeasures>> rows;
  std::array<Sum, kMeasures> total;
  std::set<std::pair<int, std::string>> own_rows;
  auto add = [&](const CellId& id, int m, int64_t own_value, const Part* part,
                 std::array<Sum, kMeasures>* sums) {
    Sum& sum = (*sums)[m];
    sum.overflow |= !AddTo(&sum.own, own_value);
    sum.overflow |= !AddTo(&sum.zone, own_value);
    if (part == nullptr || part->partners.empty()) return;
    sum.overflow |= !AddTo(&sum.zone, part->value);
    auto hidden = hiding.cells.find(id);
    sum.hidden |= hiding.MonthWithheld(id.first, m) ||
                  (hidden != hiding.cells.end() && hidden->second[m]);
  };
  std::set<CellId> ids;
  for (const auto& [id, values] : own) ids.insert(id);
  for (const auto& [id, parts] : others) ids.insert(id);
  for (const CellId& id : ids) {
    const std::pair<int, std::string> row{BucketOfPeriod(spec.bucket, id.first),
                                          id.second};
    auto own_it = own.find(id);
    auto others_it = others.find(id);
    if (own_it != own.end()) own_rows.insert(row);
    for (int m = 0; m < kMeasures; ++m) {
      if (!applies[m]) continue;
      const int64_t own_value = own_it == own.end() ? 0 : own_it->second[m];
      const Part* part =
          others_it == others.end() ? nullptr : &others_it->second[m];
      add(id, m, own_value, part, &rows[row]);
      Sum& sum = total[m];
      sum.overflow |= !AddTo(&sum.own, own_value);
      sum.overflow |= !AddTo(&sum.zone, own_value);
      if (part != nullptr) sum.overflow |= !AddTo(&sum.zone, part->value);
    }
  }
  // The range's total hides a figure when any month withholds it.
  std::set<int> withheld_months;
  for (const auto& [month, measures] : hiding.months) {
    for (int m = 0; m < kMeasures; ++m) {
      if (!measures[m]) continue;
      total[m].hidden = true;
      withheld_months.insert(month);
    }
  }
  for (const auto& [row, sums] : rows) {
    for (const Sum& sum : sums) overflow |= sum.overflow;
  }
  for (const Sum& sum : total) overflow |= sum.overflow;
  if (overflow) {
    return absl::OutOfRangeError(
        "the figures of this comparison add up beyond what can be counted; "
        "narrow the period");
  }

  v1::ZoneComparison comparison;
  v1::AggregateResponse* own_out = comparison.mutable_own();
  v1::AggregateResponse* zone_out = comparison.mutable_zone();
  zone_out->set_suppression_threshold(spec.threshold);
  zone_out->set_min_group_partners(spec.min_partners);
  for (int month : withheld_months) {
    zone_out->add_withheld_periods(FormatMonth(PeriodMonth(month)));
  }
  auto fill = [&](const std::array<Sum, kMeasures>& sums, bool zone,
                  v1::AggregateRow* row) {
    v1::Value* values[kMeasures] = {row->mutable_new_patients(),
                                    row->mutable_visits(),
                                    row->mutable_revenue_krw()};
    for (int m = 0; m < kMeasures; ++m) {
      *values[m] = Figure(applies[m], zone && sums[m].hidden,
                          zone ? sums[m].zone : sums[m].own);
    }
  };
  for (const auto& [key, sums] : rows) {
    for (const bool zone : {false, true}) {
      if (!zone && own_rows.count(key) == 0) continue;
      v1::AggregateRow* row = zone ? zone_out->add_rows() : own_out->add_rows();
      row->set_bucket(BucketLabel(spec.bucket, key.first, spec.start_period,
                                  spec.end_period));
      SetCell(shapes.at(key.second), spec.dimension, row);
      fill(sums, zone, row);
    }
  }
  for (const bool zone : {false, true}) {
    v1::AggregateRow* row =
        zone ? zone_out->mutable_total() : own_out->mutable_total();
    row->set_bucket(
        BucketLabel(v1::WHOLE_RANGE, 0, spec.start_period, spec.end_period));
    fill(total, zone, row);
  }
  return comparison;
}

}  // namespace smz::stats
