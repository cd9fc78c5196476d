#include "common/server/service_runtime.h"

#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/version.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace smz {
namespace {

DatabaseOptions ProbeOptions(DatabaseOptions options) {
  options.pool_size = 1;
  options.io_timeout = absl::Seconds(2);
  options.acquire_timeout = absl::Seconds(2);
  options.validate_after_idle = absl::ZeroDuration();
  return options;
}

}  // namespace

ServiceRuntime::ServiceRuntime(ServerOptions options,
                               const DatabaseOptions& database,
                               RpcMetrics* metrics)
    : options_(std::move(options)),
      probe_database_(std::make_unique<Database>(ProbeOptions(database))),
      probe_([db = probe_database_.get()] { return db->Ping().ok(); }),
      metrics_rpc_(metrics) {}

ServiceRuntime::ServiceRuntime(ServerOptions options,
                               std::function<bool()> probe, RpcMetrics* metrics)
    : options_(std::move(options)),
      probe_(std::move(probe)),
      metrics_rpc_(metrics) {}

ServiceRuntime::~ServiceRuntime() { Shutdown(); }

namespace {

// gRPC's reflection library adds itself to every server of the process
// (InitProtoReflectionServerBuilderPlugin, and a static initializer of its
// own): this takes it off the one server it is given to, the plaintext
// health port, where anyone may ask.
class WithoutReflection : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->erase(
        std::remove_if(plugins->begin(), plugins->end(),
                       [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                         return p->name().find("reflection") !=
                                std::string::npos;
                       }),
        plugins->end());
  }
};

}  // namespace

absl::Status ServiceRuntime::Start(
    const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC binds with SO_REUSEPORT by default: a second (stale) instance on the
  // same port would then silently share the traffic. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (absl::Status s = CheckServerTlsOptions(options_.tls); !s.ok()) return s;
  builder.AddListeningPort(options_.listen, ServerCredentialsFor(options_.tls),
                           &port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  // Clients connect again now and then (after the grace, calls under way
  // finished), resolving the service's name anew: a replica added behind
  // dns:/// gets its share instead of waiting for the old ones to restart.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options_.max_connection_age)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(
                                 options_.max_connection_age_grace)));
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                             options_.max_metadata_bytes);
  grpc::ResourceQuota quota("smz-server");
  quota.SetMaxThreads(options_.max_threads);
  quota.Resize(static_cast<size_t>(options_.max_buffer_bytes));
  builder.SetResourceQuota(quota);
  // gRPC's sync server starts a thread whenever its last idle poller picks up
  // work and ends threads beyond MAX_POLLERS when they go idle; the default
  // of 2 made it create and destroy a thread per RPC under concurrency.
  // Keeping up to `worker_threads` idle pollers removes that churn.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
      options_.worker_threads);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen));
  }
  if (!options_.health_listen.empty()) {
    // Its own server: the only service there is the default health one.
    grpc::ServerBuilder health;
    health.SetOption(std::make_unique<WithoutReflection>());
    // Every other method: UNIMPLEMENTED (and gRPC wants one service of the
    // callback API registered before it adds its default health one).
    health.RegisterCallbackGenericService(&health_only_);
    health.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    health.AddListeningPort(options_.health_listen,
                            grpc::InsecureServerCredentials(), &health_port_);
    // Anyone who reaches it may ask: small messages, a few streams (Watch
    // holds one open), a few threads.
    health.SetMaxReceiveMessageSize(4 << 10);
    health.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 4 << 10);
    health.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 16);
    grpc::ResourceQuota health_quota("smz-health");
    health_quota.SetMaxThreads(8);
    health_quota.Resize(size_t{4} << 20);
    health.SetResourceQuota(health_quota);
    health_server_ = health.BuildAndStart();
    if (health_server_ == nullptr || health_port_ == 0) {
      server_->Shutdown();
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.health_listen));
    }
  }
  if (!options_.metrics_listen.empty() && metrics_rpc_ != nullptr) {
    if (absl::Status s = metrics_.Start(options_.metrics_listen, *metrics_rpc_);
        !s.ok()) {
      server_->Shutdown();
      return s;
    }
  }
  // Report the truth before the first probe interval passes.
  SetServing(probe_());
  RecordCertificateExpiry();
  probe_thread_ = std::thread([this] { ProbeLoop(); });
  return absl::OkStatus();
}

void ServiceRuntime::ProbeLoop() {
  absl::Time certificates_read = absl::Now();
  while (
      !stop_probe_.WaitForNotificationWithTimeout(options_.health_interval)) {
    SetServing(probe_());
    if (sample_) sample_();
    // As often as the TLS provider looks for a renewal.
    if (absl::Now() - certificates_read >= options_.tls.refresh) {
      certificates_read = absl::Now();
      RecordCertificateExpiry();
    }
  }
}

void ServiceRuntime::RecordCertificateExpiry() {
  if (metrics_rpc_ == nullptr) return;
  // A file being renewed may be unreadable, or a new certificate may stand
  // beside the old key, for a moment: what is served is then still the old
  // pair, and the gauge keeps its date until the next look.
  if (!options_.tls.cert_file.empty()) {
    absl::StatusOr<absl::Time> not_after =
        CertificateNotAfter(options_.tls.cert_file, options_.tls.key_file);
    if (not_after.ok()) metrics_rpc_->SetCertificateExpiry("grpc", *not_after);
  }
  if (!options_.tls.ca_file.empty()) {
    absl::StatusOr<absl::Time> not_after =
        CertificateNotAfter(options_.tls.ca_file);
    if (not_after.ok()) {
      metrics_rpc_->SetCertificateExpiry("grpc_ca", *not_after);
    }
  }
}

void ServiceRuntime::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_ || server_ == nullptr) return;
  if (serving != serving_) {
    Log(serving ? LogLevel::kInfo : LogLevel::kWarning, "health changed",
        {{"status", serving ? "SERVING" : "NOT_SERVING"},
         {"reason", serving ? "database reachable" : "database unreachable"}});
  }
  serving_ = serving;
  if (metrics_rpc_ != nullptr) metrics_rpc_->SetReady(serving);
  for (grpc::Server* server : {server_.get(), health_server_.get()}) {
    if (server == nullptr) continue;
    grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
    health->SetServingStatus(serving);
    health->SetServingStatus(kReadinessHealthName, serving);
    // The process answers: alive, whatever the database says.
    health->SetServingStatus(kLivenessHealthName, true);
    for (const std::string& name : options_.health_service_names) {
      health->SetServingStatus(name, serving);
    }
  }
}

bool ServiceRuntime::serving() const {
  absl::MutexLock lock(&mu_);
  return serving_;
}

void ServiceRuntime::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_ || server_ == nullptr) return;
    shut_down_ = true;
    server_->GetHealthCheckService()->Shutdown();
    if (health_server_ != nullptr) {
      health_server_->GetHealthCheckService()->Shutdown();
    }
  }
  stop_probe_.Notify();
  if (probe_thread_.joinable()) probe_thread_.join();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
  server_->Wait();
  if (health_server_ != nullptr) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
  metrics_.Stop();
  if (probe_database_ != nullptr) probe_database_->Close();
}

void ConfigureServiceProcess() {
  InstallVersionFlag();
  // Debian's Abseil is built with mutex deadlock detection on, which keeps a
  // global lock-order graph updated on every Mutex use: ~5% of CPU on
  // GetPartner. Service binaries turn it off; tests keep it on, so lock-order
  // cycles still fail there.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

void BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return signal_number;
}

int ExitForBadConfiguration(absl::string_view error) {
  Log(LogLevel::kError, "bad configuration", {{"error", error}});
  return 2;
}

int ExitForStartFailure(const absl::Status& status) {
  Log(LogLevel::kError, "cannot start", {{"error", status.message()}});
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

int ServeUntilTerminated(absl::FunctionRef<void()> shutdown) {
  const int signal_number = WaitForTerminationSignal();
  Log(LogLevel::kInfo, "shutting down",
      {{"signal", absl::StrCat(signal_number)}});
  shutdown();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace smz
