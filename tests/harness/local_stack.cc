#include "tests/harness/local_stack.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/clients/bearer_context.h"
#include "common/status_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/registry/totp.h"
#include "smz/registry/v1/accounts.grpc.pb.h"

namespace smz::testing {
namespace {

namespace reg = ::smz::registry::v1;

// The options every backend shares: its own database, loopback, the
// registry, the stack's clock.
template <typename Options>
absl::Status Prepare(LocalStack& stack, const Clock* clock,
                     absl::string_view database, Options* options) {
  SMZ_ASSIGN_OR_RETURN(options->database, stack.mariadb().CreateServiceDatabase(
                                              std::string(database)));
  options->server.listen = "127.0.0.1:0";
  options->registry_target = stack.registry().target();
  options->clock = clock;
  return absl::OkStatus();
}

}  // namespace

std::unique_ptr<grpc::ClientContext> As(const std::string& token,
                                        absl::Duration deadline) {
  return BearerContext(token, deadline);
}

std::shared_ptr<grpc::Channel> LoopbackChannel(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                             grpc::InsecureChannelCredentials());
}

reg::Partner TestHospital(absl::string_view name_ko, reg::ZoneRegion region,
                          reg::PartnerKind kind) {
  reg::Partner partner;
  partner.set_kind(kind);
  (*partner.mutable_name())["ko"] = std::string(name_ko);
  (*partner.mutable_name())["en"] = absl::StrCat("Hospital ", name_ko);
  partner.set_representative("대표");
  partner.set_address("영등포로 1");
  partner.set_region(region);
  return partner;
}

absl::StatusOr<std::unique_ptr<LocalStack>> LocalStack::Start(
    const Clock* clock) {
  std::unique_ptr<LocalStack> stack(new LocalStack());
  stack->clock_ = clock;
  SMZ_ASSIGN_OR_RETURN(stack->mariadb_, MariaDbServer::Start());
  SMZ_ASSIGN_OR_RETURN(stack->registry_,
                       LocalRegistry::Start(*stack->mariadb_, clock));
  return stack;
}

absl::StatusOr<std::unique_ptr<LocalStack>> LocalStack::Start(
    const Clock* clock, std::unique_ptr<MariaDbServer> mariadb,
    std::function<void(registry::RegistryServerOptions&)> tune) {
  std::unique_ptr<LocalStack> stack(new LocalStack());
  stack->clock_ = clock;
  stack->mariadb_ = std::move(mariadb);
  SMZ_ASSIGN_OR_RETURN(
      stack->registry_,
      LocalRegistry::Start(*stack->mariadb_, clock, std::move(tune)));
  return stack;
}

LocalStack::~LocalStack() {
  // Clients of the registry first, then the registry, then the database.
  programme_.reset();
  events_.reset();
  stats_.reset();
  registry_.reset();
  mariadb_.reset();
}

absl::StatusOr<std::string> LocalStack::IssueToken(
    auth::v1::Role role, absl::string_view display_name, int64_t partner_id) {
  return registry_->IssueToken(role, display_name, partner_id);
}

absl::StatusOr<int64_t> LocalStack::AddPerson(const std::string& login,
                                              auth::v1::Role role,
                                              int64_t partner_id,
                                              const std::string& password,
                                              std::string* totp_secret) {
  auto accounts = reg::AccountService::NewStub(grpc::CreateChannel(
      registry_->target(), grpc::InsecureChannelCredentials()));
  reg::InviteAccountRequest invite;
  invite.set_login(login);
  invite.set_display_name(login);
  invite.set_role(role);
  invite.set_partner_id(partner_id);
  reg::AccountLinkResponse invited;
  grpc::Status status =
      accounts->InviteAccount(As(admin_token()).get(), invite, &invited);
  if (!status.ok()) return FromGrpcStatus(status);
  reg::SetPasswordWithLinkRequest set;
  set.set_token(invited.link().token());
  set.set_new_password(password);
  reg::Account account;
  status = accounts->SetPasswordWithLink(As("").get(), set, &account);
  if (!status.ok()) return FromGrpcStatus(status);
  if (totp_secret == nullptr) return account.id();
  reg::SignInRequest sign_in;
  sign_in.set_login(login);
  sign_in.set_password(password);
  reg::SignInResponse session;
  status = accounts->SignIn(As("").get(), sign_in, &session);
  if (!status.ok()) return FromGrpcStatus(status);
  reg::EnrolSecondFactorResponse enrolment;
  status =
      accounts->EnrolSecondFactor(As(session.session_id()).get(),
                                  reg::EnrolSecondFactorRequest(), &enrolment);
  if (!status.ok()) return FromGrpcStatus(status);
  *totp_secret = registry::DecodeBase32(enrolment.secret_base32());
  reg::ConfirmSecondFactorRequest confirm;
  confirm.set_code(registry::TotpCode(*totp_secret, clock_->Now()));
  reg::ConfirmSecondFactorResponse confirmed;
  status = accounts->ConfirmSecondFactor(As(session.session_id()).get(),
                                         confirm, &confirmed);
  if (!status.ok()) return FromGrpcStatus(status);
  return account.id();
}

absl::StatusOr<int64_t> LocalStack::AddPartner(const reg::Partner& partner,
                                               absl::string_view designated_on,
                                               absl::string_view term_ends_on) {
  reg::CreatePartnerRequest create;
  *create.mutable_partner() = partner;
  reg::Partner created;
  grpc::Status status = registry_->stub().CreatePartner(As(admin_token()).get(),
                                                        create, &created);
  if (!status.ok()) return FromGrpcStatus(status);
  if (designated_on.empty()) return created.id();
  reg::DesignationRequest designate;
  designate.set_id(created.id());
  designate.set_effective_on(std::string(designated_on));
  designate.set_term_ends_on(std::string(term_ends_on));
  status = registry_->stub().DesignatePartner(As(admin_token()).get(),
                                              designate, &created);
  if (!status.ok()) return FromGrpcStatus(status);
  return created.id();
}

absl::StatusOr<stats::StatsServer*> LocalStack::StartStats(
    std::function<void(stats::StatsServerOptions&)> tune) {
  if (stats_ != nullptr) return absl::FailedPreconditionError("stats runs");
  stats::StatsServerOptions options;
  SMZ_RETURN_IF_ERROR(Prepare(*this, clock_, "smz_stats", &options));
  SMZ_ASSIGN_OR_RETURN(options.registry_token,
                       IssueToken(auth::v1::ANALYST, "stats service"));
  if (tune) tune(options);
  SMZ_ASSIGN_OR_RETURN(stats_, stats::StatsServer::Start(options));
  return stats_.get();
}

absl::StatusOr<events::EventsServer*> LocalStack::StartEvents(
    std::function<void(events::EventsServerOptions&)> tune) {
  if (events_ != nullptr) return absl::FailedPreconditionError("events runs");
  events::EventsServerOptions options;
  SMZ_RETURN_IF_ERROR(Prepare(*this, clock_, "smz_events", &options));
  SMZ_ASSIGN_OR_RETURN(options.registry_token,
                       IssueToken(auth::v1::ANALYST, "events service"));
  if (tune) tune(options);
  SMZ_ASSIGN_OR_RETURN(events_, events::EventsServer::Start(options));
  return events_.get();
}

absl::StatusOr<programme::ProgrammeServer*> LocalStack::StartProgramme(
    std::function<void(programme::ProgrammeServerOptions&)> tune) {
  if (programme_ != nullptr) {
    return absl::FailedPreconditionError("programme runs");
  }
  programme::ProgrammeServerOptions options;
  SMZ_RETURN_IF_ERROR(Prepare(*this, clock_, "smz_programme", &options));
  if (tune) tune(options);
  SMZ_ASSIGN_OR_RETURN(programme_, programme::ProgrammeServer::Start(options));
  return programme_.get();
}

}  // namespace smz::testing
