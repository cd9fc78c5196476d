// Small text helpers for the mail services write: HTML escaping for a
// body's HTML part, and one line of whole UTF-8 characters for what goes
// into a header or a bounded column (a subject, a recipient's name).
//
//   absl::StrAppend(&html, "<p>", smz::HtmlEscaped(lead), "</p>");
//   mail.recipient_name = smz::MailLine(contact.name());  // <= 200 bytes
#ifndef SMZ_COMMON_MAIL_MAIL_TEXT_H_
#define SMZ_COMMON_MAIL_MAIL_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace smz {

// & < > " ' as entities.
std::string HtmlEscaped(absl::string_view text);

// `text` with every C0 control and DEL a space, cut to at most `max_bytes`
// bytes without splitting a UTF-8 character (200: the outbox's
// recipient_name column).
std::string MailLine(absl::string_view text, size_t max_bytes = 200);

}  // namespace smz

#endif  // SMZ_COMMON_MAIL_MAIL_TEXT_H_
