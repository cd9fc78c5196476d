#include "services/events/public_signups.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
#include "common/iso_codes.h"
#include "common/mail/mail_message.h"
#include "common/pagination.h"
#include "common/status_util.h"
#include "common/text_checks.h"
#include "services/events/event_rules.h"
#include "services/events/icalendar.h"

namespace smz::events {
namespace {

constexpr absl::string_view kVisitorTokenPrefix = "smzv_";
constexpr int kDefaultPublicPageSize = 20;
constexpr int kMaxPublicPageSize = 100;
// Events in the public calendar at most (the zone holds a few dozen a
// year); a feed is read whole by every subscribed calendar app.
constexpr int kMaxPublicCalendarEvents = 500;
constexpr char kPublicCalendarName[] =
    "영등포 스마트메디컬특구 · Yeongdeungpo Smart Medical Zone";

// The text of `texts` in `language`, else English, else Korean, else any.
std::string TextInOrNear(
    const google::protobuf::Map<std::string, std::string>& texts,
    absl::string_view language) {
  for (absl::string_view locale :
       {language, absl::string_view("en"), absl::string_view("ko")}) {
    auto it = texts.find(std::string(locale));
    if (it != texts.end() && !it->second.empty()) return it->second;
  }
  return PrimaryText(texts);
}

// "smzv_" and 43 base64url characters (256 bits), as Generated below.
bool IsVisitorToken(absl::string_view token) {
  if (token.size() != kVisitorTokenPrefix.size() + 43 ||
      !absl::StartsWith(token, kVisitorTokenPrefix)) {
    return false;
  }
  for (char c : token.substr(kVisitorTokenPrefix.size())) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

absl::StatusOr<std::string> TokenHashOf(absl::string_view token) {
  if (!IsVisitorToken(token)) {
    return InvalidField("token",
                        "is not the token of a sign-up link (open the whole "
                        "link from the mail)");
  }
  return HashToken(token);
}

void CheckText(absl::string_view value, absl::string_view field, size_t limit,
               bool required, FieldViolations* violations) {
  if (required && absl::StripAsciiWhitespace(value).empty()) {
    violations->Add(std::string(field), "is required");
  } else if (value.size() > limit) {
    violations->Add(std::string(field),
                    absl::StrCat("is longer than ", limit, " bytes"));
  }
}

// Every field of the form at once, named as the form names them.
void ValidateSignUp(const v1::SignUpRequest& request,
                    FieldViolations* violations) {
  if (request.event_id() <= 0) violations->Add("event_id", "is required");
  CheckText(request.name(), "name", 200, true, violations);
  CheckText(request.organization(), "organization", 200, false, violations);
  if (!IsCountryCode(request.country())) {
    violations->Add("country", request.country().empty()
                                   ? "is required"
                                   : "is not an ISO 3166-1 alpha-2 code");
  }
  if (request.email().empty()) {
    violations->Add("email", "is required: the link to confirm goes there");
  } else if (request.email().size() > 254 || !IsMailAddress(request.email())) {
    violations->Add("email",
                    "is not an e-mail address mail can be sent to "
                    "(name@example.com, ASCII)");
  }
  if (!request.phone().empty() && !IsPhoneNumber(request.phone())) {
    violations->Add("phone",
                    "is not a phone number (6-30 of 0-9 + ( ) space . -)");
  }
  if (!request.language().empty() && !IsMailLanguage(request.language())) {
    violations->Add("language", "is not one of ko, en, zh, mn, ru, vi");
  }
  if (!request.consent()) {
    violations->Add("consent",
                    "is required: the data above are used for this event "
                    "only and erased after the retention period");
  }
  if (!request.website().empty()) {
    violations->Add("website", "must be left empty");
  }
  if (!request.request_id().empty() && !IsRequestId(request.request_id())) {
    violations->Add("request_id", "is not 1-64 of A-Z a-z 0-9 . _ : -");
  }
}

// What the per-address limit counts: an IPv6 address by its /64 (one
// household or phone gets a whole /64 to pick addresses from); IPv4 as is.
std::string NetworkOf(absl::string_view client_address) {
  in6_addr v6;
  const std::string text(client_address);
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return absl::StrCat("v6/64\n", absl::BytesToHexString(absl::string_view(
                                       reinterpret_cast<const char*>(&v6), 8)));
  }
  return text;
}

// What the per-address limit counts for an e-mail address: lowercase,
// without a "+tag" (which reaches the same mailbox).
std::string MailboxOf(absl::string_view email) {
  std::string lower = absl::AsciiStrToLower(email);
  const size_t at = lower.rfind('@');
  const size_t plus = lower.find('+');
  if (at != std::string::npos && plus != std::string::npos && plus < at) {
    lower.erase(plus, at - plus);
  }
  return lower;
}

}  // namespace

absl::Status ValidatePublicUrl(absl::string_view url) {
  const bool scheme =
      absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://");
  const bool clean =
      url.size() <= 200 && std::all_of(url.begin(), url.end(), [](char c) {
        return c > 0x20 && c < 0x7F && c != '?' && c != '#' && c != '@' &&
               c != '"' && c != '<' && c != '>' && c != '\\';
      });
  if (!scheme || !clean || absl::EndsWith(url, "/") ||
      url.find("//", url.find("//") + 2) != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "public_url: '", Abbreviate(url, 80),
        "' is not where people reach the pages (http:// or https://, a host "
        "and an optional port and path, no trailing slash, no query)"));
  }
  return absl::OkStatus();
}

std::string SignUpLink(absl::string_view public_url, absl::string_view language,
                       absl::string_view token) {
  return absl::StrCat(public_url, "/public/signup?lang=",
                      IsMailLanguage(language) ? language : "en", "#t=", token);
}

v1::PublicEvent ToPublicEvent(const Event& event, absl::Time now,
                              int retention_days) {
  v1::PublicEvent out;
  out.set_id(event.id());
  out.set_type(event.type());
  out.set_state(event.state());
  *out.mutable_title() = event.title();
  *out.mutable_description() = event.description();
  out.set_organizer(event.organizer());
  out.set_venue(event.venue());
  out.set_room(event.room());
  out.set_city(event.city());
  out.set_country(event.country());
  out.set_online(event.online());
  *out.mutable_target_languages() = event.target_languages();
  *out.mutable_start_time() = event.start_time();
  *out.mutable_end_time() = event.end_time();
  out.set_time_zone(event.time_zone());
  out.set_local_start(event.local_start());
  out.set_local_end(event.local_end());
  if (event.has_registration_opens()) {
    *out.mutable_registration_opens() = event.registration_opens();
  }
  *out.mutable_registration_closes() = event.has_registration_closes()
                                           ? event.registration_closes()
                                           : event.start_time();
  out.set_registration_open(CheckRegistrationWindow(event, now).ok());
  out.set_unlimited(event.capacity() == 0);
  out.set_seats_left(std::max(0, event.capacity() - event.confirmed_count()));
  out.set_state_reason(event.state_reason());
  if (event.has_original_start_time()) {
    *out.mutable_original_start_time() = event.original_start_time();
  }
  out.set_retention_days(retention_days);
  return out;
}

Event PublicCalendarEvent(const Event& event, absl::string_view language,
                          absl::string_view public_url) {
  Event out;
  out.set_id(event.id());
  out.set_type(event.type());
  out.set_state(event.state());
  const std::string locale(language);
  (*out.mutable_title())[locale] = TextInOrNear(event.title(), language);
  const std::string link = absl::StrCat(
      public_url, "/public/event?id=", event.id(), "&lang=", language);
  const std::string description = TextInOrNear(event.description(), language);
  (*out.mutable_description())[locale] =
      description.empty() ? link : absl::StrCat(description, "\n\n", link);
  out.set_organizer(event.organizer());
  out.set_venue(event.venue());
  out.set_room(event.room());
  out.set_city(event.city());
  out.set_country(event.country());
  out.set_online(event.online());
  *out.mutable_start_time() = event.start_time();
  *out.mutable_end_time() = event.end_time();
  out.set_time_zone(event.time_zone());
  out.set_state_reason(event.state_reason());
  if (event.has_original_start_time()) {
    *out.mutable_original_start_time() = event.original_start_time();
  }
  if (event.has_create_time()) *out.mutable_create_time() = event.create_time();
  if (event.has_update_time()) *out.mutable_update_time() = event.update_time();
  // The revision is the calendar's SEQUENCE: a client takes a change of
  // dates as news only when it grows.
  out.set_revision(event.revision());
  // A course meets on its days and a tour stops where it stops, not once
  // across weeks: the sessions and the repetition, in the language asked
  // (no partner ids: they mean nothing outside).
  for (const v1::Session& session : event.sessions()) {
    v1::Session* shown = out.add_sessions();
    shown->set_id(session.id());
    shown->set_kind(session.kind());
    const std::string title = TextInOrNear(session.title(), language);
    if (!title.empty()) (*shown->mutable_title())[locale] = title;
    *shown->mutable_start_time() = session.start_time();
    *shown->mutable_end_time() = session.end_time();
    shown->set_venue(session.venue());
    shown->set_room(session.room());
  }
  if (event.has_recurrence()) {
    v1::Recurrence* repeats = out.mutable_recurrence();
    *repeats = event.recurrence();
    repeats->clear_title();
    const std::string title =
        TextInOrNear(event.recurrence().title(), language);
    if (!title.empty()) (*repeats->mutable_title())[locale] = title;
  }
  return out;
}

PublicSignUps::PublicSignUps(EventsStore* store, const Clock* clock,
                             RandomSource* random, PublicSignUpOptions options)
    : store_(store),
      clock_(clock),
      random_(random),
      options_(std::move(options)) {}

absl::StatusOr<v1::ListPublicEventsResponse> PublicSignUps::ListPublicEvents(
    const v1::ListPublicEventsRequest& request) {
  FieldViolations violations;
  if (request.page_size() < 0) violations.Add("page_size", "must be >= 0");
  const int page_size = request.page_size() == 0
                            ? kDefaultPublicPageSize
                            : std::min(request.page_size(), kMaxPublicPageSize);
  const uint64_t query = QueryFingerprint({"public events"});
  absl::StatusOr<PageCursor> after =
      DecodePageToken(request.page_token(), query);
  if (!after.ok())
    violations.Add("page_token", "is not a token this service issued");
  SMZ_RETURN_IF_ERROR(violations.ToStatus());
  const absl::Time now = clock_->Now();
  SMZ_ASSIGN_OR_RETURN(std::vector<Event> events,
                       store_->ListPublicEvents(now, *after, page_size + 1));
  v1::ListPublicEventsResponse response;
  for (size_t i = 0; i < events.size() && i < static_cast<size_t>(page_size);
       ++i) {
    *response.add_events() =
        ToPublicEvent(events[i], now, options_.retention_days);
  }
  if (events.size() > static_cast<size_t>(page_size)) {
    const Event& last = events[page_size - 1];
    PageCursor next;
    next.has_position = true;
    next.last_key = absl::StrCat(
        absl::ToUnixMicros(absl::FromUnixSeconds(last.start_time().seconds()) +
                           absl::Nanoseconds(last.start_time().nanos())));
    next.last_id = last.id();
    response.set_next_page_token(EncodePageToken(query, next));
  }
  return response;
}

absl::StatusOr<v1::CalendarFile> PublicSignUps::ExportPublicCalendar(
    const v1::ExportPublicCalendarRequest& request) {
  FieldViolations violations;
  if (request.event_id() < 0) violations.Add("event_id", "must be >= 0");
  if (!request.language().empty() && !IsMailLanguage(request.language())) {
    violations.Add("language", "must be one of ko, en, zh, mn, ru, vi");
  }
  SMZ_RETURN_IF_ERROR(violations.ToStatus());
  const std::string language =
      request.language().empty() ? "en" : request.language();
  const absl::Time now = clock_->Now();
  std::vector<Event> events;
  if (request.event_id() > 0) {
    v1::GetPublicEventRequest get;
    get.set_id(request.event_id());
    // Its rule: open to the public and not a draft, else NOT_FOUND.
    SMZ_RETURN_IF_ERROR(GetPublicEvent(get).status());
    SMZ_ASSIGN_OR_RETURN(Event event, store_->GetEvent(request.event_id()));
    events.push_back(std::move(event));
  } else {
    SMZ_ASSIGN_OR_RETURN(
        events,
        store_->ListPublicEvents(now, PageCursor{}, kMaxPublicCalendarEvents));
  }
  std::vector<Event> shown;
  shown.reserve(events.size());
  for (const Event& event : events) {
    shown.push_back(PublicCalendarEvent(event, language, options_.public_url));
  }
  v1::CalendarFile file;
  file.set_content_type("text/calendar; charset=utf-8");
  file.set_filename(request.event_id() > 0
                        ? absl::StrCat("smz-event-", request.event_id(), "-",
                                       language, ".ics")
                        : absl::StrCat("smz-public-events-", language, ".ics"));
  file.set_content(RenderCalendar(shown, now, kPublicCalendarName));
  file.set_event_count(static_cast<int>(shown.size()));
  return file;
}

absl::StatusOr<v1::PublicEvent> PublicSignUps::GetPublicEvent(
    const v1::GetPublicEventRequest& request) {
  if (request.id() <= 0) return InvalidField("id", "is required");
  absl::StatusOr<Event> event = store_->GetEvent(request.id());
  if (absl::IsNotFound(event.status()) ||
      (event.ok() &&
       (!event->open_to_public() || event->state() == v1::DRAFT))) {
    return absl::NotFoundError(
        absl::StrCat("id: no public event ", request.id()));
  }
  if (!event.ok()) return event.status();
  return ToPublicEvent(*event, clock_->Now(), options_.retention_days);
}

absl::StatusOr<v1::SignUpResponse> PublicSignUps::SignUp(
    const Principal& caller, const v1::SignUpRequest& request,
    absl::string_view client_address) {
  FieldViolations violations;
  ValidateSignUp(request, &violations);
  SMZ_RETURN_IF_ERROR(violations.ToStatus());
  // Counted before the database is asked about the event or the person,
  // so sign-ups it refuses (a second one, a closed event) count too.
  std::vector<SignUpCharge> charges = {
      {absl::StrCat("email\n", MailboxOf(request.email())), options_.per_email,
       "for this e-mail address"},
      {absl::StrCat("event\n", request.event_id()), options_.per_event,
       "for this event"}};
  if (!client_address.empty()) {
    charges.push_back({absl::StrCat("client\n", NetworkOf(client_address)),
                       options_.per_client_address, "from your network"});
  }
  SMZ_RETURN_IF_ERROR(store_->ChargeSignUp(charges));

  const absl::Time now = clock_->Now();
  const std::string language =
      request.language().empty() ? "en" : request.language();
  Registration registration;
  registration.set_event_id(request.event_id());
  registration.set_name(
      std::string(absl::StripAsciiWhitespace(request.name())));
  registration.set_organization(request.organization());
  registration.set_country(request.country());
  registration.set_email(request.email());
  registration.set_phone(request.phone());
  registration.set_language(language);
  registration.add_languages(language);
  registration.set_public_sign_up(true);
  *registration.mutable_consent_time() = ToTimestamp(now);

  const std::string token =
      absl::StrCat(kVisitorTokenPrefix, GenerateToken(*random_).substr(4));
  SignUpHold hold{HashToken(token), now + options_.hold,
                  SignUpLink(options_.public_url, language, token),
                  options_.max_unconfirmed_per_event};
  absl::StatusOr<StoredRegistration> stored =
      store_->Register(registration, KeyOf(caller, "SignUp", request),
                       /*visible_partner_id=*/0, &hold);
  if (absl::IsAlreadyExists(stored.status())) {
    // Said to whoever typed the address, so nothing more than that.
    return absl::AlreadyExistsError(
        "email: this address is already signed up for this event; the mail "
        "sent to it has the link to see or cancel the sign-up");
  }
  if (!stored.ok()) return stored.status();
  SMZ_ASSIGN_OR_RETURN(v1::PublicSignUp view, View(stored->registration));
  v1::SignUpResponse response;
  *response.mutable_sign_up() = std::move(view);
  return response;
}

absl::StatusOr<v1::PublicSignUp> PublicSignUps::ConfirmSignUp(
    const v1::SignUpTokenRequest& request) {
  SMZ_ASSIGN_OR_RETURN(const std::string hash, TokenHashOf(request.token()));
  SMZ_ASSIGN_OR_RETURN(Registration current, store_->SignUpByToken(hash));
  SMZ_ASSIGN_OR_RETURN(
      Registration confirmed,
      store_->ConfirmSignUp(hash,
                            SignUpLink(options_.public_url, current.language(),
                                       request.token())));
  return View(confirmed);
}

absl::StatusOr<v1::PublicSignUp> PublicSignUps::LookUpSignUp(
    const v1::SignUpTokenRequest& request) {
  SMZ_ASSIGN_OR_RETURN(const std::string hash, TokenHashOf(request.token()));
  SMZ_ASSIGN_OR_RETURN(Registration registration, store_->SignUpByToken(hash));
  return View(registration);
}

absl::StatusOr<v1::PublicSignUp> PublicSignUps::CancelSignUp(
    const v1::CancelSignUpRequest& request) {
  SMZ_ASSIGN_OR_RETURN(const std::string hash, TokenHashOf(request.token()));
  SMZ_ASSIGN_OR_RETURN(Registration after,
                       store_->CancelSignUp(hash, request.erase()));
  return View(after);
}

absl::StatusOr<v1::PublicSignUp> PublicSignUps::View(
    const Registration& registration) {
  SMZ_ASSIGN_OR_RETURN(Event event, store_->GetEvent(registration.event_id()));
  v1::PublicSignUp out;
  *out.mutable_event() =
      ToPublicEvent(event, clock_->Now(), options_.retention_days);
  out.set_name(registration.name());
  out.set_email(registration.email());
  out.set_language(registration.language());
  out.set_state(registration.state());
  out.set_waitlist_position(registration.waitlist_position());
  if (registration.has_hold_until()) {
    *out.mutable_hold_until() = registration.hold_until();
  }
  out.set_erased(registration.name().empty() && registration.email().empty());
  return out;
}

}  // namespace smz::events
