// A hospital's figures beside its zone's without giving another hospital
// away (StatsService.CompareWithZone).
//
// The hospital knows its own figures exactly, so whatever a zone figure
// shows beyond them is a figure of the other hospitals alone; the rules
// that keep analysts from isolating a hospital (QueryAggregate) do not
// hold once the reader can subtract its own part. Here every zone figure
// shown is safe as the others' figure:
// - month by month, the others' part of a cell is shown only when none or
//   at least `min_partners` of them contributed, and (for counts) when it
//   is 0 or at least `threshold`;
// - in each month, hidden cells take the smallest shown ones with them
//   until together they are that safe (complementary suppression), else
//   the month is withheld: its total is not shown either;
// - a quarter, a year or the range shows a cell only when every month of
//   it does, so no difference of two answers isolates a month;
// - one dimension at most, so no two groupings cut one figure two ways.
// Two hospitals pooling what they know still face at least
// `min_partners` - 1 others in every figure.
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
