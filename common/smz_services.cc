#include "common/smz_services.h"

#include "smz/events/v1/events.pb.h"
#include "smz/gateway/v1/gateway.pb.h"
#include "smz/programme/v1/programme.pb.h"
#include "smz/registry/v1/accounts.pb.h"
#include "smz/registry/v1/registry.pb.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz {

const std::vector<const google::protobuf::ServiceDescriptor*>& SmzServices() {
  // Through a message of each file, so that the linker keeps the generated
  // code and its descriptors are registered.
  static const auto* const kServices =
      new std::vector<const google::protobuf::ServiceDescriptor*>{
          registry::v1::Partner::descriptor()->file()->FindServiceByName(
              "RegistryService"),
          registry::v1::Account::descriptor()->file()->FindServiceByName(
              "AccountService"),
          stats::v1::Report::descriptor()->file()->FindServiceByName(
              "StatsService"),
          events::v1::Event::descriptor()->file()->FindServiceByName(
              "EventsService"),
          programme::v1::Project::descriptor()->file()->FindServiceByName(
              "ProgrammeService"),
          gateway::v1::KpiTable::descriptor()->file()->FindServiceByName(
              "GatewayService"),
      };
  return *kServices;
}

}  // namespace smz
