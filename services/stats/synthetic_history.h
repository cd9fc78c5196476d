// synthetic_history: a national-scale reporting history for the benchmarks
// (stats_benchmark, gateway_benchmark). Partners are created through the
// registry's API, as an administrator would; their monthly reports are then
// written straight into the stats tables, far faster than submitting 180,000
// reports one by one, and the caller builds the rollups from them.
//
//   absl::StatusOr<std::vector<SyntheticPartner>> partners =
//       CreateSyntheticPartners(*registry_stub, admin_token, 3000);
//   absl::StatusOr<int64_t> cells = LoadSyntheticHistory(
//       bulk_database, *partners, absl::CivilMonth(2025, 12), 60, 8);
//   stats_server->store().RebuildRollups();
#ifndef SMZ_SERVICES_STATS_SYNTHETIC_HISTORY_H_
#define SMZ_SERVICES_STATS_SYNTHETIC_HISTORY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/mysql/database.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::stats {

struct SyntheticPartner {
  int64_t id = 0;
  registry::v1::PartnerKind kind = registry::v1::PARTNER_KIND_UNSPECIFIED;
  registry::v1::ZoneRegion region = registry::v1::ZONE_REGION_UNSPECIFIED;
};

// Creates and designates `count` hospitals (every fourth a specialized
// operator, the rest cooperating institutions; regions in turn), `threads`
// at a time, with request ids "bench-<i>" so a rerun creates nothing.
absl::StatusOr<std::vector<SyntheticPartner>> CreateSyntheticPartners(
    registry::v1::RegistryService::Stub& registry,
    const std::string& admin_token, int count, int threads = 8);

// A partner's report for one month (period = yyyymm): `nationalities`
// new-patient cells and two visit cells each, deterministic from
// (partner, period).
v1::Report SyntheticReport(int64_t partner_id, int period, int nationalities);

// Writes `months` months ending `last_month` of accepted reports for every
// partner, and the partners' snapshot, straight into the stats database
// (the stats server's schema must exist). Returns the cells written. The
// rollups are not touched: call StatsStore::RebuildRollups afterwards.
// With `cell_rows_table`, every cell is also written as a row of that
// table (columns as report_cells had them: report_id, partner_id, period,
// measure, nationality, department, care_type, sex, age_band, value), for a
// benchmark's plain GROUP BY over rows.
absl::StatusOr<int64_t> LoadSyntheticHistory(
    Database& stats_database, const std::vector<SyntheticPartner>& partners,
    absl::CivilMonth last_month, int months, int nationalities, int threads = 2,
    const std::string& cell_rows_table = "");

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_SYNTHETIC_HISTORY_H_
