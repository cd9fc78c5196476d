#include "services/stats/report_reminders.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/mail/mail_message.h"
#include "common/mail/mail_text.h"
#include "common/request_fields.h"
#include "services/stats/report_rules.h"
#include "services/stats/stats_internal.h"

namespace smz::stats {

std::vector<ReportReminder> RemindersDue(
    absl::Time now, const ReminderPolicy& policy,
    const std::vector<ReminderPartner>& partners,
    const std::set<std::pair<int, int64_t>>& submitted) {
  std::vector<ReportReminder> due;
  const absl::CivilMonth this_month = absl::ToCivilMonth(now, SeoulTimeZone());
  // Months whose windows can hold `now`: those ended within the deadline
  // and the overdue window (a few months at most).
  for (absl::CivilMonth month = this_month - 1; month >= this_month - 3;
       --month) {
    const absl::Time deadline = PeriodDeadline(month, policy.deadline_days);
    ReminderKind kind;
    if (now >= deadline - policy.due_before && now < deadline) {
      kind = ReminderKind::kDue;
    } else if (now >= deadline && now < deadline + policy.overdue_for) {
      kind = ReminderKind::kOverdue;
    } else {
      continue;
    }
    for (const ReminderPartner& partner : partners) {
      if (partner.reports_from.has_value() && *partner.reports_from > month) {
        continue;
      }
      if (submitted.count({PeriodNumber(month), partner.id}) > 0) continue;
      due.push_back({&partner, month, kind, deadline});
    }
  }
  return due;
}

OverdueReports CountOverdueReports(
    absl::Time now, const ReminderPolicy& policy,
    const std::vector<ReminderPartner>& partners,
    const std::set<std::pair<int, int64_t>>& submitted) {
  OverdueReports overdue;
  overdue.period = absl::ToCivilMonth(now, SeoulTimeZone()) - 1;
  if (now < PeriodDeadline(overdue.period, policy.deadline_days)) {
    --overdue.period;  // last month's is not late yet
  }
  for (const ReminderPartner& partner : partners) {
    if (partner.reports_from.has_value() &&
        *partner.reports_from > overdue.period) {
      continue;
    }
    if (submitted.count({PeriodNumber(overdue.period), partner.id}) == 0) {
      ++overdue.partners;
    }
  }
  return overdue;
}

OutgoingMail RenderReportReminder(const ReportReminder& reminder,
                                  const registry::v1::Contact& contact,
                                  absl::string_view public_url) {
  const auto& languages = contact.languages();
  const bool english =
      std::find(languages.begin(), languages.end(), "ko") == languages.end() &&
      std::find(languages.begin(), languages.end(), "en") != languages.end();
  const ReminderPartner& partner = *reminder.partner;
  const std::string month = FormatMonth(reminder.period);
  // The deadline is the start of the day after the last one.
  const std::string last_day = absl::FormatTime(
      "%Y-%m-%d", reminder.deadline - absl::Seconds(1), SeoulTimeZone());
  const std::string link =
      absl::StrCat(public_url, "/hospital/report?period=", month);
  const std::string hospital = MailLine(
      english && !partner.name_en.empty() ? partner.name_en : partner.name);
  const std::string name =
      MailLine(contact.name().empty() ? hospital : contact.name());
  const bool overdue = reminder.kind == ReminderKind::kOverdue;
  std::string subject, greeting, lead, action, signature;
  if (english) {
    subject =
        overdue ? absl::StrCat("Overdue: the ", month, " report of ", hospital)
                : absl::StrCat("Due by ", last_day, ": the ", month,
                               " report of ", hospital);
    greeting = absl::StrCat("Dear ", name, ",");
    lead = overdue ? absl::StrCat("The foreign-patient report of ", hospital,
                                  " for ", month, " was due by ", last_day,
                                  " (Seoul) and has not been submitted. It can "
                                  "still be filed; it will be marked late.")
                   : absl::StrCat("The foreign-patient report of ", hospital,
                                  " for ", month, " is due by ", last_day,
                                  " (Seoul). It has not been submitted yet.");
    action = "File it here (sign in first):";
    signature = "Yeongdeungpo Smart Medical Zone";
  } else {
    subject = overdue ? absl::StrCat("[기한 지남] ", hospital, " ", month,
                                     " 외국인환자 유치 실적 보고")
                      : absl::StrCat("[", last_day, "까지] ", hospital, " ",
                                     month, " 외국인환자 유치 실적 보고");
    greeting = absl::StrCat(name, "님, 안녕하세요.");
    lead = overdue
               ? absl::StrCat(hospital, "의 ", month,
                              " 외국인환자 유치 실적 보고 기한(", last_day,
                              ")이 지났지만 아직 제출되지 않았습니다. 지금도 "
                              "제출할 수 있으며, 늦은 보고로 표시됩니다.")
               : absl::StrCat(hospital, "의 ", month,
                              " 외국인환자 유치 실적 보고 기한은 ", last_day,
                              "입니다. 아직 제출되지 않았습니다.");
    action = "아래에서 로그인한 뒤 제출해 주세요:";
    signature = "영등포구 스마트메디컬특구";
  }
  OutgoingMail mail;
  mail.topic = overdue ? "report.overdue" : "report.due";
  mail.recipient = contact.email();
  mail.recipient_name = MailLine(contact.name());
  mail.language = english ? "en" : "ko";
  mail.subject = MailLine(subject);
  mail.text = absl::StrCat(greeting, "\n\n", lead, "\n\n", action, "\n", link,
                           "\n\n— ", signature, "\n");
  mail.html = absl::StrCat(
      "<div lang=\"", mail.language, "\"><p>", HtmlEscaped(greeting), "</p><p>",
      HtmlEscaped(lead), "</p><p>", HtmlEscaped(action), "<br><a href=\"",
      HtmlEscaped(link), "\">", HtmlEscaped(link), "</a></p><p>— ",
      HtmlEscaped(signature), "</p></div>");
  // The address by its digest: a key of bounded length, the same for the
  // same person whatever the order of the contacts.
  mail.dedupe_key = absl::StrCat(
      mail.topic, ".", partner.id, ".", month, ".",
      HashToken(absl::AsciiStrToLower(contact.email())).substr(0, 32));
  return mail;
}

absl::StatusOr<int> QueueReportReminders(StatsStore& store,
                                         PartnerDirectory& partners,
                                         absl::Time now,
                                         const ReminderPolicy& policy,
                                         absl::string_view public_url,
                                         OverdueReports* overdue) {
  std::vector<ReminderPartner> expected;
  for (registry::v1::PartnerKind kind :
       {registry::v1::SPECIALIZED_OPERATOR,
        registry::v1::COOPERATING_INSTITUTION}) {
    SMZ_ASSIGN_OR_RETURN(std::vector<Partner> active,
                         partners.ListActive(kind));
    for (const Partner& listed : active) {
      // The listing carries no designation history; the partner's own
      // record does (cached by the directory).
      SMZ_ASSIGN_OR_RETURN(const Partner p, partners.Get(listed.id()));
      ReminderPartner& r = expected.emplace_back();
      r.id = p.id();
      r.name = NameOf(p);
      auto en = p.name().find("en");
      if (en != p.name().end()) r.name_en = en->second;
      r.reports_from = DesignatedSince(p);
      r.contacts.assign(p.contacts().begin(), p.contacts().end());
    }
  }
  const absl::CivilMonth this_month = absl::ToCivilMonth(now, SeoulTimeZone());
  SMZ_ASSIGN_OR_RETURN(std::vector<ReportingRow> rows,
                       store.ListReporting(PeriodNumber(this_month - 3),
                                           PeriodNumber(this_month - 1)));
  std::set<std::pair<int, int64_t>> submitted;
  for (const ReportingRow& row : rows) {
    if (row.first_submit_time_us != 0) {
      submitted.insert({row.period, row.partner_id});
    }
  }
  if (overdue != nullptr) {
    *overdue = CountOverdueReports(now, policy, expected, submitted);
  }
  std::vector<OutgoingMail> mail;
  for (const ReportReminder& reminder :
       RemindersDue(now, policy, expected, submitted)) {
    for (const registry::v1::Contact& contact : reminder.partner->contacts) {
      if (contact.email().empty()) continue;
      // The registry keeps addresses mail may not carry (older records):
      // said, so that the record gets put right.
      if (!IsMailAddress(contact.email())) {
        Log(LogLevel::kWarning, "partner contact without a usable mail address",
            {{"partner_id", absl::StrCat(reminder.partner->id)}});
        continue;
      }
      mail.push_back(RenderReportReminder(reminder, contact, public_url));
    }
  }
  if (mail.empty()) return 0;
  return store.QueueMail(mail);
}

}  // namespace smz::stats
