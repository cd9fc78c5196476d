// What the parts of Stats (stats.cc, stats_aggregates.cc, stats_council.cc)
// share: periods and buckets as requests name them, the partner facts a
// report is filed under, and the page position of a list. Internal to the
// service's logic.
//
//   FieldViolations violations;
//   const int period = RequiredPeriod(request.period(), "period", &violations);
#ifndef SMZ_SERVICES_STATS_STATS_INTERNAL_H_
#define SMZ_SERVICES_STATS_STATS_INTERNAL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/auth/authenticator.h"
#include "common/pagination.h"
#include "common/status_util.h"
#include "services/stats/stats.h"
#include "services/stats/stats_store.h"
#include "smz/registry/v1/registry.pb.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::stats {

using registry::v1::Partner;

// Longest range an aggregate may span (20 years of months).
inline constexpr int kMaxRangeMonths = 240;
// Longest range a hospital compares with its zone (CompareWithZone).
inline constexpr int kMaxComparisonMonths = 36;
inline constexpr size_t kMaxListedImportErrors = 1000;

std::optional<absl::CivilMonth> DesignatedSince(const Partner& partner);

std::string NameOf(const Partner& partner);

PartnerFacts FactsOf(const Partner& partner);

// A PARTNER reads and writes only its own partner_id; 0 means "mine"
// (others: any partner). A negative id is INVALID_ARGUMENT.
absl::StatusOr<int64_t> ScopedPartner(const Principal& caller,
                                      int64_t requested);

// Parses an optional YYYY-MM range bound into a YYYYMM number (0: none).
int OptionalPeriod(absl::string_view text, absl::string_view field,
                   FieldViolations* violations);

int RequiredPeriod(absl::string_view text, absl::string_view field,
                   FieldViolations* violations);

std::string BucketLabel(v1::Bucket bucket, int value, int start, int end);

// The same bucket one year earlier.
int PreviousYearBucket(v1::Bucket bucket, int value);

std::string DimsKey(const AggregateGroup& g);

// The bucket number of a month for `bucket`: as the store's SQL numbers
// them (StatsStore::Aggregate), which this must match.
int BucketOfPeriod(v1::Bucket bucket, int period);

bool FiltersOrGroupsByBlock(const AggregateQuery& query);

bool Has(const google::protobuf::RepeatedField<int>& dims, v1::Dimension d);

struct Applicability {
  bool new_patients = true;
  bool visits = true;
  bool revenue = true;
};

// Unique patients are not attributable to a department or care type, visits
// are not broken down by sex or age, and revenue is reported per partner
// only; a figure is shown only where the grouping and filters allow it.
Applicability ApplicabilityOf(const v1::AggregateRequest& request);

struct ValueContext {
  bool restricted = false;
  int threshold = 5;
};

v1::Value MakeValue(const GroupFigures& figures, bool applicable, bool revenue,
                    const ValueContext& context);

void AddPrevious(const GroupFigures& previous, bool revenue,
                 const ValueContext& context, v1::Value* value);

// Secondary suppression: when exactly one figure among `values` is
// suppressed, the total minus the others would reveal it, so the smallest
// other non-zero figure is suppressed too.
void SuppressComplement(const std::vector<v1::Value*>& values);

int64_t MetricOf(const AggregateGroup& g, v1::Metric metric);

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_STATS_INTERNAL_H_
