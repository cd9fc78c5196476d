// RFC 5545 iCalendar rendering of events, for calendar clients (one event,
// or a feed). Each event becomes a VEVENT in its own time zone (with a
// VTIMEZONE built from tzdata for the span the file covers); a recurrence
// becomes a VEVENT with RRULE and EXDATE, explicit sessions VEVENTs of their
// own, all RELATED-TO the event. Cancelled events are STATUS:CANCELLED,
// drafts TENTATIVE.
//
//   std::string ics = smz::events::RenderCalendar({event}, clock.Now(),
//                                                 "영등포 스마트메디컬특구");
#ifndef SMZ_SERVICES_EVENTS_ICALENDAR_H_
#define SMZ_SERVICES_EVENTS_ICALENDAR_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smz/events/v1/events.pb.h"

namespace smz::events {

// Events must be valid (a loadable time zone, end after start).
std::string RenderCalendar(const std::vector<v1::Event>& events, absl::Time now,
                           absl::string_view calendar_name);

// RFC 5545 TEXT escaping (backslash, semicolon, comma, newline).
std::string EscapeText(absl::string_view text);
// Folds a content line at 75 octets without splitting a UTF-8 character;
// appends CRLF.
void AppendFolded(absl::string_view line, std::string* out);

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_ICALENDAR_H_
