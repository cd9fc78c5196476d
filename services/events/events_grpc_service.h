// The events service's gRPC face: each handler runs through the RPC runner and
// hands the authenticated caller to Events. Who may call each method is
// declared next to it in events.proto (option (smz.auth.v1.allowed_roles)) and
// enforced by the runner; finer rules are in events.cc (a PARTNER registers and
// reads its own people; drafts for ORGANIZER and ADMIN only).
#ifndef SMZ_SERVICES_EVENTS_EVENTS_GRPC_SERVICE_H_
#define SMZ_SERVICES_EVENTS_EVENTS_GRPC_SERVICE_H_

#include "common/server/rpc_runner.h"
#include "services/events/events.h"
#include "services/events/public_signups.h"
#include "smz/events/v1/events.grpc.pb.h"

namespace smz::events {

class EventsGrpcService final : public v1::EventsService::Service {
 public:
  EventsGrpcService(Events* events, PublicSignUps* public_side,
                    RpcRunner* runner)
      : events_(events), public_side_(public_side), runner_(runner) {}

  grpc::Status CreateEvent(grpc::ServerContext* context,
                           const v1::CreateEventRequest* request,
                           v1::EventResponse* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context,
                        const v1::GetEventRequest* request,
                        v1::Event* response) override;
  grpc::Status ListEvents(grpc::ServerContext* context,
                          const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override;
  grpc::Status UpdateEvent(grpc::ServerContext* context,
                           const v1::UpdateEventRequest* request,
                           v1::EventResponse* response) override;
  grpc::Status PublishEvent(grpc::ServerContext* context,
                            const v1::TransitionRequest* request,
                            v1::EventResponse* response) override;
  grpc::Status CancelEvent(grpc::ServerContext* context,
                           const v1::TransitionRequest* request,
                           v1::EventResponse* response) override;
  grpc::Status PostponeEvent(grpc::ServerContext* context,
                             const v1::PostponeEventRequest* request,
                             v1::EventResponse* response) override;
  grpc::Status CompleteEvent(grpc::ServerContext* context,
                             const v1::TransitionRequest* request,
                             v1::EventResponse* response) override;
  grpc::Status RecordOutcome(grpc::ServerContext* context,
                             const v1::RecordOutcomeRequest* request,
                             v1::Event* response) override;
  grpc::Status CreateRegistration(grpc::ServerContext* context,
                                  const v1::CreateRegistrationRequest* request,
                                  v1::RegistrationResponse* response) override;
  grpc::Status GetRegistration(grpc::ServerContext* context,
                               const v1::GetRegistrationRequest* request,
                               v1::Registration* response) override;
  grpc::Status ListRegistrations(
      grpc::ServerContext* context, const v1::ListRegistrationsRequest* request,
      v1::ListRegistrationsResponse* response) override;
  grpc::Status CancelRegistration(grpc::ServerContext* context,
                                  const v1::CancelRegistrationRequest* request,
                                  v1::Registration* response) override;
  grpc::Status ExportRegistrations(
      grpc::ServerContext* context,
      const v1::ExportRegistrationsRequest* request,
      v1::RegistrationsFile* response) override;
  grpc::Status MoveRegistration(grpc::ServerContext* context,
                                const v1::MoveRegistrationRequest* request,
                                v1::Registration* response) override;
  grpc::Status RecordAttendance(grpc::ServerContext* context,
                                const v1::RecordAttendanceRequest* request,
                                v1::Registration* response) override;
  grpc::Status CheckIn(grpc::ServerContext* context,
                       const v1::CheckInRequest* request,
                       v1::CheckInResponse* response) override;
  grpc::Status CountCompletedEvents(
      grpc::ServerContext* context,
      const v1::CountCompletedEventsRequest* request,
      v1::CountCompletedEventsResponse* response) override;
  grpc::Status ExportEventCalendar(
      grpc::ServerContext* context,
      const v1::ExportEventCalendarRequest* request,
      v1::CalendarFile* response) override;
  grpc::Status ExportCalendarFeed(grpc::ServerContext* context,
                                  const v1::ExportCalendarFeedRequest* request,
                                  v1::CalendarFile* response) override;
  grpc::Status ListDueReminders(
      grpc::ServerContext* context, const v1::ListDueRemindersRequest* request,
      v1::ListDueRemindersResponse* response) override;
  grpc::Status ListEventChanges(
      grpc::ServerContext* context,
      const audit::v1::ListChangesRequest* request,
      audit::v1::ListChangesResponse* response) override;
  grpc::Status ListEventMail(grpc::ServerContext* context,
                             const mail::v1::ListMailRequest* request,
                             mail::v1::ListMailResponse* response) override;
  grpc::Status RetryEventMail(grpc::ServerContext* context,
                              const mail::v1::RetryMailRequest* request,
                              mail::v1::Mail* response) override;

  // The public's side (public_signups.h).
  grpc::Status ListPublicEvents(
      grpc::ServerContext* context, const v1::ListPublicEventsRequest* request,
      v1::ListPublicEventsResponse* response) override;
  grpc::Status GetPublicEvent(grpc::ServerContext* context,
                              const v1::GetPublicEventRequest* request,
                              v1::PublicEvent* response) override;
  grpc::Status ExportPublicCalendar(
      grpc::ServerContext* context,
      const v1::ExportPublicCalendarRequest* request,
      v1::CalendarFile* response) override;
  grpc::Status SignUp(grpc::ServerContext* context,
                      const v1::SignUpRequest* request,
                      v1::SignUpResponse* response) override;
  grpc::Status ConfirmSignUp(grpc::ServerContext* context,
                             const v1::SignUpTokenRequest* request,
                             v1::PublicSignUp* response) override;
  grpc::Status LookUpSignUp(grpc::ServerContext* context,
                            const v1::SignUpTokenRequest* request,
                            v1::PublicSignUp* response) override;
  grpc::Status CancelSignUp(grpc::ServerContext* context,
                            const v1::CancelSignUpRequest* request,
                            v1::PublicSignUp* response) override;

 private:
  Events* const events_;
  PublicSignUps* const public_side_;
  RpcRunner* const runner_;
};

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENTS_GRPC_SERVICE_H_
