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

// Adds without wrapping; false when the sum does not fit.
bool AddTo(int64_t* sum, int64_t value) {
  return !__builtin_add_overflow(*sum, value, sum);
}

// Every hospital's part of one figure (the asker's too): who gave how much.
struct Part {
  int64_t value = 0;
  std::map<int64_t, int64_t> by_partner;  // partners with more than 0

  void Add(const Part& other) {
    (void)AddTo(&value, other.value);  // a wrapped sum is refused later
    for (const auto& [partner, v] : other.by_partner) {
      (void)AddTo(&by_partner[partner], v);
    }
  }
  // Only `partner` gave to it (or nobody): its figure is the asker's own.
  bool OnlyFrom(int64_t partner) const {
    return by_partner.empty() ||
           (by_partner.size() == 1 && by_partner.begin()->first == partner);
  }
};

// Whether a figure may be shown to any hospital of the zone: whoever asks,
// or two hospitals pooling what they know, takes out at most the two
// largest parts, and what remains must still be at least `min_partners` - 1
// hospitals' and, for counts, at least `threshold`; for revenue at least
// `revenue_share_percent` of the largest part, so no one hospital's revenue
// is the figure give or take a little.
bool Safe(const Part& part, bool revenue, const ComparisonSpec& spec) {
  if (part.by_partner.empty()) return true;
  if (part.by_partner.size() < static_cast<size_t>(spec.min_partners) + 1) {
    return false;
  }
  std::vector<int64_t> values;
  for (const auto& [partner, v] : part.by_partner) values.push_back(v);
  std::sort(values.rbegin(), values.rend());
  const __int128 rest =
      static_cast<__int128>(part.value) - values[0] - values[1];
  if (revenue) {
    return rest * 100 >=
           static_cast<__int128>(values[0]) * spec.revenue_share_percent;
  }
  return rest >= spec.threshold;
}

using CellId = std::pair<int, std::string>;  // month YYYYMM, cell key
using Parts = std::array<Part, kMeasures>;

// Which month cells are hidden, and which months are withheld: one pattern
// for every hospital that asks, so that no two askers see different cells
// and subtract one answer from the other.
struct Hiding {
  std::set<CellId> counts;  // patients and visits, hidden together
  std::set<CellId> revenue;
  std::map<int, std::array<bool, kMeasures>> months;

  bool Hidden(const CellId& id, int measure) const {
    auto month = months.find(id.first);
    if (month != months.end() && month->second[measure]) return true;
    return (measure == kRevenue ? revenue : counts).count(id) > 0;
  }
  bool MonthWithheld(int month, int measure) const {
    auto it = months.find(month);
    return it != months.end() && it->second[measure];
  }
};

// Long by design: primary suppression, then the complement, per month, in
// the order they must apply. New patients and visits are hidden together:
// a hospital's new patients never exceed its visits, so a nationality whose
// new patients show but whose visits hide would name the cell hidden for
// cover.
Hiding HideWhatIsUnsafe(const std::map<CellId, Parts>& cells,
                        const std::array<bool, kMeasures>& applies,
                        const ComparisonSpec& spec) {
  std::map<int, std::vector<const CellId*>> by_month;
  for (const auto& [id, parts] : cells) by_month[id.first].push_back(&id);
  Hiding hiding;
  for (const auto& [month, ids] : by_month) {
    // Each measure group: counts (new patients, visits), then revenue.
    for (const std::vector<int>& group :
         {std::vector<int>{0, 1}, std::vector<int>{kRevenue}}) {
      std::vector<int> measures;
      for (int m : group) {
        if (applies[m]) measures.push_back(m);
      }
      if (measures.empty()) continue;
      std::set<CellId>& hidden_cells =
          group[0] == kRevenue ? hiding.revenue : hiding.counts;
      auto safe = [&](const Parts& parts) {
        for (int m : measures) {
          if (!Safe(parts[m], m == kRevenue, spec)) return false;
        }
        return true;
      };
      Parts total;
      std::vector<const CellId*> hidden;
      // Whether the hidden cells together may be derived (the month's
      // total less the shown cells): by anyone, and by each hospital, or
      // pair of them, whose cells alone are among them (shown to each)
      // less those.
      auto hidden_safe = [&] {
        for (int m : measures) {
          std::set<int64_t> alone = {0};  // 0: nobody's taken out
          for (const CellId* id : hidden) {
            const Part& part = cells.at(*id)[m];
            if (part.by_partner.size() == 1) {
              alone.insert(part.by_partner.begin()->first);
            }
          }
          for (int64_t first : alone) {
            for (int64_t second : alone) {
              if (second < first) continue;
              Part seen;
              for (const CellId* id : hidden) {
                const Part& part = cells.at(*id)[m];
                if ((first == 0 || !part.OnlyFrom(first)) &&
                    (second == 0 || !part.OnlyFrom(second))) {
                  seen.Add(part);
                }
              }
              if (!Safe(seen, m == kRevenue, spec)) return false;
            }
          }
        }
        return true;
      };
      std::vector<std::pair<std::pair<int64_t, int64_t>, const CellId*>> shown;
      for (const CellId* id : ids) {
        const Parts& parts = cells.at(*id);
        for (int m : measures) total[m].Add(parts[m]);
        if (!safe(parts)) {
          hidden_cells.insert(*id);
          hidden.push_back(id);
        } else {
          const int64_t first = parts[measures.back()].value;
          const int64_t second = parts[measures.front()].value;
          if (first > 0 || second > 0) shown.push_back({{first, second}, id});
        }
      }
      bool withheld = !safe(total);
      // The month's total less the shown cells gives the hidden ones
      // together: they must be safe together, else more go, smallest first.
      if (!withheld && !hidden.empty()) {
        std::sort(shown.begin(), shown.end(), [](const auto& a, const auto& b) {
          return std::tie(a.first, a.second->second) <
                 std::tie(b.first, b.second->second);
        });
        size_t next = 0;
        while (!hidden_safe() && next < shown.size()) {
          const CellId* id = shown[next++].second;
          hidden_cells.insert(*id);
          hidden.push_back(id);
        }
        withheld = !hidden_safe();
      }
      if (withheld) {
        for (int m : measures) hiding.months[month][m] = true;
      }
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
  std::map<CellId, Parts> cells;
  std::map<std::string, AggregateGroup> shapes;  // a group of each key
  bool overflow = false;
  for (const AggregateGroup& g : by_month_and_partner) {
    if (g.bucket < spec.start_period || g.bucket > spec.end_period) continue;
    const std::string key = CellKey(g, spec.dimension);
    shapes.emplace(key, g);
    Parts& parts = cells[{g.bucket, key}];
    for (int m = 0; m < kMeasures; ++m) {
      const GroupFigures& figures = FiguresOf(g, m);
      // A 0 gives nothing away and hides nobody: not a contributor.
      if (!applies[m] || !figures.present || figures.value <= 0) continue;
      overflow |= figures.overflow;
      overflow |= !AddTo(&parts[m].value, figures.value);
      overflow |= !AddTo(&parts[m].by_partner[g.partner_id], figures.value);
    }
  }
  const Hiding hiding = HideWhatIsUnsafe(cells, applies, spec);
  // Hidden for this hospital: what the pattern hides, unless the figure is
  // its own alone.
  auto hidden_here = [&](const CellId& id, const Part& part, int m) {
    return hiding.Hidden(id, m) && !part.OnlyFrom(spec.partner_id);
  };
  auto own_part = [&](const Part& part) {
    auto it = part.by_partner.find(spec.partner_id);
    return it == part.by_partner.end() ? int64_t{0} : it->second;
  };

  // Rows by bucket and key; each adds its months, and hides a figure when
  // any of its months hides it here.
  std::map<std::pair<int, std::string>, std::array<Sum, kMeasures>> rows;
  std::array<Sum, kMeasures> total;
  std::map<int, Parts> months;  // the zone's month totals
  std::set<std::pair<int, std::string>> own_rows;
  for (const auto& [id, parts] : cells) {
    const std::pair<int, std::string> row{BucketOfPeriod(spec.bucket, id.first),
                                          id.second};
    std::array<Sum, kMeasures>& sums = rows[row];
    for (int m = 0; m < kMeasures; ++m) {
      if (!applies[m]) continue;
      const Part& part = parts[m];
      const int64_t own = own_part(part);
      if (own > 0) own_rows.insert(row);
      for (Sum* sum : {&sums[m], &total[m]}) {
        sum->overflow |= !AddTo(&sum->own, own);
        sum->overflow |= !AddTo(&sum->zone, part.value);
      }
      sums[m].hidden |= hidden_here(id, part, m);
      months[id.first][m].Add(part);
    }
  }
  // The range's total hides a figure when any month withholds it here.
  std::set<int> withheld_months;
  for (const auto& [month, parts] : months) {
    for (int m = 0; m < kMeasures; ++m) {
      if (!applies[m] || !hiding.MonthWithheld(month, m) ||
          parts[m].OnlyFrom(spec.partner_id)) {
        continue;
      }
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
