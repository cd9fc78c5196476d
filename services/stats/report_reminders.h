// Reminders of the monthly report to the hospitals that owe it: a few days
// before a month's deadline ("due") and the day after it ("overdue"), to
// each contact with an address of every partner expected to report that
// month (an active specialized operator or cooperating institution,
// designated by then) whose report has not been submitted. Which are due
// is a pure function of the time, the partners and the submissions; the
// stats server's mail worker runs it hourly and queues what it yields in
// its outbox, where each reminder's key (partner, month, kind, contact)
// makes a second queuing harmless.
//
//   std::vector<ReportReminder> due = RemindersDue(now, policy, partners,
//                                                  submitted);
//   for (const ReportReminder& r : due)
//     for (const registry::v1::Contact& c : r.partner->contacts)
//       mail = RenderReportReminder(r, c, "https://smz.example.org");
#ifndef SMZ_SERVICES_STATS_REPORT_REMINDERS_H_
#define SMZ_SERVICES_STATS_REPORT_REMINDERS_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clients/partner_directory.h"
#include "common/mail/outbox.h"
#include "services/stats/stats_store.h"
#include "smz/registry/v1/registry.pb.h"

namespace smz::stats {

// A partner as the reminders need it.
struct ReminderPartner {
  int64_t id = 0;
  std::string name;  // Korean, else English, else any
  std::string name_en;
  // The month from which it reports (its first designation); unset: all.
  std::optional<absl::CivilMonth> reports_from;
  std::vector<registry::v1::Contact> contacts;
};

struct ReminderPolicy {
  int deadline_days = 10;  // after month end (report_rules.h PeriodDeadline)
  // "Due" from this long before the deadline until it.
  absl::Duration due_before = absl::Hours(24 * 3);
  // "Overdue" from the deadline until this long after it (a stopped
  // service that starts again within it still sends it).
  absl::Duration overdue_for = absl::Hours(24 * 7);
};

enum class ReminderKind { kDue, kOverdue };

struct ReportReminder {
  const ReminderPartner* partner = nullptr;
  absl::CivilMonth period;
  ReminderKind kind = ReminderKind::kDue;
  absl::Time deadline;
};

// The reminders due at `now`, for the months whose due or overdue window
// holds `now`. `submitted`: (period as YYYYMM, partner id) of every report
// submitted at least once (a draft is not a report).
std::vector<ReportReminder> RemindersDue(
    absl::Time now, const ReminderPolicy& policy,
    const std::vector<ReminderPartner>& partners,
    const std::set<std::pair<int, int64_t>>& submitted);

// The latest month whose deadline has passed at `now` (its reports now
// late), and how many of `partners` owe its report: what the
// smz_stats_reports_overdue gauge shows, whatever the reminders' windows.
struct OverdueReports {
  absl::CivilMonth period;
  int partners = 0;
};
OverdueReports CountOverdueReports(
    absl::Time now, const ReminderPolicy& policy,
    const std::vector<ReminderPartner>& partners,
    const std::set<std::pair<int, int64_t>>& submitted);

// The mail to one contact: Korean, or English for a contact who handles
// English and not Korean; the month, the last day to submit (Seoul), and
// the link to the hospital's report form under `public_url` (the
// gateway). The dedupe key names partner, month, kind and the contact's
// address by its digest.
OutgoingMail RenderReportReminder(const ReportReminder& reminder,
                                  const registry::v1::Contact& contact,
                                  absl::string_view public_url);

// The sweep the stats server's mail worker runs: the partners expected to
// report (the registry's active specialized operators and cooperating
// institutions), the submissions of the months in question (`store`), and
// the mail of RemindersDue queued for every contact with an address. The
// number of mails newly queued; UNAVAILABLE when the registry cannot say
// who reports (nothing is queued then). `overdue`, when given, receives
// CountOverdueReports of the same partners and submissions.
absl::StatusOr<int> QueueReportReminders(StatsStore& store,
                                         PartnerDirectory& partners,
                                         absl::Time now,
                                         const ReminderPolicy& policy,
                                         absl::string_view public_url,
                                         OverdueReports* overdue = nullptr);

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_REPORT_REMINDERS_H_
