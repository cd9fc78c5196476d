#include "services/events/registrations_export.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/csv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/events/event_rules.h"

namespace smz::events {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::Event Briefing() {
  v1::Event event;
  event.set_id(12);
  event.set_time_zone("Asia/Ulaanbaatar");
  return event;
}

std::vector<v1::Registration> People() {
  std::vector<v1::Registration> people(2);
  people[0].set_id(101);
  people[0].set_arrival(1);
  people[0].set_name("Bat-Erdene");
  people[0].set_organization("=HYPERLINK(\"http://x\")");
  people[0].set_country("MN");
  people[0].set_email("bat@example.mn");
  people[0].set_language("mn");
  people[0].set_state(v1::CONFIRMED);
  people[0].set_attendance(v1::ATTENDED);
  // 02:30 UTC is 10:30 in Ulaanbaatar.
  *people[0].mutable_check_in_time() =
      ToTimestamp(absl::FromUnixSeconds(1788575400));
  people[0].set_public_sign_up(true);
  people[1].set_id(102);
  people[1].set_arrival(2);
  people[1].set_name("Oyun");
  people[1].add_languages("ru");
  people[1].set_state(v1::WAITLISTED);
  people[1].set_waitlist_position(1);
  return people;
}

TEST(RegistrationsExportTest, TheCsvHasOneRowPerPersonInTheEventsTime) {
  absl::StatusOr<v1::RegistrationsFile> file = WriteRegistrationsFile(
      Briefing(), People(), v1::ExportRegistrationsRequest::CSV, "en");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->filename(), "event-12-registrations.csv");
  EXPECT_EQ(file->content_type(), "text/csv; charset=utf-8");
  EXPECT_EQ(file->rows(), 2);
  absl::StatusOr<CsvTable> table = ParseCsv(file->content());
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->header,
              ElementsAre("No.", "Name", "Organisation", "Country", "E-mail",
                          "Phone", "Language for mail", "State", "Waiting no.",
                          "Attendance", "Checked in", "Registered",
                          "Public sign-up", "Registration id"));
  ASSERT_EQ(table->rows.size(), 2u);
  const CsvRow& bat = table->rows[0];
  EXPECT_EQ(table->Get(bat, "Name"), "Bat-Erdene");
  // Text a spreadsheet would run stays text.
  EXPECT_EQ(table->Get(bat, "Organisation"), "'=HYPERLINK(\"http://x\")");
  EXPECT_EQ(table->Get(bat, "State"), "Confirmed");
  EXPECT_EQ(table->Get(bat, "Attendance"), "Attended");
  EXPECT_EQ(table->Get(bat, "Checked in"), "2026-09-05 10:30");
  EXPECT_EQ(table->Get(bat, "Public sign-up"), "yes");
  EXPECT_EQ(table->Get(bat, "Registration id"), "101");
  const CsvRow& oyun = table->rows[1];
  EXPECT_EQ(table->Get(oyun, "State"), "Waiting");
  EXPECT_EQ(table->Get(oyun, "Waiting no."), "1");
  EXPECT_EQ(table->Get(oyun, "Language for mail"), "ru");
  EXPECT_EQ(table->Get(oyun, "Checked in"), "");
}

TEST(RegistrationsExportTest, KoreanHeadingsAndAnXlsxWorkbook) {
  absl::StatusOr<v1::RegistrationsFile> csv = WriteRegistrationsFile(
      Briefing(), People(), v1::ExportRegistrationsRequest::CSV, "ko");
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_THAT(csv->content(), HasSubstr("이름"));
  EXPECT_THAT(csv->content(), HasSubstr("확정"));
  absl::StatusOr<v1::RegistrationsFile> xlsx = WriteRegistrationsFile(
      Briefing(), People(), v1::ExportRegistrationsRequest::XLSX, "ko");
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  EXPECT_EQ(xlsx->filename(), "event-12-registrations.xlsx");
  EXPECT_EQ(xlsx->content().substr(0, 2), "PK");
  EXPECT_EQ(xlsx->rows(), 2);
}

TEST(RegistrationsExportTest, MoreThanAFileHoldsIsRefused) {
  std::vector<v1::Registration> crowd(kMaxExportedRegistrations + 1);
  absl::StatusOr<v1::RegistrationsFile> file = WriteRegistrationsFile(
      Briefing(), crowd, v1::ExportRegistrationsRequest::XLSX, "en");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(file.status().message(), HasSubstr("one state at a time"));
}

TEST(RegistrationsExportTest, MoreBytesThanTheGatewayCarriesAreRefused) {
  // Far fewer rows than the cap, but long names: over 3 MiB.
  std::vector<v1::Registration> crowd(4000);
  for (v1::Registration& r : crowd) r.set_name(std::string(1000, 'x'));
  absl::StatusOr<v1::RegistrationsFile> file = WriteRegistrationsFile(
      Briefing(), crowd, v1::ExportRegistrationsRequest::CSV, "en");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(file.status().message(), HasSubstr("3 MiB"));
}

}  // namespace
}  // namespace smz::events
