// Service configuration from command-line flags, falling back to environment
// variables, falling back to defaults. Every service uses the same names:
//
//   --listen                  SMZ_LISTEN                  127.0.0.1:50051
//   --metrics_listen          SMZ_METRICS_LISTEN          127.0.0.1:9464
//   --health_listen           SMZ_HEALTH_LISTEN           0.0.0.0:8086
//   --mysql_dsn               SMZ_MYSQL_DSN               mysql://u@h:3306/db
//   --mysql_credentials_file  SMZ_MYSQL_CREDENTIALS_FILE  "password=..."
//   --mysql_pool_size         SMZ_MYSQL_POOL_SIZE         16
//   --mysql_replica           SMZ_MYSQL_REPLICA           db-replica:3306
//   --mysql_replica_max_lag   SMZ_MYSQL_REPLICA_MAX_LAG   2s
//
// The password is never taken from a flag (it would show in `ps`): only from
// the credentials file or SMZ_MYSQL_PASSWORD.
//
//   int main(int argc, char** argv) {
//     absl::ParseCommandLine(argc, argv);
//     absl::StatusOr<smz::ServiceConfig> config =
//         smz::LoadServiceConfig("127.0.0.1:50053");  // the default listen
//     ...
//   }
#ifndef SMZ_COMMON_CONFIG_H_
#define SMZ_COMMON_CONFIG_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/mysql/database.h"
#include "common/tls/tls_options.h"

namespace smz {

struct ServiceConfig {
  std::string listen;
  std::string metrics_listen;  // empty: no metrics endpoint
  std::string health_listen;   // empty: health on the gRPC port only
  DatabaseOptions database;
  TlsOptions tls;  // common/tls/tls_options.h: plaintext when none is set
};

// "host[:port]" of a replica and its largest lag ("2s") into `options`
// (replica_host empty when `address` is); INVALID_ARGUMENT when bad.
absl::Status ParseReplica(absl::string_view address, absl::string_view max_lag,
                          DatabaseOptions* options);

// Parses "mysql://user[:password]@host[:port]/database" into `options`.
absl::Status ParseMysqlDsn(absl::string_view dsn, DatabaseOptions* options);

// Reads "password=..." (other keys ignored, '#' comments allowed).
absl::StatusOr<std::string> ReadPasswordFile(const std::string& path);

// A secret token kept alone in a file (surrounding whitespace dropped):
// NOT_FOUND when unreadable, INVALID_ARGUMENT when empty or larger than
// kMaxTokenFileBytes.
inline constexpr size_t kMaxTokenFileBytes = 4096;
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// The database's TLS files (--mysql_tls_ca, --mysql_tls_cert,
// --mysql_tls_key): a certificate needs its key and the CA, every file a
// readable PEM block of its kind; INVALID_ARGUMENT naming the flag.
absl::Status CheckDatabaseTls(const DatabaseOptions& options);

// Flag value if set, else the environment variable, else `fallback`.
std::string FlagOrEnv(const std::string& flag_value, const char* env_name,
                      std::string fallback);

// Only the listen addresses (--listen, --metrics_listen and their SMZ_*
// variables), for a service without a database; `database` stays empty.
ServiceConfig LoadListenConfig(absl::string_view default_listen);

// Configuration from the flags above and the TLS ones
// (common/tls/tls_options.h), after absl::ParseCommandLine.
absl::StatusOr<ServiceConfig> LoadServiceConfig(
    absl::string_view default_listen);

}  // namespace smz

#endif  // SMZ_COMMON_CONFIG_H_
