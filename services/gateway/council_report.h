// Renders the council report from what the gateway gathered, apart from any
// transport: printable HTML in the order of the division's report (1 general
// status, 2 achievements — pledge indicators, activity log, budget execution
// with reconciliation findings — 3 next year's plan), in Korean or English;
// or one table as CSV.
//
//   v1::CouncilReportData data = ...;  // overview, kpi, activities, budget
//   std::string html = RenderCouncilReportHtml(data, "en");
//   std::string csv = RenderCouncilReportCsv(
//       data, v1::GetCouncilReportRequest::KPI, "en");
//
// Money is printed in thousand KRW with digit grouping, rates with one
// decimal; a section whose backend could not answer says so instead of
// showing a table.
#ifndef SMZ_SERVICES_GATEWAY_COUNCIL_REPORT_H_
#define SMZ_SERVICES_GATEWAY_COUNCIL_REPORT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "smz/gateway/v1/gateway.pb.h"

namespace smz::gateway {

std::string RenderCouncilReportHtml(const v1::CouncilReportData& data,
                                    absl::string_view language);

std::string RenderCouncilReportCsv(const v1::CouncilReportData& data,
                                   v1::GetCouncilReportRequest::Table table,
                                   absl::string_view language);

// "1,070,404" for 1070404.
std::string GroupDigits(int64_t value);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_COUNCIL_REPORT_H_
