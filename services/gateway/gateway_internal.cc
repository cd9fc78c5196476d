#include "services/gateway/gateway_internal.h"

#include <atomic>

namespace smz::gateway {

// A backend that could not answer in time (or at all) leaves its section
// unavailable; other errors are the caller's to see.
bool IsOutage(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status) || absl::IsCancelled(status);
}

v1::Section Available(absl::string_view name) {
  v1::Section section;
  section.set_name(std::string(name));
  section.set_available(true);
  return section;
}

namespace {
std::atomic<int64_t> sections_marked_unavailable{0};
}  // namespace

int64_t SectionsMarkedUnavailable() {
  return sections_marked_unavailable.load(std::memory_order_acquire);
}

v1::Section Unavailable(absl::string_view name, const absl::Status& status) {
  sections_marked_unavailable.fetch_add(1, std::memory_order_acq_rel);
  v1::Section section;
  section.set_name(std::string(name));
  section.set_available(false);
  section.set_reason(std::string(status.message()));
  return section;
}

void AddCount(std::vector<v1::CountByName>* counts, const std::string& name,
              int64_t n) {
  for (v1::CountByName& c : *counts) {
    if (c.name() == name) {
      c.set_count(c.count() + n);
      return;
    }
  }
  v1::CountByName c;
  c.set_name(name);
  c.set_count(n);
  counts->push_back(std::move(c));
}

v1::Activity ActivityOf(const ev1::Event& e) {
  v1::Activity a;
  a.set_event_id(e.id());
  a.set_type(ev1::EventType_Name(e.type()));
  *a.mutable_title() = e.title();
  a.set_local_start(e.local_start());
  a.set_local_end(e.local_end());
  a.set_city(e.city());
  a.set_country(e.country());
  a.set_online(e.online());
  a.set_attendees(e.outcome().attendees() > 0 ? e.outcome().attendees()
                                              : e.attended_count());
  a.set_mous_signed(e.outcome().mous_signed());
  a.set_state(ev1::EventState_Name(e.state()));
  return a;
}

absl::StatusOr<absl::CivilDay> AsOf(const std::string& text, const Clock& clock,
                                    const char* field) {
  if (text.empty()) {
    absl::TimeZone seoul;
    if (!absl::LoadTimeZone("Asia/Seoul", &seoul)) {
      return absl::InternalError("time zone Asia/Seoul is not installed");
    }
    return absl::ToCivilDay(clock.Now(), seoul);
  }
  std::optional<absl::CivilDay> day = ParseDate(text);
  if (!day) return InvalidField(field, "is not a date (YYYY-MM-DD)");
  return *day;
}

}  // namespace smz::gateway
