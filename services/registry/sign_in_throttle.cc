#include "services/registry/sign_in_throttle.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"

namespace smz::registry {
namespace {

const ThrottlePolicy& PolicyOf(absl::string_view subject) {
  return absl::StartsWith(subject, "address:") ? kAddressThrottle
                                               : kLoginThrottle;
}

// Rows with no failure and no lock for this long are deleted as attempts
// are made, a few at a time.
constexpr absl::Duration kForgetAfter = absl::Hours(1);
constexpr int kForgetPerFailure = 100;

absl::Time TimeOrPast(int64_t micros) {
  return micros == 0 ? absl::InfinitePast() : absl::FromUnixMicros(micros);
}

int64_t MicrosOrZero(absl::Time time) {
  return time == absl::InfinitePast() ? 0 : absl::ToUnixMicros(time);
}

// Subjects' states by subject, read with `suffix` (" FOR UPDATE" or "").
absl::StatusOr<std::vector<std::pair<std::string, ThrottleState>>> ReadStates(
    Session& session, const std::vector<std::string>& subjects,
    absl::string_view suffix) {
  std::vector<std::pair<std::string, ThrottleState>> states;
  for (const std::string& subject : subjects) {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        session.Query(absl::StrCat("SELECT failures, last_failure_us, "
                                   "locked_until_us FROM sign_in_throttle "
                                   "WHERE subject = ?",
                                   suffix),
                      {SqlText(subject)}));
    ThrottleState state;
    if (!rows.empty()) {
      state.failures = static_cast<int>(rows.front().Int(0));
      state.last_failure = TimeOrPast(rows.front().Int(1));
      state.locked_until = TimeOrPast(rows.front().Int(2));
    }
    states.emplace_back(subject, state);
  }
  return states;
}

}  // namespace

absl::Time NextAttemptAt(const ThrottleState& state,
                         const ThrottlePolicy& policy, absl::Time now) {
  if (state.locked_until > now) return state.locked_until;
  if (state.failures <= policy.free_failures ||
      now - state.last_failure > policy.window) {
    return now;
  }
  // Doubling from first_delay; the exponent is capped before it can
  // overflow the shift.
  const int doublings = std::min(state.failures - policy.free_failures - 1, 20);
  const absl::Duration delay = std::min(
      policy.first_delay * (int64_t{1} << doublings), policy.max_delay);
  return std::max(now, state.last_failure + delay);
}

ThrottleState AfterFailure(ThrottleState state, const ThrottlePolicy& policy,
                           absl::Time now) {
  const bool lock_ended =
      state.locked_until != absl::InfinitePast() && state.locked_until <= now;
  if (lock_ended || now - state.last_failure > policy.window) {
    state = ThrottleState();
  }
  ++state.failures;
  state.last_failure = now;
  if (state.failures >= policy.lock_after) {
    state.locked_until = now + policy.lock_for;
  }
  return state;
}

std::string LoginSubject(absl::string_view login) {
  return absl::StrCat(
      "login:",
      HashToken(absl::AsciiStrToLower(absl::StripAsciiWhitespace(login))));
}

std::string AddressSubject(absl::string_view address) {
  if (address.size() > 45) return "";
  const std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    char out[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &v4, out, sizeof(out));
    return absl::StrCat("address:", out);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return "";
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, &v6.s6_addr[12], 4);
    char out[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &v4, out, sizeof(out));
    return absl::StrCat("address:", out);
  }
  std::memset(&v6.s6_addr[8], 0, 8);  // the /64
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &v6, out, sizeof(out));
  return absl::StrCat("address:", out, "/64");
}

SignInThrottle::SignInThrottle(Database* database, const Clock* clock)
    : database_(database), clock_(clock) {}

absl::StatusOr<bool> SignInThrottle::Attempt(
    const std::vector<std::string>& subjects) {
  const absl::Time now = clock_->Now();
  // Rows are locked in one order (sorted), and each is made to exist before
  // it is read: a locking read of a missing row would take a gap lock, and
  // concurrent sign-ins inserting into one gap deadlock. An insert that
  // finds the row takes its exclusive lock at once (ON DUPLICATE KEY
  // UPDATE), never a shared one to be upgraded later.
  std::vector<std::string> ordered = subjects;
  std::sort(ordered.begin(), ordered.end());
  ordered.erase(std::unique(ordered.begin(), ordered.end()), ordered.end());
  absl::StatusOr<bool> locked = database_->TransactFor<bool>(
      [&](Session& session) -> absl::StatusOr<bool> {
        for (const std::string& subject : ordered) {
          SMZ_RETURN_IF_ERROR(
              session
                  .Execute("INSERT INTO sign_in_throttle (subject, failures, "
                           "last_failure_us, locked_until_us) VALUES (?, 0, 0, "
                           "0) ON DUPLICATE KEY UPDATE subject = subject",
                           {SqlText(subject)})
                  .status());
        }
        SMZ_ASSIGN_OR_RETURN(auto states,
                             ReadStates(session, ordered, " FOR UPDATE"));
        absl::Time next = now;
        for (const auto& [subject, state] : states) {
          next = std::max(next, NextAttemptAt(state, PolicyOf(subject), now));
        }
        if (next > now) {
          return absl::ResourceExhaustedError(
              absl::StrCat("too many failed sign-ins; try again in ",
                           static_cast<int64_t>(
                               std::ceil(absl::ToDoubleSeconds(next - now))),
                           " s"));
        }
        bool locked = false;
        for (const auto& [subject, before] : states) {
          const ThrottleState after =
              AfterFailure(before, PolicyOf(subject), now);
          locked |= after.locked_until > now;
          SMZ_RETURN_IF_ERROR(
              session
                  .Execute("UPDATE sign_in_throttle SET failures = ?, "
                           "last_failure_us = ?, locked_until_us = ? WHERE "
                           "subject = ?",
                           {SqlInt(after.failures),
                            SqlInt(MicrosOrZero(after.last_failure)),
                            SqlInt(MicrosOrZero(after.locked_until)),
                            SqlText(subject)})
                  .status());
        }
        return locked;
      });
  if (!locked.ok()) return locked.status();
  // Old rows go a few at a time, in a statement of their own: inside the
  // transaction its range locks would make concurrent attempts deadlock.
  const int64_t forget_before = absl::ToUnixMicros(now - kForgetAfter);
  (void)database_->Run([&](Session& session) {
    return session
        .Execute(absl::StrCat("DELETE FROM sign_in_throttle WHERE "
                              "last_failure_us < ? AND locked_until_us < ? "
                              "LIMIT ",
                              kForgetPerFailure),
                 {SqlInt(forget_before), SqlInt(forget_before)})
        .status();
  });
  return locked;
}

absl::Status SignInThrottle::Succeeded(
    const std::vector<std::string>& subjects) {
  return database_->Run([&](Session& session) -> absl::Status {
    for (const std::string& subject : subjects) {
      SMZ_RETURN_IF_ERROR(
          session
              // Rows stay (a missing one would be locked by gap, see
              // Attempt); the age-based clean-up removes them.
              .Execute(absl::StartsWith(subject, "login:")
                           ? "UPDATE sign_in_throttle SET failures = 0, "
                             "locked_until_us = 0 WHERE subject = ?"
                           : "UPDATE sign_in_throttle SET failures = "
                             "GREATEST(failures - 1, 0) WHERE subject = ?",
                       {SqlText(subject)})
              .status());
    }
    return absl::OkStatus();
  });
}

}  // namespace smz::registry
