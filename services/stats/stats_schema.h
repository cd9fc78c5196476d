// The statistics service's database schema, as versioned migrations.
//
//   absl::Status s = smz::ApplyMigrations(db, smz::stats::StatsMigrations(),
//                                         clock);
#ifndef SMZ_SERVICES_STATS_STATS_SCHEMA_H_
#define SMZ_SERVICES_STATS_STATS_SCHEMA_H_

#include <vector>

#include "common/mysql/migrations.h"

namespace smz::stats {

const std::vector<Migration>& StatsMigrations();

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_STATS_SCHEMA_H_
