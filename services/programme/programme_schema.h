// The programme service's database schema, as versioned migrations.
//
//   absl::Status s = smz::ApplyMigrations(
//       db, smz::programme::ProgrammeMigrations(), clock);
#ifndef SMZ_SERVICES_PROGRAMME_PROGRAMME_SCHEMA_H_
#define SMZ_SERVICES_PROGRAMME_PROGRAMME_SCHEMA_H_

#include <vector>

#include "common/mysql/migrations.h"

namespace smz::programme {

const std::vector<Migration>& ProgrammeMigrations();

}  // namespace smz::programme

#endif  // SMZ_SERVICES_PROGRAMME_PROGRAMME_SCHEMA_H_
