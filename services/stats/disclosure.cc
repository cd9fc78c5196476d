#include "services/stats/disclosure.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace smz::stats {

std::set<GroupMonth> PooledGroups(const std::map<GroupMonth, int>& reporters,
                                  int min_partners) {
  // Per month: (reporting hospitals, (kind, region)), smallest first.
  std::map<int, std::vector<std::pair<int, std::pair<int, int>>>> by_month;
  for (const auto& [key, count] : reporters) {
    const auto& [period, kind, region] = key;
    by_month[period].push_back({count, {kind, region}});
  }
  std::set<GroupMonth> pooled;
  for (auto& [period, groups] : by_month) {
    std::sort(groups.begin(), groups.end());
    int in_pool = 0;
    for (const auto& [count, group] : groups) {
      // The small groups, then the smallest others while the pool is small.
      if (count >= min_partners && (in_pool == 0 || in_pool >= min_partners)) {
        break;
      }
      pooled.insert({period, group.first, group.second});
      in_pool += count;
    }
  }
  return pooled;
}

std::set<int> WithheldMonths(const std::map<GroupMonth, int>& reporters,
                             int min_partners) {
  std::map<int, int> by_month;
  for (const auto& [key, count] : reporters)
    by_month[std::get<0>(key)] += count;
  std::set<int> withheld;
  for (const auto& [period, count] : by_month) {
    if (count < min_partners) withheld.insert(period);
  }
  return withheld;
}

}  // namespace smz::stats
