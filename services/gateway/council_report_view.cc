#include "services/gateway/gateway_internal.h"

// The council report: the year's document, assembled from every backend.
namespace smz::gateway {

// Long by design: it calls every backend at once and assembles the report's
// sections from the answers.
absl::StatusOr<v1::Document> Gateway::GetCouncilReport(
    const std::string& authorization,
    const v1::GetCouncilReportRequest& request) {
  FieldViolations violations;
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  if (request.programme_code().empty()) {
    violations.Add("programme_code", "is required (e.g. \"smz-2018\")");
  }
  const std::string language =
      request.language().empty() ? "ko" : request.language();
  if (language != "ko" && language != "en") {
    violations.Add("language", "must be \"ko\" or \"en\"");
  }
  std::optional<absl::CivilDay> as_of;
  if (!request.as_of().empty()) {
    as_of = ParseDate(request.as_of());
    if (!as_of) violations.Add("as_of", "is not a date (YYYY-MM-DD)");
  }
  if (!v1::GetCouncilReportRequest::Format_IsValid(request.format())) {
    violations.Add("format", "is not HTML, CSV or JSON");
  }
  if (!v1::GetCouncilReportRequest::Table_IsValid(request.table())) {
    violations.Add("table", "is not KPI, BUDGET or ACTIVITIES");
  }
  if (!violations.empty()) return violations.ToStatus();
  const std::string day =
      FormatDate(as_of.value_or(absl::CivilDay(request.year(), 12, 31)));

  // The four parts at once; each already degrades by section.
  v1::GetKpiTableRequest kpi_request;
  kpi_request.set_programme_code(request.programme_code());
  kpi_request.set_as_of(day);
  v1::GetZoneOverviewRequest overview_request;
  overview_request.set_year(request.year());
  overview_request.set_as_of(day);
  v1::GetActivityLogRequest log_request;
  log_request.set_year(request.year());
  auto budget_of = [&](int32_t year, const std::string& date) {
    pv1::GetBudgetTableRequest budget;
    budget.set_year(year);
    budget.set_as_of_date(date);
    return GetBudgetTable(authorization, budget);
  };
  // The year's budget table serves the overview's figure and the report's
  // table: asked for once.
  std::shared_future<absl::StatusOr<pv1::BudgetTable>> budget =
      AsyncInTrace([&] { return budget_of(request.year(), day); }).share();
  auto kpi =
      AsyncInTrace([&] { return GetKpiTable(authorization, kpi_request); });
  auto overview = AsyncInTrace([&] {
    return BuildZoneOverview(authorization, overview_request, &budget);
  });
  auto log =
      AsyncInTrace([&] { return GetActivityLog(authorization, log_request); });
  absl::StatusOr<pv1::BudgetTable> next_budget =
      budget_of(request.year() + 1, "");
  absl::StatusOr<v1::KpiTable> kpi_table = kpi.get();
  absl::StatusOr<v1::ZoneOverview> overview_table = overview.get();
  absl::StatusOr<v1::ActivityLog> activity_log = log.get();
  absl::StatusOr<pv1::BudgetTable> budget_table = budget.get();
  for (const absl::Status& s :
       {kpi_table.status(), overview_table.status(), activity_log.status()}) {
    if (!s.ok()) return s;
  }

  v1::CouncilReportData data;
  data.set_year(request.year());
  data.set_as_of(day);
  *data.mutable_overview() = *std::move(overview_table);
  *data.mutable_kpi() = *std::move(kpi_table);
  *data.mutable_activities() = *std::move(activity_log);
  if (budget_table.ok()) {
    *data.mutable_budget() = *std::move(budget_table);
    *data.add_sections() = Available("budget");
  } else if (absl::IsNotFound(budget_table.status())) {
    *data.add_sections() = Available("budget");  // none recorded
  } else if (IsOutage(budget_table.status())) {
    *data.add_sections() = Unavailable("budget", budget_table.status());
  } else {
    return budget_table.status();
  }
  if (next_budget.ok()) {
    *data.mutable_next_year_budget() = *next_budget;
  } else if (!absl::IsNotFound(next_budget.status())) {
    // Left out, and said so (the answer is then not kept in memory).
    *data.add_sections() =
        Unavailable("next_year_budget", next_budget.status());
  }

  v1::Document document;
  const std::string base =
      absl::StrCat("council-report-", request.year(), "-", language);
  switch (request.format()) {
    case v1::GetCouncilReportRequest::CSV: {
      const std::string table =
          request.table() == v1::GetCouncilReportRequest::TABLE_UNSPECIFIED
              ? "KPI"
              : v1::GetCouncilReportRequest::Table_Name(request.table());
      document.set_content_type("text/csv; charset=utf-8");
      document.set_filename(absl::StrCat(base, "-", table, ".csv"));
      document.set_content(
          RenderCouncilReportCsv(data, request.table(), language));
      break;
    }
    case v1::GetCouncilReportRequest::JSON: {
      google::protobuf::util::JsonPrintOptions print;
      print.preserve_proto_field_names = true;
      print.always_print_primitive_fields = true;
      std::string json;
      if (auto s =
              google::protobuf::util::MessageToJsonString(data, &json, print);
          !s.ok()) {
        return absl::InternalError(s.ToString());
      }
      document.set_content_type("application/json; charset=utf-8");
      document.set_filename(base + ".json");
      document.set_content(std::move(json));
      break;
    }
    default:
      document.set_content_type("text/html; charset=utf-8");
      document.set_filename(base + ".html");
      document.set_content(RenderCouncilReportHtml(data, language));
  }
  return document;
}

}  // namespace smz::gateway
