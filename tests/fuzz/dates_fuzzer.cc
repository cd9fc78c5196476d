// Dates, months and time-zone names as every API takes them.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "common/request_fields.h"
#include "common/text_checks.h"
#include "services/events/event_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (std::optional<absl::CivilDay> day = smz::ParseDate(text)) {
    // What parses must print back the same.
    if (smz::FormatDate(*day) != text) __builtin_trap();
  }
  if (std::optional<absl::CivilMonth> month = smz::ParseMonth(text)) {
    if (smz::FormatMonth(*month) != text) __builtin_trap();
  }
  smz::IsTimeZoneName(text);
  (void)smz::events::LoadZone(text);
  return 0;
}
