// gateway: the council's tables from registry, stats, events and programme.
//
//   gateway --listen=127.0.0.1:50055 --metrics_listen=127.0.0.1:9468
//     --registry_target=127.0.0.1:50051 --stats_target=127.0.0.1:50052
//     --events_target=127.0.0.1:50053 --programme_target=127.0.0.1:50054
//     --http_listen=127.0.0.1:8055 --backend_deadline=2s
//
// Every flag also reads an SMZ_* environment variable (common/config.h).
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/server/service_main.h"
#include "common/server/service_runtime.h"
#include "common/version.h"
#include "services/gateway/gateway_server.h"

ABSL_FLAG(std::string, stats_target, "",
          "the stats service (env SMZ_STATS_TARGET)");
ABSL_FLAG(std::string, events_target, "",
          "the events service (env SMZ_EVENTS_TARGET)");
ABSL_FLAG(std::string, programme_target, "",
          "the programme service (env SMZ_PROGRAMME_TARGET)");
ABSL_FLAG(std::string, http_listen, "",
          "HTTP/JSON listen address, \"off\" for none (env SMZ_HTTP_LISTEN; "
          "default 127.0.0.1:8055)");
ABSL_FLAG(std::string, http_max_connections, "",
          "HTTP connections at once, in all (env SMZ_HTTP_MAX_CONNECTIONS; "
          "default 1000)");
ABSL_FLAG(std::string, http_max_connections_per_client, "",
          "HTTP connections at once from one address; behind a proxy every "
          "client has the proxy's address (env "
          "SMZ_HTTP_MAX_CONNECTIONS_PER_CLIENT; default 256)");
ABSL_FLAG(std::string, http_secure_cookies, "",
          "\"true\" when browsers reach the pages over HTTPS (a TLS proxy in "
          "front): session cookies then carry Secure (env "
          "SMZ_HTTP_SECURE_COOKIES; default false)");
ABSL_FLAG(std::string, http_tls_cert, "",
          "PEM certificate chain the HTTP side presents: it then serves "
          "HTTPS only (env SMZ_HTTP_TLS_CERT; default plain HTTP)");
ABSL_FLAG(std::string, http_tls_key, "",
          "PEM private key of --http_tls_cert (env SMZ_HTTP_TLS_KEY)");
ABSL_FLAG(std::string, http_trusted_proxies, "",
          "comma-separated addresses of the proxies in front; behind one, a "
          "request's client is taken from X-Forwarded-For (env "
          "SMZ_HTTP_TRUSTED_PROXIES; default none)");
ABSL_FLAG(std::string, backend_deadline, "",
          "deadline of each backend call, e.g. 2s (env "
          "SMZ_BACKEND_DEADLINE; default 2s)");
ABSL_FLAG(std::string, council_cache_mb, "",
          "MiB of council tables kept in memory while no backend's data "
          "changes, 0 to compute every answer (env SMZ_COUNCIL_CACHE_MB; "
          "default 16)");

int main(int argc, char** argv) {
  smz::ConfigureServiceProcess();
  smz::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  if (absl::StatusOr<bool> migrate_only = smz::MigrateOnlyFlag();
      !migrate_only.ok() || *migrate_only) {
    return smz::ExitForBadConfiguration(
        "--migrate_only: the gateway has no database to migrate");
  }
  const smz::ServiceConfig config = smz::LoadListenConfig("127.0.0.1:50055");
  smz::gateway::GatewayServerOptions options;
  options.server.listen = config.listen;
  options.server.metrics_listen = config.metrics_listen;
  options.server.health_listen = config.health_listen;
  // The same certificate serves callers and dials the services.
  absl::StatusOr<smz::TlsOptions> tls = smz::LoadTlsOptions();
  if (!tls.ok()) return smz::ExitForBadConfiguration(tls.status().message());
  options.server.tls = *tls;
  options.registry_target = smz::RegistryTargetFlag();
  options.stats_target =
      smz::FlagOrEnv(absl::GetFlag(FLAGS_stats_target), "SMZ_STATS_TARGET", "");
  options.events_target = smz::FlagOrEnv(absl::GetFlag(FLAGS_events_target),
                                         "SMZ_EVENTS_TARGET", "");
  options.programme_target = smz::FlagOrEnv(
      absl::GetFlag(FLAGS_programme_target), "SMZ_PROGRAMME_TARGET", "");
  options.http_listen = smz::FlagOrEnv(absl::GetFlag(FLAGS_http_listen),
                                       "SMZ_HTTP_LISTEN", "127.0.0.1:8055");
  if (options.http_listen == "off") options.http_listen.clear();
  const std::string secure_cookies =
      smz::FlagOrEnv(absl::GetFlag(FLAGS_http_secure_cookies),
                     "SMZ_HTTP_SECURE_COOKIES", "false");
  if (secure_cookies != "true" && secure_cookies != "false") {
    return smz::ExitForBadConfiguration(
        "--http_secure_cookies must be true or false");
  }
  options.http.secure_cookies = secure_cookies == "true";
  options.http.tls_cert_file = smz::FlagOrEnv(
      absl::GetFlag(FLAGS_http_tls_cert), "SMZ_HTTP_TLS_CERT", "");
  options.http.tls_key_file =
      smz::FlagOrEnv(absl::GetFlag(FLAGS_http_tls_key), "SMZ_HTTP_TLS_KEY", "");
  for (absl::string_view proxy :
       absl::StrSplit(smz::FlagOrEnv(absl::GetFlag(FLAGS_http_trusted_proxies),
                                     "SMZ_HTTP_TRUSTED_PROXIES", ""),
                      ',', absl::SkipWhitespace())) {
    const std::string address =
        smz::CheckedClientAddress(absl::StripAsciiWhitespace(proxy));
    if (address.empty()) {
      return smz::ExitForBadConfiguration(
          absl::StrCat("--http_trusted_proxies: ", proxy, " is no IP address"));
    }
    options.http.trusted_proxies.push_back(address);
  }
  struct Limit {
    const absl::Flag<std::string>* flag;
    const char* env;
    const char* fallback;
    unsigned* value;
  };
  for (const Limit& limit :
       {Limit{&FLAGS_http_max_connections, "SMZ_HTTP_MAX_CONNECTIONS", "1000",
              &options.http.max_connections},
        Limit{&FLAGS_http_max_connections_per_client,
              "SMZ_HTTP_MAX_CONNECTIONS_PER_CLIENT", "256",
              &options.http.max_connections_per_client}}) {
    const std::string text =
        smz::FlagOrEnv(absl::GetFlag(*limit.flag), limit.env, limit.fallback);
    if (!absl::SimpleAtoi(text, limit.value) || *limit.value < 1 ||
        *limit.value > 100000) {
      return smz::ExitForBadConfiguration(absl::StrCat(
          limit.env, " (or its flag) must be 1..100000, not '", text, "'"));
    }
  }
  const std::string deadline = smz::FlagOrEnv(
      absl::GetFlag(FLAGS_backend_deadline), "SMZ_BACKEND_DEADLINE", "2s");
  if (!absl::ParseDuration(deadline, &options.gateway.backend_deadline) ||
      options.gateway.backend_deadline <= absl::ZeroDuration()) {
    return smz::ExitForBadConfiguration(absl::StrCat(
        "--backend_deadline '", deadline, "' is not a positive duration"));
  }
  const std::string cache_mb = smz::FlagOrEnv(
      absl::GetFlag(FLAGS_council_cache_mb), "SMZ_COUNCIL_CACHE_MB", "16");
  size_t mebibytes = 0;
  if (!absl::SimpleAtoi(cache_mb, &mebibytes) || mebibytes > 4096) {
    return smz::ExitForBadConfiguration(absl::StrCat(
        "--council_cache_mb must be 0..4096, not '", cache_mb, "'"));
  }
  options.council_cache.max_bytes = mebibytes << 20;
  absl::StatusOr<std::unique_ptr<smz::gateway::GatewayServer>> server =
      smz::gateway::GatewayServer::Start(options);
  if (!server.ok()) return smz::ExitForStartFailure(server.status());
  smz::Log(
      smz::LogLevel::kInfo, "gateway serving",
      {{"listen", config.listen},
       {"grpc_port", absl::StrCat((*server)->port())},
       {"metrics_port", absl::StrCat((*server)->metrics_port())},
       {"http_port", absl::StrCat((*server)->http_port())},
       {"http_scheme", options.http.tls_cert_file.empty() ? "http" : "https"},
       {"version", smz::Version()}});
  return smz::ServeUntilTerminated([&] { (*server)->Shutdown(); });
}
