#include "services/events/events_grpc_service.h"

namespace smz::events {
grpc::Status EventsGrpcService::CreateEvent(
    grpc::ServerContext* context, const v1::CreateEventRequest* request,
    v1::EventResponse* response) {
  return runner_->Run(context, "CreateEvent", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return events_->CreateEvent(caller, *request); });
  });
}

grpc::Status EventsGrpcService::GetEvent(grpc::ServerContext* context,
                                         const v1::GetEventRequest* request,
                                         v1::Event* response) {
  return runner_->Run(context, "GetEvent", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return events_->GetEvent(caller, *request); });
  });
}

grpc::Status EventsGrpcService::ListEvents(grpc::ServerContext* context,
                                           const v1::ListEventsRequest* request,
                                           v1::ListEventsResponse* response) {
  return runner_->Run(context, "ListEvents", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return events_->ListEvents(caller, *request); });
  });
}

grpc::Status EventsGrpcService::UpdateEvent(
    grpc::ServerContext* context, const v1::UpdateEventRequest* request,
    v1::EventResponse* response) {
  return runner_->Run(context, "UpdateEvent", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return events_->UpdateEvent(caller, *request); });
  });
}

grpc::Status EventsGrpcService::PublishEvent(
    grpc::ServerContext* context, const v1::TransitionRequest* request,
    v1::EventResponse* response) {
  return runner_->Run(context, "PublishEvent", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return events_->PublishEvent(caller, *request); });
  });
}

grpc::Status EventsGrpcService::CancelEvent(
    grpc::ServerContext* context, const v1::TransitionRequest* request,
    v1::EventResponse* response) {
  return runner_->Run(context, "CancelEvent", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return events_->CancelEvent(caller, *request); });
  });
}

grpc::Status EventsGrpcService::PostponeEvent(
    grpc::ServerContext* context, const v1::PostponeEventRequest* request,
    v1::EventResponse* response) {
  return runner_->Run(context, "PostponeEvent", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return events_->PostponeEvent(caller, *request); });
  });
}

grpc::Status EventsGrpcService::CompleteEvent(
    grpc::ServerContext* context, const v1::TransitionRequest* request,
    v1::EventResponse* response) {
  return runner_->Run(context, "CompleteEvent", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return events_->CompleteEvent(caller, *request); });
  });
}

grpc::Status EventsGrpcService::RecordOutcome(
    grpc::ServerContext* context, const v1::RecordOutcomeRequest* request,
    v1::Event* response) {
  return runner_->Run(context, "RecordOutcome", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return events_->RecordOutcome(caller, *request); });
  });
}

grpc::Status EventsGrpcService::CreateRegistration(
    grpc::ServerContext* context, const v1::CreateRegistrationRequest* request,
    v1::RegistrationResponse* response) {
  return runner_->Run(context, "CreateRegistration",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->CreateRegistration(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::GetRegistration(
    grpc::ServerContext* context, const v1::GetRegistrationRequest* request,
    v1::Registration* response) {
  return runner_->Run(context, "GetRegistration", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return events_->GetRegistration(caller, *request); });
  });
}

grpc::Status EventsGrpcService::ListRegistrations(
    grpc::ServerContext* context, const v1::ListRegistrationsRequest* request,
    v1::ListRegistrationsResponse* response) {
  return runner_->Run(context, "ListRegistrations",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->ListRegistrations(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::CancelRegistration(
    grpc::ServerContext* context, const v1::CancelRegistrationRequest* request,
    v1::Registration* response) {
  return runner_->Run(context, "CancelRegistration",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->CancelRegistration(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::ExportRegistrations(
    grpc::ServerContext* context, const v1::ExportRegistrationsRequest* request,
    v1::RegistrationsFile* response) {
  return runner_->Run(context, "ExportRegistrations",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->ExportRegistrations(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::MoveRegistration(
    grpc::ServerContext* context, const v1::MoveRegistrationRequest* request,
    v1::Registration* response) {
  return runner_->Run(context, "MoveRegistration",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->MoveRegistration(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::RecordAttendance(
    grpc::ServerContext* context, const v1::RecordAttendanceRequest* request,
    v1::Registration* response) {
  return runner_->Run(context, "RecordAttendance",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->RecordAttendance(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::CheckIn(grpc::ServerContext* context,
                                        const v1::CheckInRequest* request,
                                        v1::CheckInResponse* response) {
  return runner_->Run(context, "CheckIn", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return events_->CheckIn(caller, *request); });
  });
}

grpc::Status EventsGrpcService::CountCompletedEvents(
    grpc::ServerContext* context,
    const v1::CountCompletedEventsRequest* request,
    v1::CountCompletedEventsResponse* response) {
  return runner_->Run(
      context, "CountCompletedEvents", [&](const Principal& caller) {
        return RespondWith(response, [&] {
          return events_->CountCompletedEvents(caller, *request);
        });
      });
}

grpc::Status EventsGrpcService::ExportEventCalendar(
    grpc::ServerContext* context, const v1::ExportEventCalendarRequest* request,
    v1::CalendarFile* response) {
  return runner_->Run(context, "ExportEventCalendar",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->ExportEventCalendar(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::ExportCalendarFeed(
    grpc::ServerContext* context, const v1::ExportCalendarFeedRequest* request,
    v1::CalendarFile* response) {
  return runner_->Run(context, "ExportCalendarFeed",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->ExportCalendarFeed(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::ListDueReminders(
    grpc::ServerContext* context, const v1::ListDueRemindersRequest* request,
    v1::ListDueRemindersResponse* response) {
  return runner_->Run(context, "ListDueReminders",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return events_->ListDueReminders(caller, *request);
                        });
                      });
}

grpc::Status EventsGrpcService::ListEventChanges(
    grpc::ServerContext* context, const audit::v1::ListChangesRequest* request,
    audit::v1::ListChangesResponse* response) {
  return runner_->Run(context, "ListEventChanges", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return events_->ListChanges(*request); });
  });
}

grpc::Status EventsGrpcService::ListEventMail(
    grpc::ServerContext* context, const mail::v1::ListMailRequest* request,
    mail::v1::ListMailResponse* response) {
  return runner_->Run(context, "ListEventMail", [&](const Principal&) {
    return RespondWith(response, [&] { return events_->ListMail(*request); });
  });
}

grpc::Status EventsGrpcService::RetryEventMail(
    grpc::ServerContext* context, const mail::v1::RetryMailRequest* request,
    mail::v1::Mail* response) {
  return runner_->Run(context, "RetryEventMail", [&](const Principal&) {
    return RespondWith(response, [&] { return events_->RetryMail(*request); });
  });
}

grpc::Status EventsGrpcService::ListPublicEvents(
    grpc::ServerContext* context, const v1::ListPublicEventsRequest* request,
    v1::ListPublicEventsResponse* response) {
  return runner_->Run(context, "ListPublicEvents", [&](const Principal&) {
    return RespondWith(
        response, [&] { return public_side_->ListPublicEvents(*request); });
  });
}

grpc::Status EventsGrpcService::GetPublicEvent(
    grpc::ServerContext* context, const v1::GetPublicEventRequest* request,
    v1::PublicEvent* response) {
  return runner_->Run(context, "GetPublicEvent", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return public_side_->GetPublicEvent(*request); });
  });
}

grpc::Status EventsGrpcService::ExportPublicCalendar(
    grpc::ServerContext* context,
    const v1::ExportPublicCalendarRequest* request,
    v1::CalendarFile* response) {
  return runner_->Run(context, "ExportPublicCalendar", [&](const Principal&) {
    return RespondWith(
        response, [&] { return public_side_->ExportPublicCalendar(*request); });
  });
}

grpc::Status EventsGrpcService::SignUp(grpc::ServerContext* context,
                                       const v1::SignUpRequest* request,
                                       v1::SignUpResponse* response) {
  return runner_->Run(context, "SignUp", [&](const Principal& caller) {
    return RespondWith(response, [&] {
      return public_side_->SignUp(caller, *request,
                                  runner_->ClientAddressOf(*context));
    });
  });
}

grpc::Status EventsGrpcService::ConfirmSignUp(
    grpc::ServerContext* context, const v1::SignUpTokenRequest* request,
    v1::PublicSignUp* response) {
  return runner_->Run(context, "ConfirmSignUp", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return public_side_->ConfirmSignUp(*request); });
  });
}

grpc::Status EventsGrpcService::LookUpSignUp(
    grpc::ServerContext* context, const v1::SignUpTokenRequest* request,
    v1::PublicSignUp* response) {
  return runner_->Run(context, "LookUpSignUp", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return public_side_->LookUpSignUp(*request); });
  });
}

grpc::Status EventsGrpcService::CancelSignUp(
    grpc::ServerContext* context, const v1::CancelSignUpRequest* request,
    v1::PublicSignUp* response) {
  return runner_->Run(context, "CancelSignUp", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return public_side_->CancelSignUp(*request); });
  });
}

}  // namespace smz::events
