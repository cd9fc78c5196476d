// The programme service's logic, apart from its transport: request
// validation, update masks (common/aip/field_mask.h), pages
// (common/aip/pager.h) and the budget table, over ProgrammeStore. Who may
// call each method is declared in programme.proto and enforced by the RPC
// runner; writes take the caller for the audit trail and request keys.
//
//   Programme programme(&store);
//   absl::StatusOr<v1::BudgetTable> table =
//       programme.GetBudgetTable(request);  // year, as_of_date, root
//   absl::StatusOr<v1::Project> renamed =
//       programme.UpdateProject(caller, request);  // mask, etag
#ifndef SMZ_SERVICES_PROGRAMME_PROGRAMME_H_
#define SMZ_SERVICES_PROGRAMME_PROGRAMME_H_

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "services/programme/programme_store.h"
#include "smz/programme/v1/programme.pb.h"

namespace smz::programme {

class Programme {
 public:
  explicit Programme(ProgrammeStore* store);

  absl::StatusOr<v1::Project> CreateProject(
      const Principal& caller, const v1::CreateProjectRequest& request);
  absl::StatusOr<v1::Project> GetProject(const v1::GetProjectRequest& request);
  absl::StatusOr<v1::ListProjectsResponse> ListProjects(
      const v1::ListProjectsRequest& request);
  absl::StatusOr<v1::Project> UpdateProject(
      const Principal& caller, const v1::UpdateProjectRequest& request);

  absl::StatusOr<v1::BudgetLine> CreateBudgetLine(
      const Principal& caller, const v1::CreateBudgetLineRequest& request);
  absl::StatusOr<v1::ListBudgetLinesResponse> ListBudgetLines(
      const v1::ListBudgetLinesRequest& request);
  absl::StatusOr<v1::BudgetLine> UpdateBudgetLine(
      const Principal& caller, const v1::UpdateBudgetLineRequest& request);
  absl::StatusOr<v1::ExecutionEntry> RecordExecution(
      const Principal& caller, const v1::RecordExecutionRequest& request);
  absl::StatusOr<v1::ListExecutionsResponse> ListExecutions(
      const v1::ListExecutionsRequest& request);
  absl::StatusOr<v1::BudgetTable> GetBudgetTable(
      const v1::GetBudgetTableRequest& request);

  absl::StatusOr<v1::Indicator> CreateIndicator(
      const Principal& caller, const v1::CreateIndicatorRequest& request);
  absl::StatusOr<v1::Indicator> GetIndicator(
      const v1::GetIndicatorRequest& request);
  absl::StatusOr<v1::ListIndicatorsResponse> ListIndicators(
      const v1::ListIndicatorsRequest& request);
  absl::StatusOr<v1::Indicator> UpdateIndicator(
      const Principal& caller, const v1::UpdateIndicatorRequest& request);

  // The audit trail (smz.audit.v1 shape).
  absl::StatusOr<audit::v1::ListChangesResponse> ListChanges(
      const audit::v1::ListChangesRequest& request) {
    return store_->ListChanges(request);
  }

 private:
  ProgrammeStore* const store_;
};

}  // namespace smz::programme

#endif  // SMZ_SERVICES_PROGRAMME_PROGRAMME_H_
