#include "services/stats/stats_grpc_service.h"

#include <utility>

#include "common/mail/mail_api.h"

namespace smz::stats {
grpc::Status StatsGrpcService::SubmitReport(
    grpc::ServerContext* context, const v1::SubmitReportRequest* request,
    v1::SubmitReportResponse* response) {
  return runner_->Run(context, "SubmitReport", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return stats_->SubmitReport(caller, *request); });
  });
}

grpc::Status StatsGrpcService::GetReport(grpc::ServerContext* context,
                                         const v1::GetReportRequest* request,
                                         v1::Report* response) {
  return runner_->Run(context, "GetReport", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return stats_->GetReport(caller, *request); });
  });
}

grpc::Status StatsGrpcService::ListReports(
    grpc::ServerContext* context, const v1::ListReportsRequest* request,
    v1::ListReportsResponse* response) {
  return runner_->Run(context, "ListReports", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return stats_->ListReports(caller, *request); });
  });
}

grpc::Status StatsGrpcService::AcceptReport(
    grpc::ServerContext* context, const v1::AcceptReportRequest* request,
    v1::Report* response) {
  return runner_->Run(context, "AcceptReport", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return stats_->AcceptReport(caller, *request); });
  });
}

grpc::Status StatsGrpcService::GrantLockException(
    grpc::ServerContext* context, const v1::GrantLockExceptionRequest* request,
    v1::LockException* response) {
  return runner_->Run(context, "GrantLockException",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return stats_->GrantLockException(caller, *request);
                        });
                      });
}

grpc::Status StatsGrpcService::ListLockExceptions(
    grpc::ServerContext* context, const v1::ListLockExceptionsRequest* request,
    v1::ListLockExceptionsResponse* response) {
  return runner_->Run(context, "ListLockExceptions",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return stats_->ListLockExceptions(caller, *request);
                        });
                      });
}

grpc::Status StatsGrpcService::ListReportChanges(
    grpc::ServerContext* context, const v1::ListReportChangesRequest* request,
    v1::ListReportChangesResponse* response) {
  return runner_->Run(context, "ListReportChanges",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return stats_->ListReportChanges(caller, *request);
                        });
                      });
}

grpc::Status StatsGrpcService::ListWarnings(
    grpc::ServerContext* context, const v1::ListWarningsRequest* request,
    v1::ListWarningsResponse* response) {
  return runner_->Run(context, "ListWarnings", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return stats_->ListWarnings(caller, *request); });
  });
}

grpc::Status StatsGrpcService::ImportReports(
    grpc::ServerContext* context, const v1::ImportReportsRequest* request,
    v1::ImportReportsResponse* response) {
  return runner_->Run(context, "ImportReports", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return stats_->ImportReports(caller, *request); });
  });
}

grpc::ServerUnaryReactor* StatsGrpcService::QueryAggregate(
    grpc::CallbackServerContext* context, const v1::AggregateRequest* request,
    v1::AggregateResponse* response) {
  // No stamp to ask when memory cannot answer anyway.
  FreshnessFence* fence = stats_->MayAnswerFromMemory(*request)
                              ? &stats_->rollups_fence()
                              : nullptr;
  return runner_->RunCallback(
      context, "QueryAggregate", fence,
      [this, request, response](
          const Principal& caller,
          const std::string& stamp) -> std::optional<absl::Status> {
        std::optional<v1::AggregateResponse> kept =
            stats_->QueryAggregateFromMemory(caller, *request, stamp);
        if (!kept.has_value()) return std::nullopt;
        *response = *std::move(kept);
        return absl::OkStatus();
      },
      [this, request, response](const Principal& caller) {
        return RespondWith(
            response, [&] { return stats_->QueryAggregate(caller, *request); });
      });
}

grpc::Status StatsGrpcService::ExportAggregateCsv(
    grpc::ServerContext* context, const v1::AggregateRequest* request,
    v1::CsvFile* response) {
  return runner_->Run(context, "ExportAggregateCsv",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return stats_->ExportAggregateCsv(caller, *request);
                        });
                      });
}

grpc::Status StatsGrpcService::ExportAggregateXlsx(
    grpc::ServerContext* context, const v1::AggregateRequest* request,
    v1::CsvFile* response) {
  return runner_->Run(context, "ExportAggregateXlsx",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return stats_->ExportAggregateXlsx(caller, *request);
                        });
                      });
}

grpc::Status StatsGrpcService::CompareWithZone(
    grpc::ServerContext* context, const v1::CompareWithZoneRequest* request,
    v1::ZoneComparison* response) {
  return runner_->Run(context, "CompareWithZone", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return stats_->CompareWithZone(caller, *request); });
  });
}

grpc::Status StatsGrpcService::GetReportingCalendar(
    grpc::ServerContext* context,
    const v1::GetReportingCalendarRequest* request,
    v1::ReportingCalendar* response) {
  return runner_->Run(context, "GetReportingCalendar",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return stats_->GetReportingCalendar(caller, *request);
                        });
                      });
}

grpc::Status StatsGrpcService::GetCompleteness(
    grpc::ServerContext* context, const v1::GetCompletenessRequest* request,
    v1::CompletenessResponse* response) {
  return runner_->Run(context, "GetCompleteness", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return stats_->GetCompleteness(caller, *request); });
  });
}

grpc::Status StatsGrpcService::GetKpiProgress(
    grpc::ServerContext* context, const v1::GetKpiProgressRequest* request,
    v1::KpiProgress* response) {
  return runner_->Run(context, "GetKpiProgress", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return stats_->GetKpiProgress(caller, *request); });
  });
}

grpc::Status StatsGrpcService::ListStatsMail(
    grpc::ServerContext* context, const mail::v1::ListMailRequest* request,
    mail::v1::ListMailResponse* response) {
  return runner_->Run(context, "ListStatsMail", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return smz::ListMail(*outbox_, *request); });
  });
}

grpc::Status StatsGrpcService::RetryStatsMail(
    grpc::ServerContext* context, const mail::v1::RetryMailRequest* request,
    mail::v1::Mail* response) {
  return runner_->Run(context, "RetryStatsMail", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return smz::RetryMail(*outbox_, *request); });
  });
}

grpc::Status StatsGrpcService::ExportAnnualReport(
    grpc::ServerContext* context, const v1::ExportAnnualReportRequest* request,
    v1::CsvFile* response) {
  return runner_->Run(context, "ExportAnnualReport",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return stats_->ExportAnnualReport(caller, *request);
                        });
                      });
}

}  // namespace smz::stats
