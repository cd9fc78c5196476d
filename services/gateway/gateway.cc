#include "services/gateway/gateway_internal.h"

namespace smz::gateway {

Gateway::Gateway(const BackendChannels& backends, const Clock* clock,
                 GatewayOptions options)
    : registry_(rv1::RegistryService::NewStub(backends.registry)),
      stats_(sv1::StatsService::NewStub(backends.stats)),
      events_(ev1::EventsService::NewStub(backends.events)),
      programme_(pv1::ProgrammeService::NewStub(backends.programme)),
      clock_(clock),
      options_(options) {}

absl::StatusOr<absl::CivilDay> Gateway::Today() const {
  return AsOf("", *clock_, "");
}

absl::StatusOr<programme::v1::BudgetTable> Gateway::GetBudgetTable(
    const std::string& authorization,
    const programme::v1::GetBudgetTableRequest& request) {
  return Call("programme", authorization, options_.backend_deadline,
              *programme_, &pv1::ProgrammeService::Stub::GetBudgetTable,
              request);
}

}  // namespace smz::gateway
