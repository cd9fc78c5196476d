#include "services/programme/programme_grpc_service.h"

namespace smz::programme {

grpc::Status ProgrammeGrpcService::CreateProject(
    grpc::ServerContext* context, const v1::CreateProjectRequest* request,
    v1::Project* response) {
  return runner_->Run(context, "CreateProject", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return programme_->CreateProject(caller, *request); });
  });
}

grpc::Status ProgrammeGrpcService::GetProject(
    grpc::ServerContext* context, const v1::GetProjectRequest* request,
    v1::Project* response) {
  return runner_->Run(context, "GetProject", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return programme_->GetProject(*request); });
  });
}

grpc::Status ProgrammeGrpcService::ListProjects(
    grpc::ServerContext* context, const v1::ListProjectsRequest* request,
    v1::ListProjectsResponse* response) {
  return runner_->Run(context, "ListProjects", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return programme_->ListProjects(*request); });
  });
}

grpc::Status ProgrammeGrpcService::UpdateProject(
    grpc::ServerContext* context, const v1::UpdateProjectRequest* request,
    v1::Project* response) {
  return runner_->Run(context, "UpdateProject", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return programme_->UpdateProject(caller, *request); });
  });
}

grpc::Status ProgrammeGrpcService::CreateBudgetLine(
    grpc::ServerContext* context, const v1::CreateBudgetLineRequest* request,
    v1::BudgetLine* response) {
  return runner_->Run(context, "CreateBudgetLine",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return programme_->CreateBudgetLine(caller, *request);
                        });
                      });
}

grpc::Status ProgrammeGrpcService::ListBudgetLines(
    grpc::ServerContext* context, const v1::ListBudgetLinesRequest* request,
    v1::ListBudgetLinesResponse* response) {
  return runner_->Run(context, "ListBudgetLines", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return programme_->ListBudgetLines(*request); });
  });
}

grpc::Status ProgrammeGrpcService::UpdateBudgetLine(
    grpc::ServerContext* context, const v1::UpdateBudgetLineRequest* request,
    v1::BudgetLine* response) {
  return runner_->Run(context, "UpdateBudgetLine",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return programme_->UpdateBudgetLine(caller, *request);
                        });
                      });
}

grpc::Status ProgrammeGrpcService::RecordExecution(
    grpc::ServerContext* context, const v1::RecordExecutionRequest* request,
    v1::ExecutionEntry* response) {
  return runner_->Run(context, "RecordExecution", [&](const Principal& caller) {
    return RespondWith(response, [&] {
      return programme_->RecordExecution(caller, *request);
    });
  });
}

grpc::Status ProgrammeGrpcService::ListExecutions(
    grpc::ServerContext* context, const v1::ListExecutionsRequest* request,
    v1::ListExecutionsResponse* response) {
  return runner_->Run(context, "ListExecutions", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return programme_->ListExecutions(*request); });
  });
}

grpc::Status ProgrammeGrpcService::GetBudgetTable(
    grpc::ServerContext* context, const v1::GetBudgetTableRequest* request,
    v1::BudgetTable* response) {
  return runner_->Run(context, "GetBudgetTable", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return programme_->GetBudgetTable(*request); });
  });
}

grpc::Status ProgrammeGrpcService::CreateIndicator(
    grpc::ServerContext* context, const v1::CreateIndicatorRequest* request,
    v1::Indicator* response) {
  return runner_->Run(context, "CreateIndicator", [&](const Principal& caller) {
    return RespondWith(response, [&] {
      return programme_->CreateIndicator(caller, *request);
    });
  });
}

grpc::Status ProgrammeGrpcService::GetIndicator(
    grpc::ServerContext* context, const v1::GetIndicatorRequest* request,
    v1::Indicator* response) {
  return runner_->Run(context, "GetIndicator", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return programme_->GetIndicator(*request); });
  });
}

grpc::Status ProgrammeGrpcService::ListIndicators(
    grpc::ServerContext* context, const v1::ListIndicatorsRequest* request,
    v1::ListIndicatorsResponse* response) {
  return runner_->Run(context, "ListIndicators", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return programme_->ListIndicators(*request); });
  });
}

grpc::Status ProgrammeGrpcService::UpdateIndicator(
    grpc::ServerContext* context, const v1::UpdateIndicatorRequest* request,
    v1::Indicator* response) {
  return runner_->Run(context, "UpdateIndicator", [&](const Principal& caller) {
    return RespondWith(response, [&] {
      return programme_->UpdateIndicator(caller, *request);
    });
  });
}

grpc::Status ProgrammeGrpcService::ListProgrammeChanges(
    grpc::ServerContext* context, const audit::v1::ListChangesRequest* request,
    audit::v1::ListChangesResponse* response) {
  return runner_->Run(context, "ListProgrammeChanges", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return programme_->ListChanges(*request); });
  });
}

}  // namespace smz::programme
