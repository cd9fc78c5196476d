// Account passwords, stored only as Argon2id hashes (libsodium's
// crypto_pwhash_str: a PHC string holding the algorithm, parameters, a
// random salt and the hash, e.g. "$argon2id$v=19$m=9216,t=4,p=1$...").
//
//   PasswordHasher hasher;                        // kDefaultPasswordCost
//   absl::Status fine = CheckPasswordRules(password);
//   absl::StatusOr<std::string> stored = hasher.Hash(password);
//   absl::StatusOr<bool> same = hasher.Verify(*stored, attempt);
//   if (*same && hasher.NeedsRehash(*stored)) { /* store Hash(attempt) */ }
//
// The cost: Argon2id with 9 MiB and 4 passes, one of the equivalent
// settings OWASP's Password Storage Cheat Sheet recommends (libsodium
// computes one lane). Chosen by password_hash_benchmark on this 2-core
// machine against the goal of p99 <= 300 ms while 16 sign-ins run at once:
//   m=19 MiB t=2: one check 38 ms, 16 at once p99 390 ms (missed)
//   m=12 MiB t=3: one check 20 ms, 16 at once p99 301 ms (at the edge)
//   m=9 MiB  t=4: one check 17 ms, 16 at once p99 242 ms (chosen)
//   m=7 MiB  t=5: one check 15 ms, 16 at once p99 200-294 ms (noisy)
// A check is CPU and memory bound, so at most `concurrency` run at once
// (one per core by default), first come first served, and the rest wait
// their turn: the p99 is about callers / cores checks, and memory stays at
// `concurrency` x 9 MiB whatever the load.
//
// Sign-ins for accounts that do not exist call BurnVerify, which costs what
// a Verify costs, so that timing does not tell who has an account.
#ifndef SMZ_SERVICES_REGISTRY_PASSWORD_HASHER_H_
#define SMZ_SERVICES_REGISTRY_PASSWORD_HASHER_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace smz::registry {

struct PasswordCost {
  uint64_t passes = 4;                    // Argon2 t
  size_t memory_bytes = size_t{9} << 20;  // Argon2 m
};
inline constexpr PasswordCost kDefaultPasswordCost{};

// Passwords are 10 to 256 bytes of UTF-8 without control characters
// (NIST SP 800-63B: length, not composition rules). INVALID_ARGUMENT on
// `field` saying which rule failed, never echoing the password.
inline constexpr size_t kMinPasswordChars = 10;
inline constexpr size_t kMaxPasswordBytes = 256;
absl::Status CheckPasswordRules(absl::string_view password,
                                absl::string_view field = "password");

class PasswordHasher {
 public:
  // `concurrency` 0: one hash at a time per core. At most `max_waiting`
  // more wait their turn; beyond them Hash and Verify answer UNAVAILABLE at
  // once, so a flood of sign-ins holds a bounded number of the server's
  // threads and the registry's other calls go on.
  explicit PasswordHasher(PasswordCost cost = kDefaultPasswordCost,
                          int concurrency = 0, int max_waiting = 64);

  // The PHC string to store. RESOURCE_EXHAUSTED if the memory for the hash
  // cannot be had; UNAVAILABLE when too many wait.
  absl::StatusOr<std::string> Hash(absl::string_view password) const;

  // Whether `password` is the one `stored` was made from. INTERNAL for a
  // stored value that is no Argon2id hash (at once: accounts without a
  // password go through BurnVerify); UNAVAILABLE when too many wait.
  // libsodium answers a lack of memory as a mismatch.
  absl::StatusOr<bool> Verify(absl::string_view stored,
                              absl::string_view password) const;

  // Whether `stored` was made at other parameters than this hasher's (then
  // it is replaced at the next successful sign-in).
  bool NeedsRehash(absl::string_view stored) const;

  // Costs what Verify costs, for a sign-in to an account that does not
  // exist or cannot sign in. Fails as Verify would (UNAVAILABLE when too
  // many wait), so that a busy hasher answers alike for every account.
  absl::Status BurnVerify(absl::string_view password) const;

  const PasswordCost& cost() const { return cost_; }

 private:
  // Holds one of the `concurrency` slots while it lives.
  class Slot;

  const PasswordCost cost_;
  const int concurrency_;
  const int max_waiting_;
  std::string burn_hash_;  // a hash of a random password, for BurnVerify
  mutable absl::Mutex mu_;
  // Checks are served in ticket order, `concurrency_` at a time.
  mutable uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  mutable uint64_t finished_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_PASSWORD_HASHER_H_
