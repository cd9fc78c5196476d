// An event's recurrence as organizers type it: the RRULE text, its
// exception dates and the zone, expanded into sessions.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "services/events/event_rules.h"

// Input: "<rule>\n<time zone>\n<exception date>\n<exception date>...".
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smz::events;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  (void)ParseRecurrenceRule(lines[0]);
  absl::StatusOr<absl::TimeZone> zone =
      LoadZone(lines.size() > 1 ? lines[1] : "Asia/Seoul");
  if (!zone.ok()) return 0;
  v1::Recurrence recurrence;
  recurrence.set_rule(std::string(lines[0]));
  // A first session on 2026-05-04 (a Monday) 10:00-12:00 local time.
  const absl::Time start =
      absl::FromCivil(absl::CivilSecond(2026, 5, 4, 10, 0, 0), *zone);
  *recurrence.mutable_first_start_time() = ToTimestamp(start);
  *recurrence.mutable_first_end_time() = ToTimestamp(start + absl::Hours(2));
  for (size_t i = 2; i < lines.size() && i < 40; ++i) {
    recurrence.add_exception_dates(std::string(lines[i]));
  }
  (void)ExpandRecurrence(recurrence, *zone);
  return 0;
}
