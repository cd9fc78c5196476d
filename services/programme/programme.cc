#include "services/programme/programme.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/aip/etag.h"
#include "common/aip/field_mask.h"
#include "common/aip/pager.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
#include "common/pagination.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "services/programme/programme_rules.h"

namespace smz::programme {
namespace {

template <typename T>
int64_t IdOf(const T& row) {
  return row.id();
}

// The checks every Update request shares: id, etag, and the mask.
std::vector<std::string> CheckUpdate(int64_t id, const std::string& etag,
                                     const google::protobuf::FieldMask& mask,
                                     const UpdatableFields& updatable,
                                     const std::string& entity,
                                     FieldViolations* violations) {
  if (id <= 0) violations->Add(entity + ".id", "is required");
  RequireEtag(etag, entity + ".etag", violations);
  return updatable.Resolve(mask, violations);
}

}  // namespace

Programme::Programme(ProgrammeStore* store) : store_(store) {}

// ---- projects ----

absl::StatusOr<v1::Project> Programme::CreateProject(
    const Principal& caller, const v1::CreateProjectRequest& request) {
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  v1::Project project = request.project();
  project.clear_id();
  project.clear_etag();
  project.clear_create_time();
  project.clear_update_time();
  ValidateProject(project, &violations);
  if (!violations.empty()) return violations.ToStatus();
  return store_->CreateProject(project,
                               KeyOf(caller, "CreateProject", request));
}

absl::StatusOr<v1::Project> Programme::GetProject(
    const v1::GetProjectRequest& request) {
  if (request.id() <= 0) return InvalidField("id", "is required");
  return store_->GetProject(request.id());
}

absl::StatusOr<v1::ListProjectsResponse> Programme::ListProjects(
    const v1::ListProjectsRequest& request) {
  FieldViolations violations;
  if (request.parent_id() < 0) violations.Add("parent_id", "must be >= 0");
  if (!v1::ProjectKind_IsValid(request.kind())) {
    violations.Add("kind", "is not a ProjectKind");
  }
  Pager pager = PagerFor(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  ProjectQuery query;
  query.parent_id = request.parent_id();
  query.roots_only = request.roots_only();
  query.kind = request.kind();
  query.after_id = pager.after_id();
  query.limit = pager.fetch_limit();
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::Project> rows,
                       store_->ListProjects(query));
  v1::ListProjectsResponse response;
  response.set_next_page_token(
      pager.Finish(&rows, IdOf<decltype(rows)::value_type>));
  for (auto& row : rows) *response.add_projects() = std::move(row);
  return response;
}

absl::StatusOr<v1::Project> Programme::UpdateProject(
    const Principal& caller, const v1::UpdateProjectRequest& request) {
  static const auto* const kUpdatable = new UpdatableFields(
      {"name", "description", "sort_order", "first_year", "last_year"},
      "code, kind and parent are fixed");
  FieldViolations violations;
  const std::vector<std::string> paths =
      CheckUpdate(request.project().id(), request.project().etag(),
                  request.update_mask(), *kUpdatable, "project", &violations);
  if (!violations.empty()) return violations.ToStatus();
  const v1::Project& in = request.project();
  return store_->ModifyProject(in.id(), in.etag(), PrincipalLabel(caller),
                               [&](v1::Project& p) -> absl::Status {
                                 CopyPaths(in, paths, &p);
                                 FieldViolations invalid;
                                 ValidateProject(p, &invalid);
                                 return invalid.ToStatus();
                               });
}

// ---- budget ----

absl::StatusOr<v1::BudgetLine> Programme::CreateBudgetLine(
    const Principal& caller, const v1::CreateBudgetLineRequest& request) {
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  v1::BudgetLine line = request.line();
  line.clear_id();
  line.clear_executed_krw();
  line.clear_etag();
  line.clear_update_time();
  ValidateBudgetLine(line, &violations);
  if (!violations.empty()) return violations.ToStatus();
  return store_->CreateBudgetLine(line,
                                  KeyOf(caller, "CreateBudgetLine", request));
}

absl::StatusOr<v1::ListBudgetLinesResponse> Programme::ListBudgetLines(
    const v1::ListBudgetLinesRequest& request) {
  FieldViolations violations;
  if (request.project_id() < 0) violations.Add("project_id", "must be >= 0");
  if (request.year() < 0) violations.Add("year", "must be >= 0");
  Pager pager = PagerFor(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::BudgetLine> rows,
                       store_->ListBudgetLines(
                           LineQuery{request.project_id(), request.year(),
                                     pager.after_id(), pager.fetch_limit()}));
  v1::ListBudgetLinesResponse response;
  response.set_next_page_token(
      pager.Finish(&rows, IdOf<decltype(rows)::value_type>));
  for (auto& row : rows) *response.add_lines() = std::move(row);
  return response;
}

absl::StatusOr<v1::BudgetLine> Programme::UpdateBudgetLine(
    const Principal& caller, const v1::UpdateBudgetLineRequest& request) {
  static const auto* const kUpdatable = new UpdatableFields(
      {"amount_krw", "note"},
      "project, year and funding source are fixed; executions are recorded");
  FieldViolations violations;
  const std::vector<std::string> paths =
      CheckUpdate(request.line().id(), request.line().etag(),
                  request.update_mask(), *kUpdatable, "line", &violations);
  if (!violations.empty()) return violations.ToStatus();
  const v1::BudgetLine& in = request.line();
  return store_->ModifyBudgetLine(in.id(), in.etag(), PrincipalLabel(caller),
                                  [&](v1::BudgetLine& l) -> absl::Status {
                                    CopyPaths(in, paths, &l);
                                    FieldViolations invalid;
                                    ValidateBudgetLine(l, &invalid);
                                    return invalid.ToStatus();
                                  });
}

absl::StatusOr<v1::ExecutionEntry> Programme::RecordExecution(
    const Principal& caller, const v1::RecordExecutionRequest& request) {
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  v1::ExecutionEntry entry = request.entry();
  entry.clear_id();
  entry.clear_create_time();
  entry.clear_created_by();
  ValidateExecution(entry, &violations);
  if (!violations.empty()) return violations.ToStatus();
  return store_->RecordExecution(entry,
                                 KeyOf(caller, "RecordExecution", request));
}

absl::StatusOr<v1::ListExecutionsResponse> Programme::ListExecutions(
    const v1::ListExecutionsRequest& request) {
  FieldViolations violations;
  if (request.line_id() <= 0) violations.Add("line_id", "is required");
  Pager pager = PagerFor(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<v1::ExecutionEntry> rows,
      store_->ListExecutions(request.line_id(), pager.after_id(),
                             pager.fetch_limit()));
  v1::ListExecutionsResponse response;
  response.set_next_page_token(
      pager.Finish(&rows, IdOf<decltype(rows)::value_type>));
  for (auto& row : rows) *response.add_entries() = std::move(row);
  return response;
}

absl::StatusOr<v1::BudgetTable> Programme::GetBudgetTable(
    const v1::GetBudgetTableRequest& request) {
  FieldViolations violations;
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  std::optional<absl::CivilDay> as_of;
  if (!request.as_of_date().empty()) {
    as_of = ParseDate(request.as_of_date());
    if (!as_of) violations.Add("as_of_date", "is not a date (YYYY-MM-DD)");
  }
  if (request.root_project_id() < 0) {
    violations.Add("root_project_id", "must be 0 (every root) or a project");
  }
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(BudgetYear inputs,
                       store_->LoadBudgetYear(request.year(), as_of));
  if (request.root_project_id() > 0) {
    bool known = false;
    for (const v1::Project& p : inputs.projects) {
      known = known || p.id() == request.root_project_id();
    }
    if (!known) {
      return absl::NotFoundError(
          absl::StrCat("project ", request.root_project_id(), " not found"));
    }
  }
  v1::BudgetTable table =
      BuildBudgetTable(request.year(), request.as_of_date(), inputs.projects,
                       inputs.lines, request.root_project_id());
  if (table.rows_size() == 0) {
    return absl::NotFoundError(absl::StrCat(
        "no budget lines for ", request.year(),
        request.root_project_id() > 0
            ? absl::StrCat(" under project ", request.root_project_id())
            : ""));
  }
  return table;
}

// ---- indicators ----

absl::StatusOr<v1::Indicator> Programme::CreateIndicator(
    const Principal& caller, const v1::CreateIndicatorRequest& request) {
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  v1::Indicator indicator = request.indicator();
  indicator.clear_id();
  indicator.clear_etag();
  indicator.clear_update_time();
  ValidateIndicator(indicator, &violations);
  if (!violations.empty()) return violations.ToStatus();
  return store_->CreateIndicator(indicator,
                                 KeyOf(caller, "CreateIndicator", request));
}

absl::StatusOr<v1::Indicator> Programme::GetIndicator(
    const v1::GetIndicatorRequest& request) {
  if (request.id() <= 0) return InvalidField("id", "is required");
  return store_->GetIndicator(request.id());
}

absl::StatusOr<v1::ListIndicatorsResponse> Programme::ListIndicators(
    const v1::ListIndicatorsRequest& request) {
  FieldViolations violations;
  if (request.project_id() < 0) violations.Add("project_id", "must be >= 0");
  Pager pager = PagerFor(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<v1::Indicator> rows,
      store_->ListIndicators(IndicatorQuery{
          request.project_id(), pager.after_id(), pager.fetch_limit()}));
  v1::ListIndicatorsResponse response;
  response.set_next_page_token(
      pager.Finish(&rows, IdOf<decltype(rows)::value_type>));
  for (auto& row : rows) *response.add_indicators() = std::move(row);
  return response;
}

absl::StatusOr<v1::Indicator> Programme::UpdateIndicator(
    const Principal& caller, const v1::UpdateIndicatorRequest& request) {
  static const auto* const kUpdatable = new UpdatableFields(
      {"name", "unit", "target_total", "first_year", "last_year",
       "yearly_plans", "source", "event_type", "manual_results",
       "recorded_results", "recorded_total", "sort_order"},
      "code and project are fixed");
  FieldViolations violations;
  const std::vector<std::string> paths =
      CheckUpdate(request.indicator().id(), request.indicator().etag(),
                  request.update_mask(), *kUpdatable, "indicator", &violations);
  if (!violations.empty()) return violations.ToStatus();
  const v1::Indicator& in = request.indicator();
  return store_->ModifyIndicator(in.id(), in.etag(), PrincipalLabel(caller),
                                 [&](v1::Indicator& i) -> absl::Status {
                                   CopyPaths(in, paths, &i);
                                   FieldViolations invalid;
                                   ValidateIndicator(i, &invalid);
                                   return invalid.ToStatus();
                                 });
}

}  // namespace smz::programme
