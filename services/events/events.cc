#include "services/events/events.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/aip/etag.h"
#include "common/aip/field_mask.h"
#include "common/aip/pager.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/iso_codes.h"
#include "common/logging.h"
#include "common/pagination.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/events/check_in_code.h"
#include "services/events/icalendar.h"
#include "services/events/registrations_export.h"

namespace smz::events {
namespace {

// Free text a request may carry beyond the event definition's own fields
// (whose limits are in event_rules.cc).
constexpr size_t kMaxReasonLength = 1000;
constexpr size_t kMaxNoteLength = 10000;
constexpr size_t kMaxLeadTextLength = 300;
constexpr int kMaxLeads = 500;

void CheckLength(absl::string_view value, const std::string& field,
                 size_t max_length, FieldViolations* violations) {
  if (value.size() > max_length) {
    violations->Add(field,
                    absl::StrCat("is longer than ", max_length, " bytes"));
  }
}

// Output-only fields are ignored on input.
void ClearOutputOnly(Event* event) {
  event->clear_id();
  event->clear_state();
  event->clear_occurrences();
  event->clear_local_start();
  event->clear_local_end();
  event->clear_original_start_time();
  event->clear_state_reason();
  event->clear_outcome();
  event->clear_confirmed_count();
  event->clear_waitlisted_count();
  event->clear_attended_count();
  event->clear_no_show_count();
  event->clear_revision();
  event->clear_etag();
  event->clear_create_time();
  event->clear_update_time();
}

// An outcome's agency leads and notes are the organizers' and the hosting
// partners' business: another partner sees the counts only.
void RedactForCaller(const Principal& caller, Event* event) {
  if (caller.role() != auth::v1::PARTNER || !event->has_outcome()) return;
  for (int64_t host : event->host_partner_ids()) {
    if (host == caller.partner_id()) return;
  }
  event->mutable_outcome()->clear_leads();
  event->mutable_outcome()->clear_notes();
}

// Sessions without an id get the next free ones; an id must be one the
// event already had (`before`), so a session keeps its registrations.
void AssignSessionIds(const Event* before, Event* event,
                      FieldViolations* violations) {
  absl::flat_hash_set<int64_t> known;
  int64_t next = 1;
  if (before != nullptr) {
    for (const v1::Session& s : before->sessions()) {
      known.insert(s.id());
      next = std::max(next, s.id() + 1);
    }
  }
  for (int i = 0; i < event->sessions_size(); ++i) {
    const int64_t id = event->sessions(i).id();
    if (id != 0 && !known.contains(id)) {
      violations->Add(absl::StrCat("event.sessions[", i, "].id"),
                      absl::StrCat("event has no session ", id,
                                   "; leave id 0 for a new session"));
    }
    next = std::max(next, id + 1);
  }
  for (v1::Session& s : *event->mutable_sessions()) {
    if (s.id() == 0) s.set_id(next++);
  }
}

// What UpdateEvent may change: lifecycle and outcome have their own methods.
const UpdatableFields& EventUpdatableFields() {
  static const auto* const kFields =
      new UpdatableFields({"type",
                           "title",
                           "description",
                           "organizer",
                           "host_partner_ids",
                           "venue",
                           "room",
                           "city",
                           "country",
                           "online",
                           "target_countries",
                           "target_languages",
                           "capacity",
                           "start_time",
                           "end_time",
                           "time_zone",
                           "registration_opens",
                           "registration_closes",
                           "sessions",
                           "recurrence",
                           "open_to_public"},
                          "lifecycle and outcome have their own methods");
  return *kFields;
}

absl::Status IllegalTransition(const Event& event, v1::EventState to) {
  std::vector<std::string> from;
  for (v1::EventState s : {v1::DRAFT, v1::PUBLISHED, v1::POSTPONED}) {
    if (TransitionAllowed(s, to)) from.push_back(v1::EventState_Name(s));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "event ", event.id(), " is ", v1::EventState_Name(event.state()),
      "; it can become ", v1::EventState_Name(to), " only from ",
      absl::StrJoin(from, " or ")));
}

absl::Status ValidateAndReport(const Event& event) {
  FieldViolations violations;
  ValidateEvent(event, &violations);
  return violations.ToStatus();
}

std::optional<absl::CivilDay> DateField(const std::string& text,
                                        const std::string& field, bool required,
                                        FieldViolations* violations) {
  if (text.empty()) {
    if (required) violations->Add(field, "is required (YYYY-MM-DD)");
    return std::nullopt;
  }
  std::optional<absl::CivilDay> day = ParseDate(text);
  if (!day) violations->Add(field, "is not a date (YYYY-MM-DD)");
  return day;
}

// The API's answer to an event write: the stored event, its warnings, then
// those the logic found before the write (`also`).
v1::EventResponse EventAnswer(StoredEvent stored,
                              std::vector<v1::Warning> also = {}) {
  v1::EventResponse response;
  *response.mutable_event() = std::move(stored.event);
  for (v1::Warning& w : stored.warnings)
    *response.add_warnings() = std::move(w);
  for (v1::Warning& w : also) *response.add_warnings() = std::move(w);
  return response;
}

}  // namespace

bool ManagesEvents(const Principal& caller) {
  return caller.role() == auth::v1::ORGANIZER ||
         caller.role() == auth::v1::ADMIN;
}

Events::Events(EventsStore* store, PartnerDirectory* partners, Outbox* outbox,
               const Clock* clock, EventsOptions options)
    : store_(store),
      partners_(partners),
      outbox_(outbox),
      clock_(clock),
      options_(std::move(options)) {}

absl::Status Events::CheckPartners(const Event& event,
                                   FieldViolations* violations,
                                   std::vector<v1::Warning>* warnings) {
  std::vector<std::pair<int64_t, std::string>> named;
  for (int i = 0; i < event.host_partner_ids_size(); ++i) {
    named.emplace_back(event.host_partner_ids(i),
                       absl::StrCat("event.host_partner_ids[", i, "]"));
  }
  for (int i = 0; i < event.sessions_size(); ++i) {
    named.emplace_back(event.sessions(i).host_partner_id(),
                       absl::StrCat("event.sessions[", i, "].host_partner_id"));
  }
  for (const auto& [id, field] : named) {
    if (id <= 0) continue;
    absl::StatusOr<registry::v1::Partner> partner = partners_->Get(id);
    if (absl::IsNotFound(partner.status())) {
      violations->Add(field,
                      absl::StrCat("partner ", id, " is not in the registry"));
      continue;
    }
    if (!partner.ok()) return partner.status();
    if (partner->status() != registry::v1::ACTIVE) {
      v1::Warning warning;
      warning.set_kind(v1::PARTNER_NOT_ACTIVE);
      warning.set_field(field);
      warning.set_message(
          absl::StrCat("partner ", id, " is ",
                       registry::v1::PartnerStatus_Name(partner->status()),
                       " in the registry"));
      warnings->push_back(std::move(warning));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::EventResponse> Events::CreateEvent(
    const Principal& caller, const v1::CreateEventRequest& request) {
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  Event event = request.event();
  ClearOutputOnly(&event);
  NormalizeEvent(&event);
  for (v1::Session& s : *event.mutable_sessions()) s.set_id(0);
  AssignSessionIds(nullptr, &event, &violations);
  ValidateEvent(event, &violations);
  std::vector<v1::Warning> warnings;
  SMZ_RETURN_IF_ERROR(CheckPartners(event, &violations, &warnings));
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(
      StoredEvent created,
      store_->CreateEvent(event, KeyOf(caller, "CreateEvent", request)));
  return EventAnswer(std::move(created), std::move(warnings));
}

absl::StatusOr<Event> Events::GetEvent(const Principal& caller,
                                       const v1::GetEventRequest& request) {
  if (request.id() <= 0) return InvalidField("id", "is required");
  SMZ_ASSIGN_OR_RETURN(Event event, store_->GetEvent(request.id()));
  // Drafts are the organizers' business: to others they do not exist.
  if (event.state() == v1::DRAFT && !ManagesEvents(caller)) {
    return absl::NotFoundError(
        absl::StrCat("event ", request.id(), " not found"));
  }
  RedactForCaller(caller, &event);
  return event;
}

absl::StatusOr<v1::ListEventsResponse> Events::ListEvents(
    const Principal& caller, const v1::ListEventsRequest& request) {
  FieldViolations violations;
  EventQuery query;
  for (int t : request.types()) {
    query.types.push_back(static_cast<v1::EventType>(t));
  }
  for (int s : request.states()) {
    query.states.push_back(static_cast<v1::EventState>(s));
  }
  query.include_drafts = ManagesEvents(caller);
  query.from = DateField(request.local_date_from(), "local_date_from", false,
                         &violations);
  query.to =
      DateField(request.local_date_to(), "local_date_to", false, &violations);
  if (query.from && query.to && *query.to < *query.from) {
    violations.Add("local_date_to", "is before local_date_from");
  }
  query.country = absl::AsciiStrToUpper(request.country());
  if (!query.country.empty() && !IsCountryCode(query.country)) {
    violations.Add("country", "is not an ISO 3166-1 alpha-2 code");
  }
  query.host_partner_id = request.host_partner_id();
  Pager pager = PagerFor(request, &violations,
                         query.include_drafts ? "drafts" : "published");
  if (!violations.empty()) return violations.ToStatus();
  query.after = pager.cursor();
  query.limit = pager.fetch_limit();
  SMZ_ASSIGN_OR_RETURN(std::vector<Event> events, store_->ListEvents(query));
  v1::ListEventsResponse response;
  // Ordered by start time, then id.
  response.set_next_page_token(pager.FinishWithKey(
      &events, [](const Event& e) { return e.id(); },
      [](const Event& e) {
        return absl::StrCat(absl::ToUnixMicros(ToTime(e.start_time())));
      }));
  for (Event& event : events) {
    RedactForCaller(caller, &event);
    *response.add_events() = std::move(event);
  }
  return response;
}

absl::StatusOr<v1::EventResponse> Events::UpdateEvent(
    const Principal& caller, const v1::UpdateEventRequest& request) {
  FieldViolations violations;
  if (request.event().id() <= 0) violations.Add("event.id", "is required");
  RequireEtag(request.event().etag(), "event.etag", &violations);
  const std::vector<std::string> paths =
      EventUpdatableFields().Resolve(request.update_mask(), &violations);
  // Partners named by the update are checked before the transaction (the
  // registry is another service); unchanged ones were checked before, and
  // fields outside the mask are not part of the update at all.
  Event named;
  for (const std::string& path : paths) {
    if (path == "host_partner_ids") {
      *named.mutable_host_partner_ids() = request.event().host_partner_ids();
    } else if (path == "sessions") {
      *named.mutable_sessions() = request.event().sessions();
    }
  }
  std::vector<v1::Warning> warnings;
  SMZ_RETURN_IF_ERROR(CheckPartners(named, &violations, &warnings));
  if (!violations.empty()) return violations.ToStatus();
  absl::StatusOr<StoredEvent> updated = store_->ModifyEvent(
      request.event().id(), request.event().etag(), "UPDATE",
      PrincipalLabel(caller), [&](Event& event) -> absl::Status {
        if (!Editable(event.state())) {
          return absl::FailedPreconditionError(absl::StrCat(
              "event ", event.id(), " is ", v1::EventState_Name(event.state()),
              " and can no longer be edited"));
        }
        const Event before = event;
        CopyPaths(request.event(), paths, &event);
        NormalizeEvent(&event);
        FieldViolations invalid;
        AssignSessionIds(&before, &event, &invalid);
        ValidateEvent(event, &invalid);
        return invalid.ToStatus();
      });
  if (!updated.ok()) return updated.status();
  return EventAnswer(*std::move(updated), std::move(warnings));
}

absl::StatusOr<v1::EventResponse> Events::Transition(
    const Principal& caller, int64_t id, const std::string& etag,
    v1::EventState to, absl::string_view action,
    absl::FunctionRef<absl::Status(Event&)> also) {
  if (id <= 0) return InvalidField("id", "is required");
  SMZ_ASSIGN_OR_RETURN(
      StoredEvent changed,
      store_->ModifyEvent(id, etag, action, PrincipalLabel(caller),
                          [&](Event& event) -> absl::Status {
                            if (!TransitionAllowed(event.state(), to)) {
                              return IllegalTransition(event, to);
                            }
                            SMZ_RETURN_IF_ERROR(also(event));
                            event.set_state(to);
                            return absl::OkStatus();
                          }));
  return EventAnswer(std::move(changed));
}

absl::StatusOr<v1::EventResponse> Events::PublishEvent(
    const Principal& caller, const v1::TransitionRequest& request) {
  return Transition(caller, request.id(), request.etag(), v1::PUBLISHED,
                    "PUBLISH", [](Event&) { return absl::OkStatus(); });
}

absl::StatusOr<v1::EventResponse> Events::CancelEvent(
    const Principal& caller, const v1::TransitionRequest& request) {
  if (absl::StripAsciiWhitespace(request.reason()).empty()) {
    return InvalidField("reason",
                        "is required to cancel: registrants and partners "
                        "will be told why");
  }
  if (request.reason().size() > kMaxReasonLength) {
    return InvalidField(
        "reason", absl::StrCat("is longer than ", kMaxReasonLength, " bytes"));
  }
  return Transition(caller, request.id(), request.etag(), v1::CANCELLED,
                    "CANCEL", [&](Event& event) {
                      event.set_state_reason(request.reason());
                      return absl::OkStatus();
                    });
}

absl::StatusOr<v1::EventResponse> Events::CompleteEvent(
    const Principal& caller, const v1::TransitionRequest& request) {
  const absl::Time now = clock_->Now();
  return Transition(
      caller, request.id(), request.etag(), v1::COMPLETED, "COMPLETE",
      [&](Event& event) -> absl::Status {
        if (now < ToTime(event.start_time())) {
          return absl::FailedPreconditionError(absl::StrCat(
              "event ", event.id(), " starts at ", event.local_start(), " ",
              event.time_zone(), "; it cannot be completed before it starts"));
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::EventResponse> Events::PostponeEvent(
    const Principal& caller, const v1::PostponeEventRequest& request) {
  FieldViolations violations;
  const bool has_start = request.has_new_start_time();
  const bool has_end = request.has_new_end_time();
  if (!has_start) violations.Add("new_start_time", "is required");
  if (!has_end) violations.Add("new_end_time", "is required");
  CheckLength(request.reason(), "reason", kMaxReasonLength, &violations);
  if (has_start && has_end &&
      ToTime(request.new_end_time()) <= ToTime(request.new_start_time())) {
    violations.Add("new_end_time", "must be after new_start_time");
  }
  if (!violations.empty()) return violations.ToStatus();
  const absl::Time now = clock_->Now();
  return Transition(
      caller, request.id(), request.etag(), v1::POSTPONED, "POSTPONE",
      [&](Event& event) -> absl::Status {
        const absl::Duration shift =
            ToTime(request.new_start_time()) - ToTime(event.start_time());
        auto move = [&](google::protobuf::Timestamp* t) {
          *t = ToTimestamp(ToTime(*t) + shift);
        };
        if (!event.has_original_start_time()) {
          *event.mutable_original_start_time() = event.start_time();
        }
        *event.mutable_start_time() = request.new_start_time();
        *event.mutable_end_time() = request.new_end_time();
        for (v1::Session& s : *event.mutable_sessions()) {
          move(s.mutable_start_time());
          move(s.mutable_end_time());
        }
        if (event.has_recurrence()) {
          move(event.mutable_recurrence()->mutable_first_start_time());
          move(event.mutable_recurrence()->mutable_first_end_time());
        }
        // A registration window that has already opened stays open: moving
        // its opening later would shut out people mid-way.
        if (event.has_registration_opens() &&
            ToTime(event.registration_opens()) > now) {
          move(event.mutable_registration_opens());
        }
        if (event.has_registration_closes()) {
          move(event.mutable_registration_closes());
        }
        event.set_state_reason(request.reason());
        return ValidateAndReport(event);
      });
}

absl::StatusOr<Event> Events::RecordOutcome(
    const Principal& caller, const v1::RecordOutcomeRequest& request) {
  FieldViolations violations;
  if (request.id() <= 0) violations.Add("id", "is required");
  const v1::Outcome& outcome = request.outcome();
  if (outcome.attendees() < 0) {
    violations.Add("outcome.attendees", "must be >= 0");
  }
  if (outcome.mous_signed() < 0) {
    violations.Add("outcome.mous_signed", "must be >= 0");
  }
  if (outcome.leads_size() > kMaxLeads) {
    violations.Add("outcome.leads", absl::StrCat("at most ", kMaxLeads));
  }
  for (int i = 0; i < outcome.leads_size(); ++i) {
    const v1::Lead& lead = outcome.leads(i);
    const std::string field = absl::StrCat("outcome.leads[", i, "]");
    if (absl::StripAsciiWhitespace(lead.agency()).empty()) {
      violations.Add(field + ".agency", "is required");
    }
    CheckLength(lead.agency(), field + ".agency", kMaxLeadTextLength,
                &violations);
    CheckLength(lead.note(), field + ".note", kMaxNoteLength, &violations);
    if (!lead.country().empty() &&
        !IsCountryCode(absl::AsciiStrToUpper(lead.country()))) {
      violations.Add(field + ".country", "is not an ISO 3166-1 alpha-2 code");
    }
  }
  for (const auto& [locale, text] : outcome.notes()) {
    if (!IsLanguageCode(locale)) {
      violations.Add(absl::StrCat("outcome.notes[", locale, "]"),
                     "is not an ISO 639-1 language code");
    }
    CheckLength(text, absl::StrCat("outcome.notes[", locale, "]"),
                kMaxNoteLength, &violations);
  }
  if (!violations.empty()) return violations.ToStatus();
  const absl::Time now = clock_->Now();
  absl::StatusOr<StoredEvent> recorded = store_->ModifyEvent(
      request.id(), request.etag(), "OUTCOME", PrincipalLabel(caller),
      [&](Event& event) -> absl::Status {
        if (event.state() != v1::COMPLETED) {
          return absl::FailedPreconditionError(absl::StrCat(
              "event ", event.id(), " is ", v1::EventState_Name(event.state()),
              "; outcomes are recorded for COMPLETED events"));
        }
        *event.mutable_outcome() = outcome;
        for (v1::Lead& lead : *event.mutable_outcome()->mutable_leads()) {
          lead.set_country(absl::AsciiStrToUpper(lead.country()));
        }
        *event.mutable_outcome()->mutable_record_time() = ToTimestamp(now);
        return absl::OkStatus();
      });
  if (!recorded.ok()) return recorded.status();
  return std::move(recorded->event);
}

absl::StatusOr<v1::RegistrationResponse> Events::CreateRegistration(
    const Principal& caller, const v1::CreateRegistrationRequest& request) {
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  Registration registration = request.registration();
  registration.clear_create_time();
  registration.clear_confirm_time();
  registration.clear_check_in_time();
  registration.clear_cancel_time();
  registration.clear_id();
  registration.clear_state();
  registration.clear_waitlist_position();
  // Only SignUp holds a place or records consent.
  registration.clear_hold_until();
  registration.clear_public_sign_up();
  registration.clear_consent_time();
  registration.clear_arrival();
  registration.clear_attendance();
  registration.set_name(
      std::string(absl::StripAsciiWhitespace(registration.name())));
  registration.set_email(
      std::string(absl::StripAsciiWhitespace(registration.email())));
  registration.set_country(absl::AsciiStrToUpper(registration.country()));
  for (std::string& code : *registration.mutable_languages()) {
    absl::AsciiStrToLower(&code);
  }
  if (caller.role() == auth::v1::PARTNER) {
    // A partner registers its own people.
    if (registration.partner_id() == 0) {
      registration.set_partner_id(caller.partner_id());
    }
    SMZ_RETURN_IF_ERROR(
        AuthorizePartnerScope(caller, registration.partner_id()));
  } else if (registration.partner_id() > 0) {
    absl::StatusOr<registry::v1::Partner> partner =
        partners_->Get(registration.partner_id());
    if (absl::IsNotFound(partner.status())) {
      violations.Add("registration.partner_id",
                     absl::StrCat("partner ", registration.partner_id(),
                                  " is not in the registry"));
    } else if (!partner.ok()) {
      return partner.status();
    }
  }
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(
      StoredRegistration registered,
      store_->Register(registration,
                       KeyOf(caller, "CreateRegistration", request),
                       ManagesEvents(caller) ? 0 : registration.partner_id()));
  v1::RegistrationResponse response;
  *response.mutable_registration() = std::move(registered.registration);
  for (v1::Warning& w : registered.warnings) {
    *response.add_warnings() = std::move(w);
  }
  return response;
}

absl::StatusOr<Registration> Events::GetRegistration(
    const Principal& caller, const v1::GetRegistrationRequest& request) {
  if (request.id() <= 0) return InvalidField("id", "is required");
  SMZ_ASSIGN_OR_RETURN(Registration registration,
                       store_->GetRegistration(request.id()));
  SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, registration.partner_id()));
  return registration;
}

absl::StatusOr<v1::ListRegistrationsResponse> Events::ListRegistrations(
    const Principal& caller, const v1::ListRegistrationsRequest& request) {
  FieldViolations violations;
  if (request.event_id() < 0) violations.Add("event_id", "is not an event id");
  if (request.partner_id() < 0) {
    violations.Add("partner_id", "is not a partner id");
  }
  SMZ_RETURN_IF_ERROR(violations.ToStatus());
  RegistrationQuery query;
  query.event_id = request.event_id();
  query.partner_id = request.partner_id();
  if (caller.role() == auth::v1::PARTNER) {
    if (query.partner_id == 0) query.partner_id = caller.partner_id();
    SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, query.partner_id));
  }
  for (int s : request.states()) {
    query.states.push_back(static_cast<v1::RegistrationState>(s));
  }
  v1::ListRegistrationsRequest scoped = request;
  scoped.set_partner_id(query.partner_id);
  Pager pager = PagerFor(scoped, &violations);
  if (!violations.empty()) return violations.ToStatus();
  query.after = pager.cursor();
  query.limit = pager.fetch_limit();
  SMZ_ASSIGN_OR_RETURN(std::vector<Registration> rows,
                       store_->ListRegistrations(query));
  v1::ListRegistrationsResponse response;
  // Ordered by event, then arrival (the waiting list's order).
  response.set_next_page_token(pager.FinishWithKey(
      &rows, [](const Registration& r) { return r.arrival(); },
      [](const Registration& r) { return absl::StrCat(r.event_id()); }));
  for (Registration& row : rows) *response.add_registrations() = std::move(row);
  return response;
}

absl::StatusOr<Registration> Events::CancelRegistration(
    const Principal& caller, const v1::CancelRegistrationRequest& request) {
  if (request.id() <= 0) return InvalidField("id", "is required");
  SMZ_ASSIGN_OR_RETURN(Registration registration,
                       store_->GetRegistration(request.id()));
  SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, registration.partner_id()));
  return store_->CancelRegistration(request.id(), PrincipalLabel(caller));
}

absl::StatusOr<v1::RegistrationsFile> Events::ExportRegistrations(
    const Principal& caller, const v1::ExportRegistrationsRequest& request) {
  FieldViolations violations;
  if (request.event_id() <= 0) violations.Add("event_id", "is required");
  if (!v1::ExportRegistrationsRequest::Format_IsValid(request.format())) {
    violations.Add("format", "must be CSV or XLSX");
  }
  if (!request.language().empty() && request.language() != "ko" &&
      request.language() != "en") {
    violations.Add("language", "must be ko or en");
  }
  for (int i = 0; i < request.states_size(); ++i) {
    const int s = request.states(i);
    if (!v1::RegistrationState_IsValid(s) ||
        s == v1::REGISTRATION_STATE_UNSPECIFIED) {
      violations.Add(absl::StrCat("states[", i, "]"), "is not a state");
    }
  }
  if (!violations.empty()) return violations.ToStatus();
  absl::StatusOr<Event> event = store_->GetEvent(request.event_id());
  if (absl::IsNotFound(event.status())) {
    return absl::NotFoundError(
        absl::StrCat("event_id: no event ", request.event_id()));
  }
  if (!event.ok()) return event.status();
  RegistrationQuery query;
  query.event_id = request.event_id();
  for (int s : request.states()) {
    query.states.push_back(static_cast<v1::RegistrationState>(s));
  }
  // Page by page in arrival order, no further than one row past the cap
  // (enough to refuse).
  std::vector<Registration> rows;
  while (rows.size() <= kMaxExportedRegistrations) {
    query.limit = static_cast<int>(
        std::min<size_t>(1000, kMaxExportedRegistrations + 1 - rows.size()));
    SMZ_ASSIGN_OR_RETURN(std::vector<Registration> page,
                         store_->ListRegistrations(query));
    const bool last = page.size() < static_cast<size_t>(query.limit);
    for (Registration& r : page) rows.push_back(std::move(r));
    if (last || rows.empty()) break;
    query.after.has_position = true;
    query.after.last_key = absl::StrCat(request.event_id());
    query.after.last_id = rows.back().arrival();
  }
  SMZ_ASSIGN_OR_RETURN(v1::RegistrationsFile file,
                       WriteRegistrationsFile(*event, rows, request.format(),
                                              request.language()));
  // Who took the people's data out, and how much: never the data.
  Log(LogLevel::kInfo, "registrations exported",
      {{"event_id", absl::StrCat(request.event_id())},
       {"actor", PrincipalLabel(caller)},
       {"rows", absl::StrCat(file.rows())},
       {"format", request.format() == v1::ExportRegistrationsRequest::XLSX
                      ? "XLSX"
                      : "CSV"}});
  return file;
}

absl::StatusOr<Registration> Events::MoveRegistration(
    const Principal& caller, const v1::MoveRegistrationRequest& request) {
  FieldViolations violations;
  if (request.id() <= 0) violations.Add("id", "is required");
  if (request.event_id() <= 0) violations.Add("event_id", "is required");
  if (!violations.empty()) return violations.ToStatus();
  return store_->MoveRegistration(request.id(), request.event_id(),
                                  PrincipalLabel(caller));
}

absl::StatusOr<Registration> Events::RecordAttendance(
    const Principal& caller, const v1::RecordAttendanceRequest& request) {
  FieldViolations violations;
  if (request.id() <= 0) violations.Add("id", "is required");
  if (request.attendance() != v1::ATTENDED &&
      request.attendance() != v1::NO_SHOW) {
    violations.Add("attendance", "must be ATTENDED or NO_SHOW");
  }
  if (!violations.empty()) return violations.ToStatus();
  return store_->RecordAttendance(request.id(), request.attendance(),
                                  PrincipalLabel(caller));
}

absl::StatusOr<v1::CheckInResponse> Events::CheckIn(
    const Principal& caller, const v1::CheckInRequest& request) {
  FieldViolations violations;
  if (request.event_id() <= 0) violations.Add("event_id", "is required");
  absl::StatusOr<std::string> key = CheckInCodeKey(request.code());
  if (!key.ok()) {
    violations.Add("code",
                   "is 16 letters and digits, like K7Q2-M9XD-4T1P-ZR8B");
  }
  if (!violations.empty()) return violations.ToStatus();
  return store_->CheckIn(request.event_id(), *key, PrincipalLabel(caller));
}

absl::StatusOr<v1::CountCompletedEventsResponse> Events::CountCompletedEvents(
    const Principal& caller, const v1::CountCompletedEventsRequest& request) {
  const int this_year = TodayInSeoul(*clock_).year();
  const int from = request.year_from() == 0 ? this_year : request.year_from();
  const int to =
      request.year_to() == 0 ? std::max(from, this_year) : request.year_to();
  FieldViolations violations;
  if (from < 1990 || from > 2100) {
    violations.Add("year_from", "must be 1990 to 2100");
  }
  if (to < from || to > 2100) {
    violations.Add("year_to", "must be year_from to 2100");
  }
  if (!violations.empty()) return violations.ToStatus();
  std::vector<v1::EventType> types;
  for (int t : request.types()) types.push_back(static_cast<v1::EventType>(t));
  return store_->CountCompleted(from, to, request.by_country(), types);
}

absl::StatusOr<v1::CalendarFile> Events::ExportEventCalendar(
    const Principal& caller, const v1::ExportEventCalendarRequest& request) {
  v1::GetEventRequest get;
  get.set_id(request.id());
  SMZ_ASSIGN_OR_RETURN(Event event, GetEvent(caller, get));
  v1::CalendarFile file;
  file.set_content_type("text/calendar; charset=utf-8");
  file.set_filename(absl::StrCat("smz-event-", event.id(), ".ics"));
  file.set_content(
      RenderCalendar({event}, clock_->Now(), options_.calendar_name));
  file.set_event_count(1);
  return file;
}

absl::StatusOr<v1::CalendarFile> Events::ExportCalendarFeed(
    const Principal& caller, const v1::ExportCalendarFeedRequest& request) {
  FieldViolations violations;
  EventQuery query;
  query.from = DateField(request.local_date_from(), "local_date_from", true,
                         &violations);
  query.to =
      DateField(request.local_date_to(), "local_date_to", true, &violations);
  if (query.from && query.to &&
      (*query.to < *query.from || *query.to - *query.from > 3660)) {
    violations.Add("local_date_to",
                   "must be from local_date_from to ten years after it");
  }
  if (!violations.empty()) return violations.ToStatus();
  for (int t : request.types()) {
    query.types.push_back(static_cast<v1::EventType>(t));
  }
  // A feed is public: never drafts.
  query.include_drafts = false;
  query.limit = options_.max_feed_events + 1;
  SMZ_ASSIGN_OR_RETURN(std::vector<Event> events, store_->ListEvents(query));
  if (static_cast<int>(events.size()) > options_.max_feed_events) {
    return InvalidField(
        "local_date_to",
        absl::StrCat("the range holds more than ", options_.max_feed_events,
                     " events; ask for a shorter one"));
  }
  v1::CalendarFile file;
  file.set_content_type("text/calendar; charset=utf-8");
  file.set_filename(absl::StrCat("smz-events-", request.local_date_from(), "-",
                                 request.local_date_to(), ".ics"));
  file.set_content(
      RenderCalendar(events, clock_->Now(), options_.calendar_name));
  file.set_event_count(static_cast<int32_t>(events.size()));
  return file;
}

absl::StatusOr<v1::ListDueRemindersResponse> Events::ListDueReminders(
    const Principal& caller, const v1::ListDueRemindersRequest& request) {
  const int lookback =
      request.lookback_minutes() == 0 ? 60 : request.lookback_minutes();
  if (lookback < 1 || lookback > 7 * 24 * 60) {
    return InvalidField("lookback_minutes", "must be 1 to 10080");
  }
  const absl::Time at = request.has_at() ? ToTime(request.at()) : clock_->Now();
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::Reminder> due,
                       store_->DueReminders(at, absl::Minutes(lookback)));
  v1::ListDueRemindersResponse response;
  for (v1::Reminder& reminder : due) {
    if (reminder.kind() == v1::HOST_PARTNER_THREE_DAYS_BEFORE) {
      // Best effort: the registry may be briefly unreachable.
      absl::StatusOr<registry::v1::Partner> partner =
          partners_->Get(reminder.partner_id());
      if (partner.ok())
        reminder.set_recipient_name(PrimaryText(partner->name()));
    }
    *response.add_reminders() = std::move(reminder);
  }
  return response;
}

}  // namespace smz::events
