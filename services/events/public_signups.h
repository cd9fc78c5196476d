// The public's side of the events service, for people who do not sign in:
// the events an organizer opened to the public, and signing up for one. A
// sign-up is a registration whose place is held while a mail asks the
// address's owner to confirm it by a link; the link's token (stored only as
// its hash) later lets the person look at, cancel or erase the sign-up.
// Abuse is kept down without third-party services: sign-ups are counted per
// client address, per e-mail address and per event each hour, a field
// people never see must stay empty, and one person holds one place per
// event.
//
//   PublicSignUps public_side(&store, &clock, &random, PublicSignUpOptions{});
//   absl::StatusOr<v1::SignUpResponse> held =
//       public_side.SignUp(caller, request, client_address);
//   // ... the person opens the mailed link; the page sends its token:
//   v1::SignUpTokenRequest by_token;
//   by_token.set_token(token);
//   absl::StatusOr<v1::PublicSignUp> confirmed =
//       public_side.ConfirmSignUp(by_token);
#ifndef SMZ_SERVICES_EVENTS_PUBLIC_SIGNUPS_H_
#define SMZ_SERVICES_EVENTS_PUBLIC_SIGNUPS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "services/events/events_store.h"
#include "smz/events/v1/events.pb.h"

namespace smz::events {

struct PublicSignUpOptions {
  // Where people reach the public pages (the gateway): the mailed links
  // start with it.
  std::string public_url = "http://127.0.0.1:8055";
  // How long a place is held for the confirmation.
  absl::Duration hold = absl::Hours(1);
  // The personal data of registrations that are not a partner's staff
  // (public sign-ups and people organizers registered) are erased this long
  // after the event; the form the person consents on says so.
  int retention_days = 365;
  // Sign-ups per hour. An office or a carrier's NAT puts many people
  // behind one address, so that limit is the loosest per person.
  int per_client_address = 30;
  int per_email = 5;
  int per_event = 1000;
  // Places of one event held unconfirmed at once.
  int max_unconfirmed_per_event = 20;
};

// OK for an http or https URL without a query, fragment, user or spaces
// (the mailed links are built on it).
absl::Status ValidatePublicUrl(absl::string_view url);

// The page a mailed link opens: the token in the fragment, which browsers
// never send to a server (so it is in no access log).
std::string SignUpLink(absl::string_view public_url, absl::string_view language,
                       absl::string_view token);

// `event` as the public sees it at `now`.
v1::PublicEvent ToPublicEvent(const Event& event, absl::Time now,
                              int retention_days);

// `event` with only what a public calendar shows: its title and
// description in `language` (else English, else Korean), the description
// ending with the link to its public page; its sessions and recurrence
// (titles in that language) and its revision (the SEQUENCE); no counts,
// partners or notes.
Event PublicCalendarEvent(const Event& event, absl::string_view language,
                          absl::string_view public_url);

class PublicSignUps {
 public:
  PublicSignUps(EventsStore* store, const Clock* clock, RandomSource* random,
                PublicSignUpOptions options);

  absl::StatusOr<v1::ListPublicEventsResponse> ListPublicEvents(
      const v1::ListPublicEventsRequest& request);
  absl::StatusOr<v1::PublicEvent> GetPublicEvent(
      const v1::GetPublicEventRequest& request);
  absl::StatusOr<v1::CalendarFile> ExportPublicCalendar(
      const v1::ExportPublicCalendarRequest& request);
  // `client_address`: as the edge saw it ("" when unknown: then only the
  // other limits count).
  absl::StatusOr<v1::SignUpResponse> SignUp(const Principal& caller,
                                            const v1::SignUpRequest& request,
                                            absl::string_view client_address);
  absl::StatusOr<v1::PublicSignUp> ConfirmSignUp(
      const v1::SignUpTokenRequest& request);
  absl::StatusOr<v1::PublicSignUp> LookUpSignUp(
      const v1::SignUpTokenRequest& request);
  absl::StatusOr<v1::PublicSignUp> CancelSignUp(
      const v1::CancelSignUpRequest& request);

 private:
  // The person's view of `registration`, with its event.
  absl::StatusOr<v1::PublicSignUp> View(const Registration& registration);

  EventsStore* const store_;
  const Clock* const clock_;
  RandomSource* const random_;
  const PublicSignUpOptions options_;
};

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_PUBLIC_SIGNUPS_H_
