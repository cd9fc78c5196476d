// A mail as smz sends it: one recipient, a subject and a body in plain text
// and in HTML, in the recipient's language, and a Message-ID that stays the
// same however often the mail is sent, so that a mailbox (or a test's
// capture server) can tell a second copy for what it is. Optionally a code
// shown as an inline QR image beside the HTML (a check-in code).
//
//   smz::MailMessage mail;
//   mail.from = "smz@yeongdeungpo.example";
//   mail.from_name = "영등포 스마트메디컬특구";
//   mail.to = "agency@example.mn";
//   mail.subject = "Бүртгэл баталгаажлаа";
//   mail.text = "...";
//   mail.html = "<p>...</p>";
//   mail.message_id = "registration-17.events@smz.yeongdeungpo.example";
//   mail.language = "mn";
//   mail.qr_code = "K7Q2-M9XD-4T1P-ZR8B";  // the HTML shows it as
//   // <img src="cid:{QrContentId(mail.qr_code)}">
//   absl::StatusOr<std::string> bytes = smz::FormatMime(mail, clock.Now());
#ifndef SMZ_COMMON_MAIL_MAIL_MESSAGE_H_
#define SMZ_COMMON_MAIL_MAIL_MESSAGE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace smz {

struct MailMessage {
  // Addresses are plain ASCII (dot-atom@host.name): what a header and the
  // SMTP envelope carry alike.
  std::string from;       // the envelope and the From header
  std::string from_name;  // optional display name (any language)
  std::string to;         // one address
  std::string subject;    // UTF-8, one line
  std::string text;       // UTF-8 plain text; required
  std::string html;       // UTF-8 HTML; optional
  // Without angle brackets: local@domain, dot-atoms of [A-Za-z0-9._-], at
  // most 60 bytes.
  std::string message_id;
  std::string language;  // BCP 47 tag for Content-Language, e.g. "ko"
  // Optional, with `html`: printable ASCII, at most kMaxQrTextBytes
  // (qr_png.h), drawn as a QR image that the HTML shows with
  // src="cid:<QrContentId(qr_code)>".
  std::string qr_code;
};

// The Content-ID of the QR image of `qr_code`: "qr.<16 hex digits>@smz",
// the same for the same code and different for another, since mail
// programs keep inline images by Content-ID across messages.
std::string QrContentId(absl::string_view qr_code);

// An address a header and an SMTP command carry as they are: ASCII, a
// dot-atom local part and a host name; no quoted strings, comments,
// brackets, or 8-bit domains the envelope and the header would spell
// differently. Services check people's addresses with it when they take
// them, so that mail to them can always be written.
bool IsMailAddress(absl::string_view address);

// Every bad field of `mail` named at once (INVALID_ARGUMENT): addresses,
// header fields that would break a line (no header injection), sizes.
absl::Status ValidateMail(const MailMessage& mail);

// The mail as RFC 5322 / MIME bytes (CRLF lines of at most 78 characters
// but for very long addresses), marked Auto-Submitted (RFC 3834):
// the subject and display name as RFC 2047 UTF-8 encoded words, the text
// (and HTML) as base64 UTF-8 parts of a multipart/alternative; the HTML
// and the QR image of `qr_code` in a multipart/related.
absl::StatusOr<std::string> FormatMime(const MailMessage& mail,
                                       absl::Time date);

}  // namespace smz

#endif  // SMZ_COMMON_MAIL_MAIL_MESSAGE_H_
