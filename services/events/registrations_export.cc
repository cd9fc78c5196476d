#include "services/events/registrations_export.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/csv.h"
#include "common/xlsx_writer.h"
#include "services/events/event_rules.h"

namespace smz::events {
namespace {

struct Labels {
  std::vector<CsvCell> header;
  const char* confirmed;
  const char* waitlisted;
  const char* cancelled;
  const char* cancelled_with_event;
  const char* lapsed;
  const char* attended;
  const char* no_show;
  const char* yes;
};

const Labels& LabelsFor(absl::string_view language) {
  static const Labels kKorean = {
      {"순번", "이름", "소속", "나라", "전자우편", "전화", "안내 언어", "상태",
       "대기 순번", "출결", "입장 시각", "신청 시각", "일반 공개 신청",
       "등록 번호"},
      "확정",
      "대기",
      "취소",
      "행사 취소",
      "확인 기한 지남",
      "참석",
      "불참",
      "예"};
  static const Labels kEnglish = {
      {"No.", "Name", "Organisation", "Country", "E-mail", "Phone",
       "Language for mail", "State", "Waiting no.", "Attendance", "Checked in",
       "Registered", "Public sign-up", "Registration id"},
      "Confirmed",
      "Waiting",
      "Cancelled",
      "Event cancelled",
      "Not confirmed in time",
      "Attended",
      "No-show",
      "yes"};
  return language == "en" ? kEnglish : kKorean;
}

std::string StateLabel(const Labels& labels, v1::RegistrationState state) {
  switch (state) {
    case v1::CONFIRMED:
      return labels.confirmed;
    case v1::WAITLISTED:
      return labels.waitlisted;
    case v1::CANCELLED_BY_REGISTRANT:
      return labels.cancelled;
    case v1::CANCELLED_WITH_EVENT:
      return labels.cancelled_with_event;
    case v1::LAPSED:
      return labels.lapsed;
    default:
      return "";
  }
}

std::string AttendanceLabel(const Labels& labels, v1::Attendance attendance) {
  switch (attendance) {
    case v1::ATTENDED:
      return labels.attended;
    case v1::NO_SHOW:
      return labels.no_show;
    default:
      return "";
  }
}

absl::Status TooMuch(const v1::Event& event) {
  return absl::FailedPreconditionError(absl::StrCat(
      "event ", event.id(), ": more than ", kMaxExportedRegistrations,
      " registrations or ", kMaxExportBytes >> 20,
      " MiB in these states; export one state at a time"));
}

}  // namespace

absl::StatusOr<v1::RegistrationsFile> WriteRegistrationsFile(
    const v1::Event& event, const std::vector<v1::Registration>& registrations,
    v1::ExportRegistrationsRequest::Format format, absl::string_view language) {
  if (registrations.size() > kMaxExportedRegistrations) return TooMuch(event);
  const Labels& labels = LabelsFor(language);
  absl::StatusOr<absl::TimeZone> loaded = LoadZone(event.time_zone());
  const absl::TimeZone zone = loaded.ok() ? *loaded : absl::UTCTimeZone();
  auto local = [&](const google::protobuf::Timestamp& t, bool set) {
    // As a spreadsheet reads a date and time.
    return set ? absl::FormatTime("%Y-%m-%d %H:%M", ToTime(t), zone)
               : std::string();
  };
  std::vector<std::vector<CsvCell>> rows;
  rows.reserve(registrations.size() + 1);
  rows.push_back(labels.header);
  for (const v1::Registration& r : registrations) {
    rows.push_back({CsvCell(r.arrival()), r.name(), r.organization(),
                    r.country(), r.email(), r.phone(),
                    r.language().empty() ? absl::StrJoin(r.languages(), " ")
                                         : r.language(),
                    StateLabel(labels, r.state()),
                    r.waitlist_position() > 0 ? CsvCell(r.waitlist_position())
                                              : CsvCell(""),
                    AttendanceLabel(labels, r.attendance()),
                    local(r.check_in_time(), r.has_check_in_time()),
                    local(r.create_time(), r.has_create_time()),
                    r.public_sign_up() ? labels.yes : "", CsvCell(r.id())});
  }
  v1::RegistrationsFile file;
  const std::string stem = absl::StrCat("event-", event.id(), "-registrations");
  file.set_rows(static_cast<int32_t>(registrations.size()));
  if (format == v1::ExportRegistrationsRequest::XLSX) {
    XlsxWriter xlsx("registrations", rows.size());
    for (const auto& row : rows) xlsx.Row(row);
    absl::StatusOr<std::string> bytes = std::move(xlsx).Finish();
    if (!bytes.ok()) return bytes.status();
    file.set_filename(absl::StrCat(stem, ".xlsx"));
    file.set_content_type(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    file.set_content(*std::move(bytes));
  } else {
    CsvWriter csv;
    for (const auto& row : rows) csv.Row(row);
    file.set_filename(absl::StrCat(stem, ".csv"));
    file.set_content_type("text/csv; charset=utf-8");
    file.set_content(std::move(csv).Finish());
  }
  if (file.content().size() > kMaxExportBytes) {
    return TooMuch(event);
  }
  return file;
}

}  // namespace smz::events
