// An event's registrations as a file an organizer opens in a spreadsheet
// (ExportRegistrations): one row per registration in arrival order, with
// headings in Korean or English and times in the event's own zone, written
// as CSV (common/csv.h: the BOM Korean Excel needs, no cell that runs as a
// formula) or XLSX (common/xlsx_writer.h). Pure: the caller reads the rows.
//
//   absl::StatusOr<v1::RegistrationsFile> file = WriteRegistrationsFile(
//       event, registrations, v1::ExportRegistrationsRequest::XLSX, "en");
#ifndef SMZ_SERVICES_EVENTS_REGISTRATIONS_EXPORT_H_
#define SMZ_SERVICES_EVENTS_REGISTRATIONS_EXPORT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "smz/events/v1/events.pb.h"

namespace smz::events {

// The most one file holds: rows, and bytes, so that the answer stays under
// the gateway's gRPC message limit (4 MiB) whatever the rows hold (a row of
// the longest names, organisations and addresses is over 1 KiB).
inline constexpr int kMaxExportedRegistrations = 10000;
inline constexpr size_t kMaxExportBytes = 3 << 20;

// `language`: "en" for English headings and labels, else Korean.
absl::StatusOr<v1::RegistrationsFile> WriteRegistrationsFile(
    const v1::Event& event, const std::vector<v1::Registration>& registrations,
    v1::ExportRegistrationsRequest::Format format, absl::string_view language);

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_REGISTRATIONS_EXPORT_H_
