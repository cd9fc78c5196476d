#include "services/programme/programme.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/mysql/idempotency.h"
#include "common/pagination.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "services/programme/programme_rules.h"

namespace smz::programme {
namespace {

RequestKey KeyOf(const Principal& caller, absl::string_view method,
                 const std::string& request_id,
                 const google::protobuf::Message& keyed) {
  return RequestKey{PrincipalLabel(caller), std::string(method), request_id,
                    RequestDigest(keyed)};
}

// The page token of a list in id order, bound to the request's filters.
struct Paging {
  int page_size = 0;
  uint64_t fingerprint = 0;
  int64_t after_id = 0;
};

template <typename Request>
absl::StatusOr<Paging> StartPage(const Request& request,
                                 FieldViolations* violations) {
  Paging paging;
  paging.page_size = ResolvePageSize(request.page_size(), violations);
  Request filters = request;
  filters.clear_page_size();
  filters.clear_page_token();
  paging.fingerprint = QueryFingerprint({RequestDigest(filters)});
  absl::StatusOr<PageCursor> cursor =
      DecodePageToken(request.page_token(), paging.fingerprint);
  if (!cursor.ok()) {
    violations->Add("page_token", std::string(cursor.status().message()));
  } else {
    paging.after_id = cursor->last_id;
  }
  if (!violations->empty()) return violations->ToStatus();
  return paging;
}

// Copies up to page_size rows into `out` and returns the next page token
// ("" on the last page); `rows` holds page_size + 1 rows when more follow.
template <typename T, typename Field>
std::string FillPage(const std::vector<T>& rows, const Paging& paging,
                     Field* out) {
  for (int i = 0; i < static_cast<int>(rows.size()) && i < paging.page_size;
       ++i) {
    *out->Add() = rows[i];
  }
  if (static_cast<int>(rows.size()) <= paging.page_size) return "";
  PageCursor next;
  next.has_position = true;
  next.last_id = rows[paging.page_size - 1].id();
  return EncodePageToken(paging.fingerprint, next);
}

// Common checks of an Update request: id, etag, a mask of known paths.
void CheckUpdate(int64_t id, const std::string& etag,
                 const google::protobuf::FieldMask& mask,
                 const absl::flat_hash_set<std::string>& updatable,
                 const std::string& entity, FieldViolations* violations) {
  if (id <= 0) violations->Add(entity + ".id", "is required");
  if (etag.empty()) {
    violations->Add(entity + ".etag",
                    "is required: send the etag of the version you read");
  }
  if (mask.paths_size() == 0) violations->Add("update_mask", "names no fields");
  for (int i = 0; i < mask.paths_size(); ++i) {
    if (!updatable.contains(mask.paths(i))) {
      violations->Add(absl::StrCat("update_mask.paths[", i, "]"),
                      absl::StrCat("'", mask.paths(i), "' cannot be updated"));
    }
  }
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
  v1::CreateProjectRequest keyed = request;
  keyed.clear_request_id();
  return store_->CreateProject(
      project, KeyOf(caller, "CreateProject", request.request_id(), keyed));
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
  absl::StatusOr<Paging> paging = StartPage(request, &violations);
  if (!paging.ok()) return paging.status();
  ProjectQuery query;
  query.parent_id = request.parent_id();
  query.roots_only = request.roots_only();
  query.kind = request.kind();
  query.after_id = paging->after_id;
  query.limit = paging->page_size + 1;
  absl::StatusOr<std::vector<v1::Project>> rows = store_->ListProjects(query);
  if (!rows.ok()) return rows.status();
  v1::ListProjectsResponse response;
  response.set_next_page_token(
      FillPage(*rows, *paging, response.mutable_projects()));
  return response;
}

absl::StatusOr<v1::Project> Programme::UpdateProject(
    const Principal& caller, const v1::UpdateProjectRequest& request) {
  static const auto* const kUpdatable = new absl::flat_hash_set<std::string>{
      "name", "description", "sort_order", "first_year", "last_year"};
  FieldViolations violations;
  CheckUpdate(request.project().id(), request.project().etag(),
              request.update_mask(), *kUpdatable, "project", &violations);
  if (!violations.empty()) return violations.ToStatus();
  const v1::Project& in = request.project();
  return store_->ModifyProject(
      in.id(), in.etag(), PrincipalLabel(caller),
      [&](v1::Project& p) -> absl::Status {
        for (const std::string& path : request.update_mask().paths()) {
          if (path == "name") *p.mutable_name() = in.name();
          if (path == "description")
            *p.mutable_description() = in.description();
          if (path == "sort_order") p.set_sort_order(in.sort_order());
          if (path == "first_year") p.set_first_year(in.first_year());
          if (path == "last_year") p.set_last_year(in.last_year());
        }
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
  v1::CreateBudgetLineRequest keyed = request;
  keyed.clear_request_id();
  return store_->CreateBudgetLine(
      line, KeyOf(caller, "CreateBudgetLine", request.request_id(), keyed));
}

absl::StatusOr<v1::ListBudgetLinesResponse> Programme::ListBudgetLines(
    const v1::ListBudgetLinesRequest& request) {
  FieldViolations violations;
  if (request.project_id() < 0) violations.Add("project_id", "must be >= 0");
  if (request.year() < 0) violations.Add("year", "must be >= 0");
  absl::StatusOr<Paging> paging = StartPage(request, &violations);
  if (!paging.ok()) return paging.status();
  absl::StatusOr<std::vector<v1::BudgetLine>> rows = store_->ListBudgetLines(
      LineQuery{request.project_id(), request.year(), paging->after_id,
                paging->page_size + 1});
  if (!rows.ok()) return rows.status();
  v1::ListBudgetLinesResponse response;
  response.set_next_page_token(
      FillPage(*rows, *paging, response.mutable_lines()));
  return response;
}

absl::StatusOr<v1::BudgetLine> Programme::UpdateBudgetLine(
    const Principal& caller, const v1::UpdateBudgetLineRequest& request) {
  static const auto* const kUpdatable =
      new absl::flat_hash_set<std::string>{"amount_krw", "note"};
  FieldViolations violations;
  CheckUpdate(request.line().id(), request.line().etag(), request.update_mask(),
              *kUpdatable, "line", &violations);
  if (!violations.empty()) return violations.ToStatus();
  const v1::BudgetLine& in = request.line();
  return store_->ModifyBudgetLine(
      in.id(), in.etag(), PrincipalLabel(caller),
      [&](v1::BudgetLine& l) -> absl::Status {
        for (const std::string& path : request.update_mask().paths()) {
          if (path == "amount_krw") l.set_amount_krw(in.amount_krw());
          if (path == "note") l.set_note(in.note());
        }
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
  v1::RecordExecutionRequest keyed = request;
  keyed.clear_request_id();
  return store_->RecordExecution(
      entry, KeyOf(caller, "RecordExecution", request.request_id(), keyed));
}

absl::StatusOr<v1::ListExecutionsResponse> Programme::ListExecutions(
    const v1::ListExecutionsRequest& request) {
  FieldViolations violations;
  if (request.line_id() <= 0) violations.Add("line_id", "is required");
  absl::StatusOr<Paging> paging = StartPage(request, &violations);
  if (!paging.ok()) return paging.status();
  absl::StatusOr<std::vector<v1::ExecutionEntry>> rows = store_->ListExecutions(
      request.line_id(), paging->after_id, paging->page_size + 1);
  if (!rows.ok()) return rows.status();
  v1::ListExecutionsResponse response;
  response.set_next_page_token(
      FillPage(*rows, *paging, response.mutable_entries()));
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
  absl::StatusOr<BudgetYear> inputs =
      store_->LoadBudgetYear(request.year(), as_of);
  if (!inputs.ok()) return inputs.status();
  if (request.root_project_id() > 0) {
    bool known = false;
    for (const v1::Project& p : inputs->projects) {
      known = known || p.id() == request.root_project_id();
    }
    if (!known) {
      return absl::NotFoundError(
          absl::StrCat("project ", request.root_project_id(), " not found"));
    }
  }
  v1::BudgetTable table =
      BuildBudgetTable(request.year(), request.as_of_date(), inputs->projects,
                       inputs->lines, request.root_project_id());
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
  v1::CreateIndicatorRequest keyed = request;
  keyed.clear_request_id();
  return store_->CreateIndicator(
      indicator, KeyOf(caller, "CreateIndicator", request.request_id(), keyed));
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
  absl::StatusOr<Paging> paging = StartPage(request, &violations);
  if (!paging.ok()) return paging.status();
  absl::StatusOr<std::vector<v1::Indicator>> rows =
      store_->ListIndicators(IndicatorQuery{
          request.project_id(), paging->after_id, paging->page_size + 1});
  if (!rows.ok()) return rows.status();
  v1::ListIndicatorsResponse response;
  response.set_next_page_token(
      FillPage(*rows, *paging, response.mutable_indicators()));
  return response;
}

absl::StatusOr<v1::Indicator> Programme::UpdateIndicator(
    const Principal& caller, const v1::UpdateIndicatorRequest& request) {
  static const auto* const kUpdatable =
      new absl::flat_hash_set<std::string>{"name",           "unit",
                                           "target_total",   "first_year",
                                           "last_year",      "yearly_plans",
                                           "source",         "event_type",
                                           "manual_results", "recorded_results",
                                           "recorded_total", "sort_order"};
  FieldViolations violations;
  CheckUpdate(request.indicator().id(), request.indicator().etag(),
              request.update_mask(), *kUpdatable, "indicator", &violations);
  if (!violations.empty()) return violations.ToStatus();
  const v1::Indicator& in = request.indicator();
  return store_->ModifyIndicator(
      in.id(), in.etag(), PrincipalLabel(caller),
      [&](v1::Indicator& i) -> absl::Status {
        for (const std::string& path : request.update_mask().paths()) {
          if (path == "name") *i.mutable_name() = in.name();
          if (path == "unit") i.set_unit(in.unit());
          if (path == "target_total") i.set_target_total(in.target_total());
          if (path == "first_year") i.set_first_year(in.first_year());
          if (path == "last_year") i.set_last_year(in.last_year());
          if (path == "yearly_plans") {
            *i.mutable_yearly_plans() = in.yearly_plans();
          }
          if (path == "source") i.set_source(in.source());
          if (path == "event_type") i.set_event_type(in.event_type());
          if (path == "manual_results") {
            *i.mutable_manual_results() = in.manual_results();
          }
          if (path == "recorded_results") {
            *i.mutable_recorded_results() = in.recorded_results();
          }
          if (path == "recorded_total") {
            if (in.has_recorded_total()) {
              i.set_recorded_total(in.recorded_total());
            } else {
              i.clear_recorded_total();
            }
          }
          if (path == "sort_order") i.set_sort_order(in.sort_order());
        }
        FieldViolations invalid;
        ValidateIndicator(i, &invalid);
        return invalid.ToStatus();
      });
}

}  // namespace smz::programme
