#include "common/mail/mail_message.h"

#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_util.h"
#include "common/text_checks.h"

namespace smz {
namespace {

constexpr size_t kMaxSubjectBytes = 998;
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxBodyBytes = 1 << 20;
// Bytes of UTF-8 per encoded word: 4/3 of it, with "=?UTF-8?B?" and "?=",
// stays within a 78-character line after a header name or a fold.
constexpr size_t kEncodedWordBytes = 42;

bool IsMessageId(absl::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  const size_t at = id.find('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 == id.size() ||
      id.find('@', at + 1) != absl::string_view::npos) {
    return false;
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == '_' || c == '@';
    if (!ok) return false;
  }
  return true;
}

bool HasLineBreak(absl::string_view text) {
  return text.find_first_of("\r\n") != absl::string_view::npos;
}

// `text` as RFC 2047 "B" encoded words, each whole UTF-8 characters, joined
// by a fold (CRLF and a space) so that no line grows past 78 characters.
std::string EncodedWords(absl::string_view text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + kEncodedWordBytes);
    // Back to the start of a character: continuation bytes are 10xxxxxx.
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    absl::StrAppend(&out, "=?UTF-8?B?",
                    absl::Base64Escape(text.substr(start, end - start)), "?=");
    start = end;
  }
  return out;
}

// A body part's content as base64 in lines of 76 characters.
std::string Base64Lines(absl::string_view content) {
  const std::string encoded = absl::Base64Escape(content);
  std::string out;
  for (size_t i = 0; i < encoded.size(); i += 76) {
    absl::StrAppend(&out, encoded.substr(i, 76), "\r\n");
  }
  return out;
}

std::string Part(absl::string_view type, absl::string_view content) {
  return absl::StrCat("Content-Type: ", type,
                      "; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n",
                      Base64Lines(content));
}

}  // namespace

absl::Status ValidateMail(const MailMessage& mail) {
  FieldViolations violations;
  if (!IsEmailAddress(mail.from)) {
    violations.Add("from", "is not an e-mail address");
  }
  if (!IsEmailAddress(mail.to))
    violations.Add("to", "is not an e-mail address");
  if (mail.from_name.size() > kMaxNameBytes || HasLineBreak(mail.from_name) ||
      !IsValidUtf8(mail.from_name)) {
    violations.Add("from_name", "must be one line of UTF-8, at most 200 bytes");
  }
  if (mail.subject.empty() || mail.subject.size() > kMaxSubjectBytes ||
      HasLineBreak(mail.subject) || !IsValidUtf8(mail.subject)) {
    violations.Add("subject", "must be one line of UTF-8, 1 to 998 bytes");
  }
  if (mail.text.empty() || mail.text.size() > kMaxBodyBytes ||
      !IsValidUtf8(mail.text)) {
    violations.Add("text", "is required: UTF-8, at most 1 MiB");
  }
  if (mail.html.size() > kMaxBodyBytes || !IsValidUtf8(mail.html)) {
    violations.Add("html", "must be UTF-8, at most 1 MiB");
  }
  if (!IsMessageId(mail.message_id)) {
    violations.Add("message_id", "must be local@domain of [A-Za-z0-9._-]");
  }
  if (!mail.language.empty() && !IsLocaleTag(mail.language)) {
    violations.Add("language", "is not a BCP 47 tag such as ko or mn");
  }
  return violations.ToStatus();
}

absl::StatusOr<std::string> FormatMime(const MailMessage& mail,
                                       absl::Time date) {
  if (absl::Status valid = ValidateMail(mail); !valid.ok()) return valid;
  std::string from = absl::StrCat("<", mail.from, ">");
  if (!mail.from_name.empty()) {
    from = absl::StrCat(EncodedWords(mail.from_name), "\r\n ", from);
  }
  std::string out = absl::StrCat("Date: ",
                                 absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000",
                                                  date, absl::UTCTimeZone()),
                                 "\r\nFrom: ", from, "\r\nTo: <", mail.to,
                                 ">\r\nSubject: ", EncodedWords(mail.subject),
                                 "\r\nMessage-ID: <", mail.message_id,
                                 ">\r\nMIME-Version: 1.0\r\n");
  if (!mail.language.empty()) {
    absl::StrAppend(&out, "Content-Language: ", mail.language, "\r\n");
  }
  if (mail.html.empty()) {
    absl::StrAppend(&out, Part("text/plain", mail.text));
    return out;
  }
  // No base64 line can hold "=_": the boundary cannot occur in a part.
  const std::string boundary =
      absl::StrCat("=_smz_", absl::Base64Escape(mail.message_id).substr(0, 24));
  absl::StrAppend(&out, "Content-Type: multipart/alternative; boundary=\"",
                  boundary, "\"\r\n\r\n--", boundary, "\r\n",
                  Part("text/plain", mail.text), "--", boundary, "\r\n",
                  Part("text/html", mail.html), "--", boundary, "--\r\n");
  return out;
}

}  // namespace smz
