#include "common/mail/mail_message.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/mail/qr_png.h"
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

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

// RFC 5322 dot-atom text of letters, digits and `allowed`: no empty atom
// (no leading, trailing or doubled dot).
bool IsDotAtom(absl::string_view text, absl::string_view allowed) {
  if (text.empty()) return false;
  bool atom_empty = true;
  for (char c : text) {
    if (c == '.') {
      if (atom_empty) return false;
      atom_empty = true;
    } else if (IsAsciiAlnum(c) || allowed.find(c) != absl::string_view::npos) {
      atom_empty = false;
    } else {
      return false;
    }
  }
  return !atom_empty;
}

// A domain of at least two LDH labels (letters, digits, inner hyphens).
bool IsHostName(absl::string_view domain) {
  if (domain.size() > 253 || !IsDotAtom(domain, "-")) return false;
  size_t labels = 0;
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    if (label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    ++labels;
  }
  return labels >= 2;
}

// local@domain, dot-atoms of [A-Za-z0-9._-], short enough for its header
// line to stay within 78 characters.
bool IsMessageId(absl::string_view id) {
  if (id.size() > 60) return false;
  const size_t at = id.find('@');
  if (at == absl::string_view::npos) return false;
  return IsDotAtom(id.substr(0, at), "_-") &&
         IsDotAtom(id.substr(at + 1), "_-");
}

// C0 controls (line breaks above all) and DEL have no place in a header.
bool HasControl(absl::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  });
}

// RFC 5322's date, in English whatever the process's locale.
std::string MailDate(absl::Time date) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu",
                                          "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr",
                                            "May", "Jun", "Jul", "Aug",
                                            "Sep", "Oct", "Nov", "Dec"};
  const absl::CivilSecond t = absl::ToCivilSecond(date, absl::UTCTimeZone());
  const int weekday = static_cast<int>(absl::GetWeekday(t));  // Monday: 0
  return absl::StrFormat("%s, %02d %s %04d %02d:%02d:%02d +0000",
                         kDays[weekday], t.day(), kMonths[t.month() - 1],
                         t.year(), t.hour(), t.minute(), t.second());
}

// Text with CRLF line ends, as MIME wants text before it is encoded.
std::string CrLf(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

// `text` as RFC 2047 "B" encoded words, each of whole UTF-8 characters,
// joined by a fold (CRLF and a space) so that no line passes 78 characters.
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
                      Base64Lines(CrLf(content)));
}

}  // namespace

std::string QrContentId(absl::string_view qr_code) {
  return absl::StrCat("qr.", HashToken(qr_code).substr(0, 16), "@smz");
}

bool IsMailAddress(absl::string_view address) {
  if (address.size() > 254) return false;
  const size_t at = address.rfind('@');
  if (at == absl::string_view::npos || at > 64) return false;
  return IsDotAtom(address.substr(0, at), "!#$%&'*+/=?^_`{|}~-") &&
         IsHostName(address.substr(at + 1));
}

absl::Status ValidateMail(const MailMessage& mail) {
  FieldViolations violations;
  if (!IsMailAddress(mail.from)) {
    violations.Add("from", "is not a plain ASCII e-mail address");
  }
  if (!IsMailAddress(mail.to)) {
    violations.Add("to", "is not a plain ASCII e-mail address");
  }
  if (mail.from_name.size() > kMaxNameBytes || HasControl(mail.from_name) ||
      !IsValidUtf8(mail.from_name)) {
    violations.Add("from_name", "must be one line of UTF-8, at most 200 bytes");
  }
  if (mail.subject.empty() || mail.subject.size() > kMaxSubjectBytes ||
      HasControl(mail.subject) || !IsValidUtf8(mail.subject)) {
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
    violations.Add("message_id",
                   "must be local@domain, dot-atoms of [A-Za-z0-9._-], at most "
                   "60 bytes");
  }
  if (!mail.language.empty() && !IsLocaleTag(mail.language)) {
    violations.Add("language", "is not a BCP 47 tag such as ko or mn");
  }
  if (!mail.qr_code.empty() &&
      (mail.html.empty() || mail.qr_code.size() > kMaxQrTextBytes ||
       std::any_of(mail.qr_code.begin(), mail.qr_code.end(),
                   [](char c) { return c < 0x20 || c > 0x7E; }))) {
    violations.Add("qr_code",
                   absl::StrCat("goes with an HTML body: printable ASCII, at "
                                "most ",
                                kMaxQrTextBytes, " bytes"));
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
  // Automatic mail (RFC 3834): no vacation replies back to smz.
  std::string out = absl::StrCat(
      "Date: ", MailDate(date), "\r\nFrom: ", from, "\r\nTo: <", mail.to,
      ">\r\nSubject: ", EncodedWords(mail.subject), "\r\nMessage-ID: <",
      mail.message_id,
      ">\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
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
  std::string html_part = Part("text/html", mail.html);
  if (!mail.qr_code.empty()) {
    SMZ_ASSIGN_OR_RETURN(const std::string png, QrPng(mail.qr_code));
    // The image belongs to the HTML (RFC 2387): a related part beside it.
    // Its boundary may not start with the outer one (RFC 2046 5.1.2).
    const std::string related = absl::StrCat(
        "=_smzr_", absl::Base64Escape(mail.message_id).substr(0, 24));
    html_part = absl::StrCat(
        "Content-Type: multipart/related; type=\"text/html\";\r\n boundary=\"",
        related, "\"\r\n\r\n--", related, "\r\n", html_part, "--", related,
        "\r\nContent-Type: image/png\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-ID: <",
        QrContentId(mail.qr_code),
        ">\r\nContent-Disposition: inline; filename=\"check-in.png\"\r\n\r\n",
        Base64Lines(png), "--", related, "--\r\n");
  }
  absl::StrAppend(&out, "Content-Type: multipart/alternative; boundary=\"",
                  boundary, "\"\r\n\r\n--", boundary, "\r\n",
                  Part("text/plain", mail.text), "--", boundary, "\r\n",
                  html_part, "--", boundary, "--\r\n");
  return out;
}

}  // namespace smz
