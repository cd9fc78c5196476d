// The events service's database schema, as versioned migrations.
//
//   absl::Status s = smz::ApplyMigrations(db, smz::events::EventsMigrations(),
//                                         clock);
#ifndef SMZ_SERVICES_EVENTS_EVENTS_SCHEMA_H_
#define SMZ_SERVICES_EVENTS_EVENTS_SCHEMA_H_

#include <vector>

#include "common/mysql/migrations.h"

namespace smz::events {

const std::vector<Migration>& EventsMigrations();

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENTS_SCHEMA_H_
