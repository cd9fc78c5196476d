#include "services/registry/totp.h"

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace smz::registry {
namespace {

void InitOathOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Fails only on a broken installation, where no code could be checked.
    if (oath_init() != OATH_OK) std::abort();
  });
}

constexpr char kBase32Alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

// Compares liboath's candidate code with the one typed in constant time.
int CompareCode(void* typed, const char* candidate) {
  const auto* code = static_cast<const std::string*>(typed);
  if (std::strlen(candidate) != code->size()) return 1;
  return CRYPTO_memcmp(candidate, code->data(), code->size()) == 0 ? 0 : 1;
}

std::string PercentEncode(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

}  // namespace

std::string NewTotpSecret(RandomSource& random) {
  std::string secret(kTotpSecretBytes, '\0');
  random.Fill(
      absl::MakeSpan(reinterpret_cast<uint8_t*>(secret.data()), secret.size()));
  return secret;
}

std::string Base32(absl::string_view bytes) {
  InitOathOnce();
  char* out = nullptr;
  size_t out_length = 0;
  if (oath_base32_encode(bytes.data(), bytes.size(), &out, &out_length) !=
      OATH_OK) {
    return "";
  }
  std::string encoded(out, out_length);
  std::free(out);
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return encoded;
}

std::string DecodeBase32(absl::string_view text) {
  InitOathOnce();
  char* out = nullptr;
  size_t out_length = 0;
  if (oath_base32_decode(text.data(), text.size(), &out, &out_length) !=
      OATH_OK) {
    return "";
  }
  std::string decoded(out, out_length);
  std::free(out);
  return decoded;
}

std::string TotpUri(absl::string_view secret, absl::string_view issuer,
                    absl::string_view account) {
  return absl::StrCat(
      "otpauth://totp/", PercentEncode(issuer), ":", PercentEncode(account),
      "?secret=", Base32(secret), "&issuer=", PercentEncode(issuer),
      "&algorithm=SHA1&digits=", kTotpDigits, "&period=", kTotpStepSeconds);
}

std::string TotpCode(absl::string_view secret, absl::Time time) {
  InitOathOnce();
  char code[kTotpDigits + 1] = {};
  if (oath_totp_generate(secret.data(), secret.size(), absl::ToTimeT(time),
                         kTotpStepSeconds, 0, kTotpDigits, code) != OATH_OK) {
    return "";
  }
  return code;
}

absl::StatusOr<int64_t> VerifyTotp(absl::string_view secret,
                                   absl::string_view code, absl::Time now,
                                   int64_t last_step) {
  if (code.size() != kTotpDigits) {
    return InvalidField("code",
                        absl::StrCat("is not ", kTotpDigits, " digits"));
  }
  for (char c : code) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return InvalidField("code",
                          absl::StrCat("is not ", kTotpDigits, " digits"));
    }
  }
  // A secret of any other size is no enrolment: never a code to guess.
  if (secret.size() != kTotpSecretBytes) {
    return absl::FailedPreconditionError("no second factor is enrolled");
  }
  InitOathOnce();
  std::string typed(code);
  int position = 0;
  uint64_t step = 0;
  const int found = oath_totp_validate3_callback(
      secret.data(), secret.size(), absl::ToTimeT(now), kTotpStepSeconds, 0,
      kTotpDigits, /*window=*/1, &position, &step, &CompareCode, &typed);
  if (found < 0 || static_cast<int64_t>(step) <= last_step) {
    return absl::UnauthenticatedError(
        "the code is not the current one, or was used already");
  }
  return static_cast<int64_t>(step);
}

std::vector<std::string> NewRecoveryCodes(RandomSource& random) {
  std::vector<std::string> codes;
  for (int i = 0; i < kRecoveryCodeCount; ++i) {
    uint8_t bytes[12];
    random.Fill(absl::MakeSpan(bytes));
    std::string code;
    for (int j = 0; j < 12; ++j) {
      if (j == 4 || j == 8) code.push_back('-');
      code.push_back(kBase32Alphabet[bytes[j] % 32]);
    }
    codes.push_back(std::move(code));
  }
  return codes;
}

std::string NormalizeRecoveryCode(absl::string_view typed) {
  if (typed.size() > 64) return "";
  std::string letters;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    const char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
    if (std::strchr(kBase32Alphabet, lower) == nullptr || lower == '\0') {
      return "";
    }
    letters.push_back(lower);
  }
  if (letters.size() != 12) return "";
  return absl::StrCat(letters.substr(0, 4), "-", letters.substr(4, 4), "-",
                      letters.substr(8, 4));
}

}  // namespace smz::registry
