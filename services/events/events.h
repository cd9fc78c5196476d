// The events service's application logic, independent of gRPC: who may see
// and change what, request validation, partner checks against the registry,
// update masks, the lifecycle, and calendar and reminder shaping, on top of
// EventsStore. The gRPC adapter (events_grpc_service.h) authenticates the
// caller, checks the method's roles and calls one method here.
//
//   Events events(&store, &partner_directory, &clock, EventsOptions{});
//   absl::StatusOr<v1::EventResponse> created =
//       events.CreateEvent(caller, request);
#ifndef SMZ_SERVICES_EVENTS_EVENTS_H_
#define SMZ_SERVICES_EVENTS_EVENTS_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/clients/partner_directory.h"
#include "common/clock.h"
#include "common/mail/mail_api.h"
#include "common/mail/outbox.h"
#include "services/events/events_store.h"
#include "smz/events/v1/events.pb.h"

namespace smz::events {

struct EventsOptions {
  std::string calendar_name =
      "영등포 스마트메디컬특구 행사 (Smart Medical Zone)";
  // A feed with more events than this asks for a narrower date range.
  int max_feed_events = 20000;
};

class Events {
 public:
  // `outbox` holds the service's mail (common/mail/outbox.h).
  Events(EventsStore* store, PartnerDirectory* partners, Outbox* outbox,
         const Clock* clock, EventsOptions options);

  absl::StatusOr<v1::EventResponse> CreateEvent(
      const Principal& caller, const v1::CreateEventRequest& request);
  absl::StatusOr<Event> GetEvent(const Principal& caller,
                                 const v1::GetEventRequest& request);
  absl::StatusOr<v1::ListEventsResponse> ListEvents(
      const Principal& caller, const v1::ListEventsRequest& request);
  absl::StatusOr<v1::EventResponse> UpdateEvent(
      const Principal& caller, const v1::UpdateEventRequest& request);
  absl::StatusOr<v1::EventResponse> PublishEvent(
      const Principal& caller, const v1::TransitionRequest& request);
  absl::StatusOr<v1::EventResponse> CancelEvent(
      const Principal& caller, const v1::TransitionRequest& request);
  absl::StatusOr<v1::EventResponse> PostponeEvent(
      const Principal& caller, const v1::PostponeEventRequest& request);
  absl::StatusOr<v1::EventResponse> CompleteEvent(
      const Principal& caller, const v1::TransitionRequest& request);
  absl::StatusOr<Event> RecordOutcome(const Principal& caller,
                                      const v1::RecordOutcomeRequest& request);

  absl::StatusOr<v1::RegistrationResponse> CreateRegistration(
      const Principal& caller, const v1::CreateRegistrationRequest& request);
  absl::StatusOr<Registration> GetRegistration(
      const Principal& caller, const v1::GetRegistrationRequest& request);
  absl::StatusOr<v1::ListRegistrationsResponse> ListRegistrations(
      const Principal& caller, const v1::ListRegistrationsRequest& request);
  absl::StatusOr<Registration> CancelRegistration(
      const Principal& caller, const v1::CancelRegistrationRequest& request);
  absl::StatusOr<v1::RegistrationsFile> ExportRegistrations(
      const Principal& caller, const v1::ExportRegistrationsRequest& request);
  absl::StatusOr<Registration> MoveRegistration(
      const Principal& caller, const v1::MoveRegistrationRequest& request);
  absl::StatusOr<Registration> RecordAttendance(
      const Principal& caller, const v1::RecordAttendanceRequest& request);
  absl::StatusOr<v1::CheckInResponse> CheckIn(
      const Principal& caller, const v1::CheckInRequest& request);

  absl::StatusOr<v1::CountCompletedEventsResponse> CountCompletedEvents(
      const Principal& caller, const v1::CountCompletedEventsRequest& request);
  absl::StatusOr<v1::CalendarFile> ExportEventCalendar(
      const Principal& caller, const v1::ExportEventCalendarRequest& request);
  absl::StatusOr<v1::CalendarFile> ExportCalendarFeed(
      const Principal& caller, const v1::ExportCalendarFeedRequest& request);
  absl::StatusOr<v1::ListDueRemindersResponse> ListDueReminders(
      const Principal& caller, const v1::ListDueRemindersRequest& request);

  // The service's mail (smz.mail.v1 shape); ADMIN only, by the method's
  // roles.
  absl::StatusOr<mail::v1::ListMailResponse> ListMail(
      const mail::v1::ListMailRequest& request) {
    return smz::ListMail(*outbox_, request);
  }
  absl::StatusOr<mail::v1::Mail> RetryMail(
      const mail::v1::RetryMailRequest& request) {
    return smz::RetryMail(*outbox_, request);
  }

  // The audit trail (smz.audit.v1 shape).
  absl::StatusOr<audit::v1::ListChangesResponse> ListChanges(
      const audit::v1::ListChangesRequest& request) {
    return store_->ListChanges(request);
  }

 private:
  // Every partner an event names exists in the registry (violations
  // otherwise); partners that are not ACTIVE are warnings. UNAVAILABLE when
  // the registry cannot answer.
  absl::Status CheckPartners(const Event& event, FieldViolations* violations,
                             std::vector<v1::Warning>* warnings);
  absl::StatusOr<v1::EventResponse> Transition(
      const Principal& caller, int64_t id, const std::string& etag,
      v1::EventState to, absl::string_view action,
      absl::FunctionRef<absl::Status(Event&)> also);

  EventsStore* const store_;
  PartnerDirectory* const partners_;
  Outbox* const outbox_;
  const Clock* const clock_;
  const EventsOptions options_;
};

// Organizers and admins manage events and see drafts.
bool ManagesEvents(const Principal& caller);

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENTS_H_
