#include "services/registry/password_hasher.h"

#include <sodium.h>

#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "common/text_checks.h"

namespace smz::registry {
namespace {

void InitSodiumOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Fails only when the system has no randomness source, which no smz
    // process can run without.
    if (sodium_init() < 0) std::abort();
  });
}

absl::Status Busy() {
  return absl::UnavailableError(
      "too many sign-ins at once; try again in a moment");
}

}  // namespace

absl::Status CheckPasswordRules(absl::string_view password,
                                absl::string_view field) {
  if (password.size() > kMaxPasswordBytes) {
    return InvalidField(
        std::string(field),
        absl::StrCat("is longer than ", kMaxPasswordBytes, " bytes"));
  }
  if (!IsValidUtf8(password)) {
    return InvalidField(std::string(field), "is not valid UTF-8");
  }
  for (char c : password) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return InvalidField(std::string(field), "contains a control character");
    }
  }
  if (Utf8Length(password) < kMinPasswordChars) {
    return InvalidField(
        std::string(field),
        absl::StrCat("is shorter than ", kMinPasswordChars, " characters"));
  }
  return absl::OkStatus();
}

// First come, first served: a check waits for the ones that arrived before
// it, never for luck (absl::Mutex wakes waiters in no promised order, which
// let some sign-ins wait 45 checks while others waited none).
class PasswordHasher::Slot {
 public:
  explicit Slot(const PasswordHasher& hasher) : hasher_(hasher) {
    absl::MutexLock lock(&hasher_.mu_);
    if (hasher_.next_ticket_ - hasher_.finished_ >=
        static_cast<uint64_t>(hasher_.concurrency_ + hasher_.max_waiting_)) {
      return;  // not admitted
    }
    admitted_ = true;
    const uint64_t ticket = hasher_.next_ticket_++;
    auto my_turn = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(hasher_.mu_) {
      return ticket < hasher_.finished_ + hasher_.concurrency_;
    };
    hasher_.mu_.Await(absl::Condition(&my_turn));
  }
  ~Slot() {
    if (!admitted_) return;
    absl::MutexLock lock(&hasher_.mu_);
    ++hasher_.finished_;
  }
  bool admitted() const { return admitted_; }

 private:
  const PasswordHasher& hasher_;
  bool admitted_ = false;
};

PasswordHasher::PasswordHasher(PasswordCost cost, int concurrency,
                               int max_waiting)
    : cost_(cost),
      concurrency_(concurrency > 0
                       ? concurrency
                       : std::max(1u, std::thread::hardware_concurrency())),
      max_waiting_(std::max(0, max_waiting)) {
  InitSodiumOnce();
  unsigned char random[32];
  randombytes_buf(random, sizeof(random));
  absl::StatusOr<std::string> burn = Hash(
      absl::string_view(reinterpret_cast<const char*>(random), sizeof(random)));
  burn_hash_ = burn.ok() ? *burn : "";
}

absl::StatusOr<std::string> PasswordHasher::Hash(
    absl::string_view password) const {
  char stored[crypto_pwhash_STRBYTES];
  Slot slot(*this);
  if (!slot.admitted()) return Busy();
  if (crypto_pwhash_str_alg(stored, password.data(), password.size(),
                            cost_.passes, cost_.memory_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError(
        "no memory for a password hash now; try again");
  }
  return std::string(stored);
}

absl::StatusOr<bool> PasswordHasher::Verify(absl::string_view stored,
                                            absl::string_view password) const {
  if (stored.size() >= crypto_pwhash_STRBYTES ||
      stored.rfind("$argon2id$", 0) != 0) {
    return absl::InternalError("a stored password hash is not Argon2id");
  }
  // libsodium reads a NUL-terminated string.
  char terminated[crypto_pwhash_STRBYTES] = {};
  stored.copy(terminated, stored.size());
  Slot slot(*this);
  if (!slot.admitted()) return Busy();
  return crypto_pwhash_str_verify(terminated, password.data(),
                                  password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(absl::string_view stored) const {
  if (stored.size() >= crypto_pwhash_STRBYTES) return true;
  char terminated[crypto_pwhash_STRBYTES] = {};
  stored.copy(terminated, stored.size());
  // 1 when the parameters differ, -1 when it is not an Argon2id hash.
  return crypto_pwhash_str_needs_rehash(terminated, cost_.passes,
                                        cost_.memory_bytes) != 0;
}

absl::Status PasswordHasher::BurnVerify(absl::string_view password) const {
  // Without the hash made at start (no memory then), hashing costs the same.
  if (burn_hash_.empty()) return Hash(password).status();
  return Verify(burn_hash_, password).status();
}

}  // namespace smz::registry
