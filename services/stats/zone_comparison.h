// A hospital's figures beside its zone's without giving another hospital
// away (StatsService.CompareWithZone).
//
// A hospital knows its own figures exactly, so whatever a zone figure shows
// beyond them is the other hospitals' figure, and two hospitals may pool
// what they know. The rules that keep analysts from isolating a hospital
// (QueryAggregate) do not hold once the reader can subtract its own part;
// here every zone figure shown survives taking out its two largest parts:
// - month by month, a cell is shown only when nobody, or at least
//   `min_partners` + 1 hospitals gave to it, and what remains without its
//   two largest parts is at least `threshold` (counts) or at least
//   `revenue_share_percent` of the largest part (revenue);
// - in each month, hidden cells take the smallest shown ones with them
//   until together they pass the same test (complementary suppression),
//   else the month is withheld: its total is not shown either; new
//   patients and visits are hidden together (a hospital's new patients
//   never exceed its visits, which would name the cell hidden for cover);
// - one pattern for every hospital, whoever asks (two hospitals seeing
//   different cells hidden could subtract one answer from the other); a
//   figure that is the asker's alone is shown to it;
// - a quarter, a year or the range shows a cell only when every month of
//   it does, so no difference of two answers isolates a month;
// - one dimension at most, so no two groupings cut one figure two ways.
// Stats::CompareWithZone compares only months closed for reports, so that
// two answers a month apart do not differ by one hospital's new report.
//
//   const ComparisonSpec spec = ...;
//   SMZ_ASSIGN_OR_RETURN(AggregateResult cells,
//                        store->Aggregate(ComparisonQuery(spec)));
//   SMZ_ASSIGN_OR_RETURN(v1::ZoneComparison answer,
//                        CompareWithZone(cells.groups, spec));
#ifndef SMZ_SERVICES_STATS_ZONE_COMPARISON_H_
#define SMZ_SERVICES_STATS_ZONE_COMPARISON_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "services/stats/stats_internal.h"
#include "services/stats/stats_store.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::stats {

struct ComparisonSpec {
  int64_t partner_id = 0;  // the hospital
  int start_period = 0;    // YYYYMM, inclusive
  int end_period = 0;
  v1::Bucket bucket = v1::MONTH;
  // NATIONALITY, DEPARTMENT, CARE_TYPE, SEX, AGE_BAND, or unspecified.
  v1::Dimension dimension = v1::DIMENSION_UNSPECIFIED;
  Applicability applicable;
  int min_partners = 3;
  int threshold = 5;
  int revenue_share_percent = 10;
};

// The store read the comparison works from: each month of the range by
// the dimension and by partner.
AggregateQuery ComparisonQuery(const ComparisonSpec& spec);

// `by_month_and_partner`: ComparisonQuery's answer. OUT_OF_RANGE when a sum
// goes beyond what can be counted.
absl::StatusOr<v1::ZoneComparison> CompareWithZone(
    const std::vector<AggregateGroup>& by_month_and_partner,
    const ComparisonSpec& spec);

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_ZONE_COMPARISON_H_
