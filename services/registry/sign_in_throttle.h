// Failed sign-ins slow down, then stop for a while: per login name and per
// client address. A login name counts whether or not an account has it, so
// the answers never tell who has an account; the address limit is looser,
// as an office or a carrier's NAT puts many people behind one address.
//
//   SignInThrottle throttle(&database, &clock);
//   const std::vector<std::string> subjects = {LoginSubject("kim"),
//                                              AddressSubject("10.0.0.7")};
//   SMZ_RETURN_IF_ERROR(throttle.Admit(subjects));  // RESOURCE_EXHAUSTED
//   ... check the password ...
//   if (right) throttle.Succeeded(subjects); else throttle.Failed(subjects);
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

// "login:<sha-256 of the lower-cased name>" and "address:<ip>": bounded,
// and no login name typed by anyone is stored.
std::string LoginSubject(absl::string_view login);
std::string AddressSubject(absl::string_view address);

class SignInThrottle {
 public:
  // Neither is owned.
  SignInThrottle(Database* database, const Clock* clock);

  // RESOURCE_EXHAUSTED ("try again in N s", the same words for every
  // subject) while any subject must wait; UNAVAILABLE without a database.
  absl::Status Admit(const std::vector<std::string>& subjects);
  // Counts a failure against every subject; true when this one locked one
  // of them (for the audit trail).
  absl::StatusOr<bool> Failed(const std::vector<std::string>& subjects);
  // Forgets the login's failures (an address keeps its own).
  absl::Status Succeeded(const std::vector<std::string>& subjects);

 private:
  Database* const database_;
  const Clock* const clock_;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_SIGN_IN_THROTTLE_H_
