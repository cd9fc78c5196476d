// The zone's fixed list of medical department codes, in one place for every
// service (registry profiles, statistics cells, event themes). Codes are
// stable API values; names are for display.
//
//   if (!smz::IsDepartmentCode("dermatology")) { ... }
//   for (const smz::Department& d : smz::Departments()) { d.name_ko ... }
#ifndef SMZ_COMMON_DEPARTMENTS_H_
#define SMZ_COMMON_DEPARTMENTS_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace smz {

struct Department {
  absl::string_view code;
  absl::string_view name_ko;
  absl::string_view name_en;
};

absl::Span<const Department> Departments();
bool IsDepartmentCode(absl::string_view code);

}  // namespace smz

#endif  // SMZ_COMMON_DEPARTMENTS_H_
