// The programme service's gRPC face: each handler runs through the RPC runner
// and hands the authenticated caller to Programme. Who may call each method is
// declared next to it in programme.proto (option (smz.auth.v1.allowed_roles))
// and enforced by the runner; finer rules are in programme.cc.
#ifndef SMZ_SERVICES_PROGRAMME_PROGRAMME_GRPC_SERVICE_H_
#define SMZ_SERVICES_PROGRAMME_PROGRAMME_GRPC_SERVICE_H_

#include "common/server/rpc_runner.h"
#include "services/programme/programme.h"
#include "smz/programme/v1/programme.grpc.pb.h"

namespace smz::programme {

class ProgrammeGrpcService final : public v1::ProgrammeService::Service {
 public:
  ProgrammeGrpcService(Programme* programme, RpcRunner* runner)
      : programme_(programme), runner_(runner) {}

  grpc::Status CreateProject(grpc::ServerContext* context,
                             const v1::CreateProjectRequest* request,
                             v1::Project* response) override;
  grpc::Status GetProject(grpc::ServerContext* context,
                          const v1::GetProjectRequest* request,
                          v1::Project* response) override;
  grpc::Status ListProjects(grpc::ServerContext* context,
                            const v1::ListProjectsRequest* request,
                            v1::ListProjectsResponse* response) override;
  grpc::Status UpdateProject(grpc::ServerContext* context,
                             const v1::UpdateProjectRequest* request,
                             v1::Project* response) override;
  grpc::Status CreateBudgetLine(grpc::ServerContext* context,
                                const v1::CreateBudgetLineRequest* request,
                                v1::BudgetLine* response) override;
  grpc::Status ListBudgetLines(grpc::ServerContext* context,
                               const v1::ListBudgetLinesRequest* request,
                               v1::ListBudgetLinesResponse* response) override;
  grpc::Status UpdateBudgetLine(grpc::ServerContext* context,
                                const v1::UpdateBudgetLineRequest* request,
                                v1::BudgetLine* response) override;
  grpc::Status RecordExecution(grpc::ServerContext* context,
                               const v1::RecordExecutionRequest* request,
                               v1::ExecutionEntry* response) override;
  grpc::Status ListExecutions(grpc::ServerContext* context,
                              const v1::ListExecutionsRequest* request,
                              v1::ListExecutionsResponse* response) override;
  grpc::Status GetBudgetTable(grpc::ServerContext* context,
                              const v1::GetBudgetTableRequest* request,
                              v1::BudgetTable* response) override;
  grpc::Status CreateIndicator(grpc::ServerContext* context,
                               const v1::CreateIndicatorRequest* request,
                               v1::Indicator* response) override;
  grpc::Status GetIndicator(grpc::ServerContext* context,
                            const v1::GetIndicatorRequest* request,
                            v1::Indicator* response) override;
  grpc::Status ListIndicators(grpc::ServerContext* context,
                              const v1::ListIndicatorsRequest* request,
                              v1::ListIndicatorsResponse* response) override;
  grpc::Status UpdateIndicator(grpc::ServerContext* context,
                               const v1::UpdateIndicatorRequest* request,
                               v1::Indicator* response) override;
  grpc::Status ListProgrammeChanges(
      grpc::ServerContext* context,
      const audit::v1::ListChangesRequest* request,
      audit::v1::ListChangesResponse* response) override;

 private:
  Programme* const programme_;
  RpcRunner* const runner_;
};

}  // namespace smz::programme

#endif  // SMZ_SERVICES_PROGRAMME_PROGRAMME_GRPC_SERVICE_H_
