// The mail that brings a person their one-time account link: an invitation
// to the zone's workspace, or a password reset an administrator started.
// Written in the account's language (Korean, or English), it carries the
// gateway's page with the link's token after '#' (never sent to a server
// by a browser), says until when it works, and is erased from the outbox
// once sent or failed for good (MailSecret::kErasedWhenSentOrFailed: the
// token sets the account's password). Queued by AccountStore in the
// transaction that stores the link, so a link and its mail exist together
// or not at all.
//
//   OutgoingMail mail = RenderAccountLinkMail(account, kInviteLinkPurpose,
//       "https://smz.example.org/account/password#smzl_...", expire_time);
#ifndef SMZ_SERVICES_REGISTRY_ACCOUNT_MAIL_H_
#define SMZ_SERVICES_REGISTRY_ACCOUNT_MAIL_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mail/outbox.h"
#include "smz/registry/v1/accounts.pb.h"

namespace smz::registry {

// `purpose`: kInviteLinkPurpose or kResetLinkPurpose (account_store.h).
// `url`: the whole link, the gateway's address included. The dedupe key
// names the account and the link (by its expiry), so a new link is a new
// mail and a retried transaction is not.
OutgoingMail RenderAccountLinkMail(const v1::Account& account,
                                   absl::string_view purpose,
                                   absl::string_view url,
                                   absl::Time expire_time);

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_ACCOUNT_MAIL_H_
