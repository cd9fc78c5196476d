// Failed sign-ins slow down, then stop for a while: per login name and per
// client address. A login name counts whether or not an account has it, so
// the answers never tell who has an account; the address limit is looser,
// as an office or a carrier's NAT puts many people behind one address.
//
//   SignInThrottle throttle(&database, &clock);
//   std::vector<std::string> subjects = {LoginSubject("kim")};
//   std::string address = AddressSubject(client);
//   if (!address.empty()) subjects.push_back(address);
//   absl::StatusOr<bool> locked = throttle.Attempt(subjects);
//   if (!locked.ok()) return locked.status();  // RESOURCE_EXHAUSTED: wait
//   ... check the password (and second factor) ...
//   if (right) throttle.Succeeded(subjects);
//
// An attempt is charged as a failure before the password is checked, in
// the same transaction as the check that admits it, so guesses sent all at
// once are counted one by one (a check, then a count after the password,
// would let them all in); a success takes its charge back.
//
// The counts live in the registry's database (table sign_in_throttle), so
// every replica sees the same ones. Policies (kLoginThrottle,
// kAddressThrottle): the first failures are free; each further one makes
// the next attempt wait twice as long (1 s, 2 s, 4 s ... at most 30 s);
// after `lock_after` failures the subject is locked for `lock_for`;
// failures older than `window` are forgotten.
#ifndef SMZ_SERVICES_REGISTRY_SIGN_IN_THROTTLE_H_
#define SMZ_SERVICES_REGISTRY_SIGN_IN_THROTTLE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mysql/database.h"

namespace smz::registry {

struct ThrottlePolicy {
  int free_failures = 0;
  absl::Duration first_delay;
  absl::Duration max_delay;
  int lock_after = 0;
  absl::Duration lock_for;
  absl::Duration window;
};
inline constexpr ThrottlePolicy kLoginThrottle{
    3,  absl::Seconds(1),  absl::Seconds(30),
    10, absl::Minutes(15), absl::Minutes(15)};
inline constexpr ThrottlePolicy kAddressThrottle{
    20,  absl::Seconds(1),  absl::Seconds(30),
    100, absl::Minutes(15), absl::Minutes(15)};

// A subject's recent failures.
struct ThrottleState {
  int failures = 0;
  absl::Time last_failure = absl::InfinitePast();
  absl::Time locked_until = absl::InfinitePast();
};

// When the next attempt may be made (at or before `now`: now).
absl::Time NextAttemptAt(const ThrottleState& state,
                         const ThrottlePolicy& policy, absl::Time now);
// The state after one more failure at `now`.
ThrottleState AfterFailure(ThrottleState state, const ThrottlePolicy& policy,
                           absl::Time now);

// "login:<sha-256 of the lower-cased name>": bounded, and no login name
// typed by anyone is stored. Callers pass the name as the account lookup
// normalizes it.
std::string LoginSubject(absl::string_view login);
// "address:<ip>" for an IPv4 address (also when written IPv4-mapped,
// ::ffff:a.b.c.d) and "address:<prefix>::/64" for IPv6, as one host holds a
// whole /64; "" when `address` is no IP address (then there is no address
// subject: an empty one would be shared by everyone).
std::string AddressSubject(absl::string_view address);

class SignInThrottle {
 public:
  // Neither is owned.
  SignInThrottle(Database* database, const Clock* clock);

  // Admits an attempt and charges it as a failure of every subject, in one
  // transaction: true when the charge locked a subject (audit a lockout
  // when the attempt then fails). RESOURCE_EXHAUSTED ("try again in N s", the
  // same words for every subject) while any subject must wait, charging
  // nothing; UNAVAILABLE without a database (the caller refuses the sign-in).
  absl::StatusOr<bool> Attempt(const std::vector<std::string>& subjects);
  // The attempt was right: the login's failures are forgotten and the
  // address's charge taken back (it keeps its earlier failures).
  absl::Status Succeeded(const std::vector<std::string>& subjects);

 private:
  Database* const database_;
  const Clock* const clock_;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_SIGN_IN_THROTTLE_H_
