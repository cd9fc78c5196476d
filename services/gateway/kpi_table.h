// The pledge-indicator achievement table (공약달성 확인지표) from the
// programme's indicators and the live figures the gateway read, apart from
// any transport.
//
//   LiveFigures live;
//   live.values[indicator.id()][2020] = 19237;          // from stats
//   live.unavailable[other.id()] = "stats: UNAVAILABLE";  // source down
//   gateway::v1::KpiTable table =
//       BuildKpiTable(programme, projects, indicators, live, /*as_of=*/day);
//
// Per year: the plan; the result (live when the source answered, else the
// hand-entered figure, else the figure an earlier report recorded); the
// achievement against the plan, capped at 100% as the council prints it and
// uncapped. Over the period: counts (TIMES) add up, levels (PERSONS,
// PERCENT) take the highest yearly result; against the total target.
#ifndef SMZ_SERVICES_GATEWAY_KPI_TABLE_H_
#define SMZ_SERVICES_GATEWAY_KPI_TABLE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "smz/gateway/v1/gateway.pb.h"
#include "smz/programme/v1/programme.pb.h"

namespace smz::gateway {

namespace v1 = ::smz::gateway::v1;
namespace pv1 = ::smz::programme::v1;

struct LiveFigures {
  // indicator id -> year -> value, for live-bound indicators whose source
  // answered.
  std::map<int64_t, std::map<int32_t, int64_t>> values;
  // indicator id -> why its source could not be read.
  std::map<int64_t, std::string> unavailable;
};

// The years an indicator covers: its own range, else the programme's.
std::pair<int32_t, int32_t> IndicatorYears(const pv1::Indicator& indicator,
                                           const pv1::Project& programme);

v1::KpiTable BuildKpiTable(const pv1::Project& programme,
                           const std::vector<pv1::Project>& projects,
                           const std::vector<pv1::Indicator>& indicators,
                           const LiveFigures& live, absl::CivilDay as_of);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_KPI_TABLE_H_
