// Which kind x region groups of hospitals restricted readers (every role but
// ADMIN) may see on their own, month by month, so that no combination of
// their queries isolates fewer than `min_partners` hospitals.
//
// A group of a month with fewer than `min_partners` hospitals reporting
// activity is pooled; if the pool itself then has fewer, the smallest other
// groups join it until it has enough (complementary suppression); a month
// whose hospitals are too few even all together is withheld. Shown groups
// and the pool each hold at least `min_partners` hospitals, and every figure
// a restricted reader gets (the zone, a kind, a region, a range of months,
// their differences) is a sum of whole shown groups and pools of months.
// The counts are per measure: hospitals reporting activity for patients
// and visits, hospitals reporting revenue for revenue.
//
//   absl::StatusOr<GroupReporters> reporters =
//       store.ReportersByGroup(from, to);
//   std::set<GroupMonth> pooled = PooledGroups(reporters->active, 3);
//   if (pooled.count({202010, kind, region})) ...  // shown in the pool only
//   std::set<int> withheld = WithheldMonths(reporters->active, 3);
#ifndef SMZ_SERVICES_STATS_DISCLOSURE_H_
#define SMZ_SERVICES_STATS_DISCLOSURE_H_

#include <map>
#include <set>
#include <tuple>

namespace smz::stats {

// (period YYYYMM, partner kind, region).
using GroupMonth = std::tuple<int, int, int>;

// `reporters`: hospitals with a counted report with activity, per group and
// month (groups without any are absent).
std::set<GroupMonth> PooledGroups(const std::map<GroupMonth, int>& reporters,
                                  int min_partners);

// The months (YYYYMM) in which the zone as a whole has fewer than
// `min_partners` hospitals: there even the pool is too small, so those
// months are withheld from restricted readers altogether (totals included,
// or the total minus the other months would give them away).
std::set<int> WithheldMonths(const std::map<GroupMonth, int>& reporters,
                             int min_partners);

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_DISCLOSURE_H_
