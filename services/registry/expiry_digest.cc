#include "services/registry/expiry_digest.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "common/mail/mail_text.h"
#include "common/request_fields.h"

namespace smz::registry {
namespace {

std::string NameOf(const v1::ExpiringItem& item) {
  for (const char* locale : {"ko", "en"}) {
    auto it = item.partner_name().find(locale);
    if (it != item.partner_name().end() && !it->second.empty()) {
      return it->second;
    }
  }
  return absl::StrCat("#", item.partner_id());
}

// One line of the digest: "여의도병원 — 지정 기간 2027-01-31 (D-58)".
std::string LineOf(const v1::ExpiringItem& item) {
  std::string line =
      absl::StrCat(NameOf(item), " — ",
                   item.kind() == v1::DESIGNATION_TERM ? "지정 기간 끝"
                                                       : "유치기관 등록 만료",
                   " ", item.ends_on());
  if (!item.registration_number().empty()) {
    absl::StrAppend(&line, " (등록번호 ", item.registration_number(), ")");
  }
  absl::StrAppend(&line,
                  item.days_left() >= 0
                      ? absl::StrCat(" · D-", item.days_left())
                      : absl::StrCat(" · ", -item.days_left(), "일 지남"));
  // Names come from the registry: one line each, whatever they hold.
  return MailLine(line, line.size());
}

}  // namespace

OutgoingMail RenderExpiryDigest(const std::vector<v1::ExpiringItem>& items,
                                absl::CivilDay week_monday,
                                absl::string_view recipient,
                                absl::string_view public_url) {
  const int overdue = static_cast<int>(std::count_if(
      items.begin(), items.end(),
      [](const v1::ExpiringItem& i) { return i.days_left() < 0; }));
  const std::string link = absl::StrCat(public_url, "/admin/partners");
  OutgoingMail mail;
  mail.topic = "partners.expiring";
  mail.recipient = std::string(recipient);
  mail.language = "ko";
  mail.subject = absl::StrCat(
      "[", FormatDate(week_monday), " 주] 90일 안에 끝나는 지정·등록 ",
      items.size(), "건",
      overdue > 0 ? absl::StrCat(" (이미 지난 ", overdue, "건)") : "");
  std::string text = absl::StrCat(
      "90일 안에 끝나거나 이미 끝난 특화사업자·협력기관 지정 기간과 유치기관 "
      "등록입니다. 재지정이나 등록 갱신이 필요한지 확인해 주세요.\n\n");
  std::string html = absl::StrCat(
      "<div lang=\"ko\"><p>90일 안에 끝나거나 이미 끝난 특화사업자·협력기관 "
      "지정 기간과 유치기관 등록입니다. 재지정이나 등록 갱신이 필요한지 확인해 "
      "주세요.</p><ul>");
  for (const v1::ExpiringItem& item : items) {
    const std::string line = LineOf(item);
    absl::StrAppend(&text, "- ", line, "\n");
    absl::StrAppend(&html, "<li>", HtmlEscaped(line), "</li>");
  }
  absl::StrAppend(&text, "\n협력기관 관리: ", link,
                  "\n\n— 영등포구 스마트메디컬특구\n");
  absl::StrAppend(&html, "</ul><p>협력기관 관리: <a href=\"", HtmlEscaped(link),
                  "\">", HtmlEscaped(link),
                  "</a></p><p>— 영등포구 스마트메디컬특구</p></div>");
  mail.text = std::move(text);
  mail.html = std::move(html);
  mail.dedupe_key =
      absl::StrCat(mail.topic, ".", FormatDate(week_monday), ".",
                   HashToken(absl::AsciiStrToLower(recipient)).substr(0, 32));
  return mail;
}

absl::StatusOr<int> QueueExpiryDigest(
    RegistryStore& store, Database& database, absl::Time now,
    const std::vector<std::string>& recipients, absl::string_view public_url) {
  if (recipients.empty()) return 0;
  const absl::CivilHour local = absl::ToCivilHour(now, SeoulTimeZone());
  const absl::CivilDay today(local);
  // Monday of this week (absl: Monday is the first weekday).
  const absl::CivilDay monday =
      absl::PrevWeekday(today + 1, absl::Weekday::monday);
  if (today == monday && local.hour() < 9) return 0;
  ExpiringQuery query;
  query.as_of = today;
  query.within_days = kExpiryDigestDays;
  query.include_overdue = true;
  query.limit = 500;
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::ExpiringItem> items,
                       store.ListExpiring(query));
  if (items.empty()) return 0;
  std::vector<OutgoingMail> mail;
  for (const std::string& recipient : recipients) {
    mail.push_back(RenderExpiryDigest(items, monday, recipient, public_url));
  }
  return EnqueueAll(database, mail, now);
}

}  // namespace smz::registry
