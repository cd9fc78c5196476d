#include "services/registry/account_mail.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/mail/mail_text.h"
#include "services/registry/account_store.h"

namespace smz::registry {

OutgoingMail RenderAccountLinkMail(const v1::Account& account,
                                   absl::string_view purpose,
                                   absl::string_view url,
                                   absl::Time expire_time) {
  const bool english = account.preferred_language() == "en";
  const bool invite = purpose == kInviteLinkPurpose;
  const std::string name = MailLine(account.display_name(), 400);
  const std::string until =
      absl::FormatTime("%Y-%m-%d %H:%M", expire_time, SeoulTimeZone());
  std::string subject, greeting, lead, after, signature;
  if (english) {
    subject = invite ? "Your account in the Yeongdeungpo Smart Medical Zone"
                     : "Set a new password: Yeongdeungpo Smart Medical Zone";
    greeting = absl::StrCat("Dear ", name, ",");
    lead = invite
               ? absl::StrCat("The district has opened an account for you (",
                              account.login(),
                              "). Open this link to choose your password; it "
                              "works once, until ",
                              until, " (Seoul):")
               : absl::StrCat(
                     "The district has reset the password of your "
                     "account (",
                     account.login(),
                     "). Open this link to choose a new one; it "
                     "works once, until ",
                     until, " (Seoul):");
    after =
        "If you did not expect this mail, do not open the link and tell the "
        "district's office.";
    signature = "Yeongdeungpo Smart Medical Zone";
  } else {
    subject = invite ? "영등포 스마트메디컬특구 계정이 만들어졌습니다"
                     : "영등포 스마트메디컬특구 비밀번호 재설정";
    greeting = absl::StrCat(name, "님, 안녕하세요.");
    lead = invite
               ? absl::StrCat("구청에서 계정(", account.login(),
                              ")을 만들었습니다. 아래 링크를 열어 비밀번호를 "
                              "정해 주세요. 링크는 ",
                              until, "까지 한 번만 쓸 수 있습니다:")
               : absl::StrCat("구청에서 계정(", account.login(),
                              ")의 비밀번호를 초기화했습니다. 아래 링크를 "
                              "열어 새 비밀번호를 정해 주세요. 링크는 ",
                              until, "까지 한 번만 쓸 수 있습니다:");
    after =
        "이 메일을 기다리지 않으셨다면 링크를 열지 말고 구청 담당자에게 "
        "알려 주세요.";
    signature = "영등포구 스마트메디컬특구";
  }
  OutgoingMail mail;
  mail.topic = invite ? "account.invited" : "account.reset";
  mail.dedupe_key = absl::StrCat(mail.topic, ".", account.id(), ".",
                                 absl::ToUnixMicros(expire_time));
  mail.recipient = account.email();
  mail.recipient_name = MailLine(name);
  mail.language = english ? "en" : "ko";
  mail.subject = subject;
  mail.text = absl::StrCat(greeting, "\n\n", lead, "\n", url, "\n\n", after,
                           "\n\n— ", signature, "\n");
  mail.html = absl::StrCat("<div lang=\"", mail.language, "\"><p>",
                           HtmlEscaped(greeting), "</p><p>", HtmlEscaped(lead),
                           "<br><a href=\"", HtmlEscaped(url), "\">",
                           HtmlEscaped(url), "</a></p><p>", HtmlEscaped(after),
                           "</p><p>— ", HtmlEscaped(signature), "</p></div>");
  mail.secret = MailSecret::kErasedWhenSentOrFailed;
  return mail;
}

}  // namespace smz::registry
