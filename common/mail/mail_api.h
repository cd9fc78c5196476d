// The smz.mail.v1 view of a service's outbox (common/mail/outbox.h): one
// call for each service's ListXxxMail and RetryXxxMail methods.
//
//   absl::StatusOr<mail::v1::ListMailResponse> page =
//       smz::ListMail(outbox, request);
#ifndef SMZ_COMMON_MAIL_MAIL_API_H_
#define SMZ_COMMON_MAIL_MAIL_API_H_

#include "absl/status/statusor.h"
#include "common/mail/outbox.h"
#include "smz/mail/v1/mail.pb.h"

namespace smz {

// INVALID_ARGUMENT names every bad field (states, page_size, page_token).
absl::StatusOr<mail::v1::ListMailResponse> ListMail(
    Outbox& outbox, const mail::v1::ListMailRequest& request);

absl::StatusOr<mail::v1::Mail> RetryMail(
    Outbox& outbox, const mail::v1::RetryMailRequest& request);

}  // namespace smz

#endif  // SMZ_COMMON_MAIL_MAIL_API_H_
