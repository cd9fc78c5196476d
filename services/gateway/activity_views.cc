#include "common/aip/status_macros.h"
#include "services/gateway/gateway_internal.h"

// The activity log and the upcoming events.
namespace smz::gateway {

absl::StatusOr<v1::ActivityLog> Gateway::GetActivityLog(
    const std::string& authorization,
    const v1::GetActivityLogRequest& request) {
  if (request.year() < 2000 || request.year() > 2100) {
    return InvalidField("year", "must be 2000..2100");
  }
  v1::ActivityLog log;
  log.set_year(request.year());
  ev1::ListEventsRequest list;
  list.add_states(ev1::COMPLETED);
  list.set_local_date_from(absl::StrCat(request.year(), "-01-01"));
  list.set_local_date_to(absl::StrCat(request.year(), "-12-31"));
  list.set_page_size(kPageSize);
  for (int page = 0; page < kMaxPages; ++page) {
    absl::StatusOr<ev1::ListEventsResponse> events =
        Call("events", authorization, options_.backend_deadline, *events_,
             &ev1::EventsService::Stub::ListEvents, list);
    if (!events.ok()) {
      if (!IsOutage(events.status())) return events.status();
      log.clear_activities();
      *log.add_sections() = Unavailable("events", events.status());
      return log;
    }
    for (const ev1::Event& e : events->events()) {
      // An event running into the year from the last one belongs there.
      if (e.local_start().substr(0, 4) != absl::StrCat(request.year())) {
        continue;
      }
      *log.add_activities() = ActivityOf(e);
    }
    if (events->next_page_token().empty()) break;
    list.set_page_token(events->next_page_token());
  }
  std::stable_sort(log.mutable_activities()->begin(),
                   log.mutable_activities()->end(),
                   [](const v1::Activity& a, const v1::Activity& b) {
                     return a.local_start() < b.local_start();
                   });
  *log.add_sections() = Available("events");
  return log;
}

absl::StatusOr<v1::UpcomingEvents> Gateway::ListUpcomingEvents(
    const std::string& authorization,
    const v1::ListUpcomingEventsRequest& request) {
  FieldViolations violations;
  if (request.days() < 0 || request.days() > 366) {
    violations.Add("days", "must be 1..366 (0: 90)");
  }
  if (request.limit() < 0 || request.limit() > 100) {
    violations.Add("limit", "must be 1..100 (0: 10)");
  }
  if (!violations.empty()) return violations.ToStatus();
  const int days = request.days() == 0 ? 90 : request.days();
  const int limit = request.limit() == 0 ? 10 : request.limit();
  SMZ_ASSIGN_OR_RETURN(absl::CivilDay today, AsOf("", *clock_, ""));
  v1::UpcomingEvents upcoming;
  upcoming.set_from_date(FormatDate(today));
  upcoming.set_to_date(FormatDate(today + days));
  ev1::ListEventsRequest list;
  list.add_states(ev1::PUBLISHED);
  list.add_states(ev1::POSTPONED);
  list.set_local_date_from(upcoming.from_date());
  list.set_local_date_to(upcoming.to_date());
  list.set_page_size(limit);
  // One page: the events service lists by start time, soonest first.
  absl::StatusOr<ev1::ListEventsResponse> events =
      Call("events", authorization, options_.backend_deadline, *events_,
           &ev1::EventsService::Stub::ListEvents, list);
  if (!events.ok()) {
    if (!IsOutage(events.status())) return events.status();
    *upcoming.add_sections() = Unavailable("events", events.status());
    return upcoming;
  }
  for (const ev1::Event& e : events->events()) {
    *upcoming.add_events() = ActivityOf(e);
  }
  *upcoming.add_sections() = Available("events");
  return upcoming;
}

}  // namespace smz::gateway
