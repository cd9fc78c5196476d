// The statistics service's gRPC face: each handler runs through the RPC runner
// and hands the authenticated caller to Stats. Who may call each method is
// declared next to it in stats.proto (option (smz.auth.v1.allowed_roles)) and
// enforced by the runner; finer rules are in stats.cc (a PARTNER files and
// reads its own reports; hospitals in groups for every role but ADMIN).
#ifndef SMZ_SERVICES_STATS_STATS_GRPC_SERVICE_H_
#define SMZ_SERVICES_STATS_STATS_GRPC_SERVICE_H_

#include "common/mail/outbox.h"
#include "common/server/rpc_runner.h"
#include "services/stats/stats.h"
#include "smz/stats/v1/stats.grpc.pb.h"

namespace smz::stats {

// QueryAggregate takes the callback API (RpcRunner::RunCallback): an
// aggregate memory holds at the rollups' current stamp waits on no thread
// but for the stamp. The rest is synchronous.
using StatsServiceBase = v1::StatsService::WithCallbackMethod_QueryAggregate<
    v1::StatsService::Service>;

class StatsGrpcService final : public StatsServiceBase {
 public:
  // `outbox`: the service's mail, for ListStatsMail and RetryStatsMail.
  StatsGrpcService(Stats* stats, Outbox* outbox, RpcRunner* runner)
      : stats_(stats), outbox_(outbox), runner_(runner) {}

  grpc::Status SubmitReport(grpc::ServerContext* context,
                            const v1::SubmitReportRequest* request,
                            v1::SubmitReportResponse* response) override;
  grpc::Status GetReport(grpc::ServerContext* context,
                         const v1::GetReportRequest* request,
                         v1::Report* response) override;
  grpc::Status ListReports(grpc::ServerContext* context,
                           const v1::ListReportsRequest* request,
                           v1::ListReportsResponse* response) override;
  grpc::Status AcceptReport(grpc::ServerContext* context,
                            const v1::AcceptReportRequest* request,
                            v1::Report* response) override;
  grpc::Status GrantLockException(grpc::ServerContext* context,
                                  const v1::GrantLockExceptionRequest* request,
                                  v1::LockException* response) override;
  grpc::Status ListLockExceptions(
      grpc::ServerContext* context,
      const v1::ListLockExceptionsRequest* request,
      v1::ListLockExceptionsResponse* response) override;
  grpc::Status ListReportChanges(
      grpc::ServerContext* context, const v1::ListReportChangesRequest* request,
      v1::ListReportChangesResponse* response) override;
  grpc::Status ListWarnings(grpc::ServerContext* context,
                            const v1::ListWarningsRequest* request,
                            v1::ListWarningsResponse* response) override;
  grpc::Status ImportReports(grpc::ServerContext* context,
                             const v1::ImportReportsRequest* request,
                             v1::ImportReportsResponse* response) override;
  grpc::ServerUnaryReactor* QueryAggregate(
      grpc::CallbackServerContext* context, const v1::AggregateRequest* request,
      v1::AggregateResponse* response) override;
  grpc::Status ExportAggregateCsv(grpc::ServerContext* context,
                                  const v1::AggregateRequest* request,
                                  v1::CsvFile* response) override;
  grpc::Status ExportAggregateXlsx(grpc::ServerContext* context,
                                   const v1::AggregateRequest* request,
                                   v1::CsvFile* response) override;
  grpc::Status CompareWithZone(grpc::ServerContext* context,
                               const v1::CompareWithZoneRequest* request,
                               v1::ZoneComparison* response) override;
  grpc::Status GetReportingCalendar(
      grpc::ServerContext* context,
      const v1::GetReportingCalendarRequest* request,
      v1::ReportingCalendar* response) override;
  grpc::Status GetCompleteness(grpc::ServerContext* context,
                               const v1::GetCompletenessRequest* request,
                               v1::CompletenessResponse* response) override;
  grpc::Status GetKpiProgress(grpc::ServerContext* context,
                              const v1::GetKpiProgressRequest* request,
                              v1::KpiProgress* response) override;
  grpc::Status ListStatsMail(grpc::ServerContext* context,
                             const mail::v1::ListMailRequest* request,
                             mail::v1::ListMailResponse* response) override;
  grpc::Status RetryStatsMail(grpc::ServerContext* context,
                              const mail::v1::RetryMailRequest* request,
                              mail::v1::Mail* response) override;
  grpc::Status ExportAnnualReport(grpc::ServerContext* context,
                                  const v1::ExportAnnualReportRequest* request,
                                  v1::CsvFile* response) override;

 private:
  Stats* const stats_;
  Outbox* const outbox_;
  RpcRunner* const runner_;
};

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_STATS_GRPC_SERVICE_H_
