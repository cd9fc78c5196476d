#include "common/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/aip/status_macros.h"

ABSL_FLAG(std::string, listen, "", "gRPC listen address (env SMZ_LISTEN)");
ABSL_FLAG(std::string, metrics_listen, "",
          "Prometheus /metrics listen address; 'off' disables "
          "(env SMZ_METRICS_LISTEN)");
ABSL_FLAG(std::string, health_listen, "",
          "a plaintext port serving only grpc.health.v1 (for Kubernetes' "
          "native gRPC probes, which speak no TLS); empty: none "
          "(env SMZ_HEALTH_LISTEN)");
ABSL_FLAG(std::string, mysql_dsn, "",
          "mysql://user@host:port/database (env SMZ_MYSQL_DSN)");
ABSL_FLAG(std::string, mysql_credentials_file, "",
          "file holding 'password=...' (env SMZ_MYSQL_CREDENTIALS_FILE)");
ABSL_FLAG(std::string, mysql_tls_ca, "",
          "PEM CA of the database server's certificate: connect with TLS "
          "only, the certificate and host name checked (env "
          "SMZ_MYSQL_TLS_CA)");
ABSL_FLAG(std::string, mysql_tls_cert, "",
          "PEM client certificate for the database (env SMZ_MYSQL_TLS_CERT)");
ABSL_FLAG(std::string, mysql_tls_key, "",
          "PEM key of --mysql_tls_cert (env SMZ_MYSQL_TLS_KEY)");
ABSL_FLAG(std::string, mysql_replica, "",
          "host[:port] of a replica of the database (MariaDB replication), "
          "for reads that tolerate a bounded lag; the same user, password "
          "and TLS (env SMZ_MYSQL_REPLICA; empty: none)");
ABSL_FLAG(std::string, mysql_replica_max_lag, "",
          "a replica further behind than this serves no read, e.g. 2s "
          "(env SMZ_MYSQL_REPLICA_MAX_LAG; default 2s)");
ABSL_FLAG(std::string, mysql_pool_size, "",
          "maximum open database connections (env SMZ_MYSQL_POOL_SIZE)");

namespace smz {

std::string FlagOrEnv(const std::string& flag_value, const char* env_name,
                      std::string fallback) {
  if (!flag_value.empty()) return flag_value;
  const char* env = std::getenv(env_name);
  if (env != nullptr && *env != '\0') return env;
  return fallback;
}

absl::Status ParseMysqlDsn(absl::string_view dsn, DatabaseOptions* options) {
  absl::string_view rest = dsn;
  if (!absl::ConsumePrefix(&rest, "mysql://")) {
    return absl::InvalidArgumentError(
        "MySQL DSN must look like mysql://user@host:port/database");
  }
  const size_t at = rest.rfind('@');
  const size_t slash = rest.find('/', at == absl::string_view::npos ? 0 : at);
  if (at == absl::string_view::npos || slash == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "MySQL DSN must look like mysql://user@host:port/database");
  }
  absl::string_view user_info = rest.substr(0, at);
  absl::string_view host_port = rest.substr(at + 1, slash - at - 1);
  absl::string_view database = rest.substr(slash + 1);
  if (const size_t colon = user_info.find(':');
      colon != absl::string_view::npos) {
    options->password = std::string(user_info.substr(colon + 1));
    user_info = user_info.substr(0, colon);
  }
  options->user = std::string(user_info);
  options->database = std::string(database);
  options->port = 3306;
  if (const size_t colon = host_port.rfind(':');
      colon != absl::string_view::npos) {
    int port = 0;
    if (!absl::SimpleAtoi(host_port.substr(colon + 1), &port) || port <= 0 ||
        port > 65535) {
      return absl::InvalidArgumentError("MySQL DSN has a bad port");
    }
    options->port = port;
    host_port = host_port.substr(0, colon);
  }
  options->host = std::string(host_port);
  if (options->user.empty() || options->host.empty() ||
      options->database.empty()) {
    return absl::InvalidArgumentError(
        "MySQL DSN needs a user, a host and a database");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read credentials file ", path));
  }
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view view = absl::StripAsciiWhitespace(line);
    if (view.empty() || view.front() == '#') continue;
    if (absl::ConsumePrefix(&view, "password=")) return std::string(view);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("credentials file ", path, " has no password= line"));
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  // A token is a few hundred bytes; a file of megabytes is a mistake (or
  // /dev/zero), not something to hold in memory.
  std::string content(kMaxTokenFileBytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  if (content.size() > kMaxTokenFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " holds more than ", kMaxTokenFileBytes, " bytes"));
  }
  std::string token(absl::StripAsciiWhitespace(content));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is empty"));
  }
  return token;
}

ServiceConfig LoadListenConfig(absl::string_view default_listen) {
  ServiceConfig config;
  config.listen = FlagOrEnv(absl::GetFlag(FLAGS_listen), "SMZ_LISTEN",
                            std::string(default_listen));
  config.metrics_listen = FlagOrEnv(absl::GetFlag(FLAGS_metrics_listen),
                                    "SMZ_METRICS_LISTEN", "off");
  if (config.metrics_listen == "off") config.metrics_listen.clear();
  config.health_listen =
      FlagOrEnv(absl::GetFlag(FLAGS_health_listen), "SMZ_HEALTH_LISTEN", "");
  return config;
}

absl::Status CheckDatabaseTls(const DatabaseOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "mysql_tls_cert and mysql_tls_key: give both, or neither");
  }
  if (options.tls_ca_file.empty()) {
    if (!options.tls_cert_file.empty()) {
      return absl::InvalidArgumentError(
          "mysql_tls_cert: needs --mysql_tls_ca (the server's certificate is "
          "always checked)");
    }
    return absl::OkStatus();
  }
  SMZ_RETURN_IF_ERROR(
      CheckPemFile(options.tls_ca_file, "mysql_tls_ca", "CERTIFICATE-----"));
  if (!options.tls_cert_file.empty()) {
    SMZ_RETURN_IF_ERROR(CheckPemFile(options.tls_cert_file, "mysql_tls_cert",
                                     "CERTIFICATE-----"));
    SMZ_RETURN_IF_ERROR(CheckPemFile(options.tls_key_file, "mysql_tls_key",
                                     "PRIVATE KEY-----"));
  }
  return absl::OkStatus();
}

absl::Status ParseReplica(absl::string_view address, absl::string_view max_lag,
                          DatabaseOptions* options) {
  if (!absl::ParseDuration(max_lag, &options->replica_max_lag) ||
      options->replica_max_lag < absl::Milliseconds(100) ||
      options->replica_max_lag > absl::Hours(1)) {
    return absl::InvalidArgumentError(
        "mysql_replica_max_lag must be a duration from 100ms to 1h, e.g. 2s");
  }
  options->replica_host.clear();
  if (address.empty()) return absl::OkStatus();
  options->replica_port = 3306;
  absl::string_view host = address;
  if (const size_t colon = address.rfind(':');
      colon != absl::string_view::npos) {
    host = address.substr(0, colon);
    if (!absl::SimpleAtoi(address.substr(colon + 1), &options->replica_port) ||
        options->replica_port <= 0 || options->replica_port > 65535) {
      return absl::InvalidArgumentError("mysql_replica has a bad port");
    }
  }
  if (host.empty() || host.size() > 253) {
    return absl::InvalidArgumentError(
        "mysql_replica must be host[:port], e.g. db-replica.internal:3306");
  }
  options->replica_host = std::string(host);
  return absl::OkStatus();
}

absl::StatusOr<ServiceConfig> LoadServiceConfig(
    absl::string_view default_listen) {
  ServiceConfig config = LoadListenConfig(default_listen);
  SMZ_ASSIGN_OR_RETURN(config.tls, LoadTlsOptions());
  const std::string dsn =
      FlagOrEnv(absl::GetFlag(FLAGS_mysql_dsn), "SMZ_MYSQL_DSN", "");
  if (dsn.empty()) {
    return absl::InvalidArgumentError(
        "no database configured: set --mysql_dsn or SMZ_MYSQL_DSN");
  }
  SMZ_RETURN_IF_ERROR(ParseMysqlDsn(dsn, &config.database));
  if (!config.database.password.empty()) {
    // A DSN is visible in `ps` and in shell history.
    return absl::InvalidArgumentError(
        "the MySQL DSN must not contain a password: use "
        "--mysql_credentials_file or SMZ_MYSQL_PASSWORD");
  }
  const std::string credentials =
      FlagOrEnv(absl::GetFlag(FLAGS_mysql_credentials_file),
                "SMZ_MYSQL_CREDENTIALS_FILE", "");
  if (!credentials.empty()) {
    SMZ_ASSIGN_OR_RETURN(std::string password, ReadPasswordFile(credentials));
    config.database.password = password;
  } else if (const char* env = std::getenv("SMZ_MYSQL_PASSWORD")) {
    config.database.password = env;
  }
  const std::string pool_size = FlagOrEnv(absl::GetFlag(FLAGS_mysql_pool_size),
                                          "SMZ_MYSQL_POOL_SIZE", "16");
  if (!absl::SimpleAtoi(pool_size, &config.database.pool_size) ||
      config.database.pool_size < 1) {
    return absl::InvalidArgumentError("mysql_pool_size must be >= 1");
  }
  SMZ_RETURN_IF_ERROR(ParseReplica(
      FlagOrEnv(absl::GetFlag(FLAGS_mysql_replica), "SMZ_MYSQL_REPLICA", ""),
      FlagOrEnv(absl::GetFlag(FLAGS_mysql_replica_max_lag),
                "SMZ_MYSQL_REPLICA_MAX_LAG", "2s"),
      &config.database));
  config.database.tls_ca_file =
      FlagOrEnv(absl::GetFlag(FLAGS_mysql_tls_ca), "SMZ_MYSQL_TLS_CA", "");
  config.database.tls_cert_file =
      FlagOrEnv(absl::GetFlag(FLAGS_mysql_tls_cert), "SMZ_MYSQL_TLS_CERT", "");
  config.database.tls_key_file =
      FlagOrEnv(absl::GetFlag(FLAGS_mysql_tls_key), "SMZ_MYSQL_TLS_KEY", "");
  SMZ_RETURN_IF_ERROR(CheckDatabaseTls(config.database));
  return config;
}

}  // namespace smz
