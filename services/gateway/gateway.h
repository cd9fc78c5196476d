// The council gateway's logic: it reads the four backends with the caller's
// own credentials, concurrently and each call under a deadline, and builds
// the council's tables. A backend that is down or too slow leaves its
// section marked unavailable with the reason; the rest of the answer stands.
//
//   Gateway gateway(backends, &clock, GatewayOptions{});
//   absl::StatusOr<v1::KpiTable> table =
//       gateway.GetKpiTable("Bearer smz_…", request);
#ifndef SMZ_SERVICES_GATEWAY_GATEWAY_H_
#define SMZ_SERVICES_GATEWAY_GATEWAY_H_

#include <future>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "smz/gateway/v1/gateway.pb.h"
#include "smz/programme/v1/programme.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"

namespace smz::gateway {

namespace v1 = ::smz::gateway::v1;

// Where the backends listen.
struct BackendChannels {
  std::shared_ptr<grpc::Channel> registry;
  std::shared_ptr<grpc::Channel> stats;
  std::shared_ptr<grpc::Channel> events;
  std::shared_ptr<grpc::Channel> programme;
};

struct GatewayOptions {
  // Every backend call's own deadline: a slow backend costs at most this.
  absl::Duration backend_deadline = absl::Seconds(2);
};

class Gateway {
 public:
  Gateway(const BackendChannels& backends, const Clock* clock,
          GatewayOptions options);

  // `authorization` is the caller's "Bearer …" header, forwarded as is.
  absl::StatusOr<v1::KpiTable> GetKpiTable(
      const std::string& authorization, const v1::GetKpiTableRequest& request);
  absl::StatusOr<v1::ZoneOverview> GetZoneOverview(
      const std::string& authorization,
      const v1::GetZoneOverviewRequest& request);
  absl::StatusOr<v1::ActivityLog> GetActivityLog(
      const std::string& authorization,
      const v1::GetActivityLogRequest& request);
  absl::StatusOr<v1::UpcomingEvents> ListUpcomingEvents(
      const std::string& authorization,
      const v1::ListUpcomingEventsRequest& request);
  // `hospital_figures`: whether the caller may see one hospital's own
  // figures (ADMIN; stats shows every other role hospitals in groups only).
  absl::StatusOr<v1::PartnerProfile> GetPartnerProfile(
      const std::string& authorization, bool hospital_figures,
      const v1::GetPartnerProfileRequest& request);
  absl::StatusOr<v1::Document> GetCouncilReport(
      const std::string& authorization,
      const v1::GetCouncilReportRequest& request);
  absl::StatusOr<programme::v1::BudgetTable> GetBudgetTable(
      const std::string& authorization,
      const programme::v1::GetBudgetTableRequest& request);

  // Today in Seoul by the gateway's clock: what an absent as_of means.
  absl::StatusOr<absl::CivilDay> Today() const;

 private:
  // GetZoneOverview; with `budget_table`, its budget figures come from that
  // table (asked for by the caller) instead of a call of its own.
  absl::StatusOr<v1::ZoneOverview> BuildZoneOverview(
      const std::string& authorization,
      const v1::GetZoneOverviewRequest& request,
      std::shared_future<absl::StatusOr<programme::v1::BudgetTable>>*
          budget_table);

  std::unique_ptr<registry::v1::RegistryService::Stub> registry_;
  std::unique_ptr<stats::v1::StatsService::Stub> stats_;
  std::unique_ptr<events::v1::EventsService::Stub> events_;
  std::unique_ptr<programme::v1::ProgrammeService::Stub> programme_;
  const Clock* const clock_;
  const GatewayOptions options_;
};

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_GATEWAY_H_
