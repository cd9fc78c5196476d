// The harness for service tests that need running services (the
// registry's own tests aside, which start RegistryServer as the thing under
// test): a
// private MariaDB, the registry with its bootstrap admin token, and any of
// stats, events and programme on ephemeral loopback ports, each in its own
// database and authenticating callers through the registry, as in
// production.
//
//   FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
//   absl::StatusOr<std::unique_ptr<smz::testing::LocalStack>> stack =
//       smz::testing::LocalStack::Start(&clock);
//   absl::StatusOr<int64_t> hospital = (*stack)->AddPartner(
//       smz::testing::TestHospital("병원1"), "2025-01-15", "2027-12-31");
//   absl::StatusOr<std::string> clerk =
//       (*stack)->IssueToken(auth::v1::PARTNER, "clerk", *hospital);
//   absl::StatusOr<stats::StatsServer*> stats = (*stack)->StartStats();
//   auto stub = stats::v1::StatsService::NewStub(
//       smz::testing::LoopbackChannel((*stats)->port()));
//   stub->SubmitReport(smz::testing::As(*clerk).get(), request, &response);
#ifndef SMZ_TESTS_HARNESS_LOCAL_STACK_H_
#define SMZ_TESTS_HARNESS_LOCAL_STACK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "services/events/events_server.h"
#include "services/programme/programme_server.h"
#include "services/stats/stats_server.h"
#include "smz/registry/v1/registry.pb.h"
#include "tests/harness/local_registry.h"
#include "tests/harness/mariadb_server.h"

namespace smz::testing {

// A client context carrying `token` (none when empty) and a deadline.
std::unique_ptr<grpc::ClientContext> As(
    const std::string& token, absl::Duration deadline = absl::Seconds(30));

std::shared_ptr<grpc::Channel> LoopbackChannel(int port);

// A partner the registry accepts: Korean and English names, representative,
// address, region and kind.
registry::v1::Partner TestHospital(
    absl::string_view name_ko,
    registry::v1::ZoneRegion region = registry::v1::YEONGDEUNGPO,
    registry::v1::PartnerKind kind = registry::v1::SPECIALIZED_OPERATOR);

class LocalStack {
 public:
  // `clock` (not owned) is every server's clock.
  static absl::StatusOr<std::unique_ptr<LocalStack>> Start(const Clock* clock);
  // The same over a MariaDB that already runs (e.g. one a backup was
  // restored into), with the registry's options adjusted by `tune`.
  static absl::StatusOr<std::unique_ptr<LocalStack>> Start(
      const Clock* clock, std::unique_ptr<MariaDbServer> mariadb,
      std::function<void(registry::RegistryServerOptions&)> tune);
  ~LocalStack();

  MariaDbServer& mariadb() { return *mariadb_; }
  LocalRegistry& registry() { return *registry_; }
  const std::string& admin_token() const { return registry_->admin_token(); }

  absl::StatusOr<std::string> IssueToken(auth::v1::Role role,
                                         absl::string_view display_name,
                                         int64_t partner_id = 0);

  // A person's account, invited and given `password` through the one-time
  // link as a person would. With `totp_secret`, the account also enrols a
  // second factor (as an ADMIN must before changing anything) and the
  // secret's bytes are kept there for TotpCode; the code it confirmed with
  // is the clock's current step, so a sign-in needs a later one.
  absl::StatusOr<int64_t> AddPerson(const std::string& login,
                                    auth::v1::Role role, int64_t partner_id,
                                    const std::string& password,
                                    std::string* totp_secret = nullptr);

  // Creates `partner`; with dates, designates it for that term.
  absl::StatusOr<int64_t> AddPartner(const registry::v1::Partner& partner,
                                     absl::string_view designated_on = "",
                                     absl::string_view term_ends_on = "");

  // Each starts the service once (a second call is FAILED_PRECONDITION);
  // `tune` adjusts its options before start. Stats and events read partners
  // with an ANALYST token of their own.
  absl::StatusOr<stats::StatsServer*> StartStats(
      std::function<void(stats::StatsServerOptions&)> tune = nullptr);
  absl::StatusOr<events::EventsServer*> StartEvents(
      std::function<void(events::EventsServerOptions&)> tune = nullptr);
  absl::StatusOr<programme::ProgrammeServer*> StartProgramme(
      std::function<void(programme::ProgrammeServerOptions&)> tune = nullptr);

  stats::StatsServer* stats() { return stats_.get(); }
  events::EventsServer* events() { return events_.get(); }
  programme::ProgrammeServer* programme() { return programme_.get(); }

 private:
  LocalStack() = default;

  const Clock* clock_ = nullptr;
  std::unique_ptr<MariaDbServer> mariadb_;
  std::unique_ptr<LocalRegistry> registry_;
  std::unique_ptr<stats::StatsServer> stats_;
  std::unique_ptr<events::EventsServer> events_;
  std::unique_ptr<programme::ProgrammeServer> programme_;
};

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_LOCAL_STACK_H_
