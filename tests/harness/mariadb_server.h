// A private MariaDB server for tests and benchmarks: a fresh data folder under
// $TMPDIR, an ephemeral loopback port, started and stopped by the test itself
// (which can also stop and restart it to exercise recovery).
//
//   auto server = smz::testing::MariaDbServer::Start();
//   ASSERT_TRUE(server.ok()) << server.status();
//   absl::StatusOr<smz::DatabaseOptions> db =
//       (*server)->CreateServiceDatabase("smz_registry");
//   ... connect as db->user, which has grants on that database only ...
//   ASSERT_TRUE((*server)->Stop().ok());     // clients now see UNAVAILABLE
//   ASSERT_TRUE((*server)->Restart().ok());  // same data, same port
#ifndef SMZ_TESTS_HARNESS_MARIADB_SERVER_H_
#define SMZ_TESTS_HARNESS_MARIADB_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/mysql/database.h"

namespace smz::testing {

class MariaDbServer {
 public:
  // `extra_args`: more mariadbd options, e.g. "--ssl-cert=…" for TLS.
  static absl::StatusOr<std::unique_ptr<MariaDbServer>> Start(
      std::vector<std::string> extra_args = {});
  ~MariaDbServer();

  // Creates `database` and a user of the same name with a random password and
  // privileges on that database only; returns how to connect as that user.
  absl::StatusOr<DatabaseOptions> CreateServiceDatabase(
      const std::string& database);

  // Runs one statement as root (test set-up only).
  absl::Status ExecuteAsRoot(const std::string& sql);
  absl::StatusOr<std::vector<Row>> QueryAsRoot(const std::string& sql);

  // InnoDB's count of deadlocks since the server started (every database,
  // retried transactions too): a test or benchmark phase's difference says
  // whether its transactions collided.
  absl::StatusOr<int64_t> InnodbDeadlocks();
  // A counter of SHOW GLOBAL STATUS (every client since the server
  // started), e.g. "Questions" (statements clients sent) or "Com_commit".
  absl::StatusOr<int64_t> GlobalStatus(absl::string_view name);
  // SHOW ENGINE INNODB STATUS's text (its "LATEST DETECTED DEADLOCK" says
  // which statements collided): for a test's failure message.
  absl::StatusOr<std::string> InnodbStatus();

  // Makes this server a replica of `primary` by GTID (MariaDB's own
  // replication), through a replication account made on `primary`, and
  // starts following it from `primary`'s position now (what each did at
  // start is its own). Both must have been started with ReplicationArgs().
  absl::Status FollowPrimary(const MariaDbServer& primary);
  // The mariadbd options of a server in replication: a binary log by GTID,
  // `server_id`, semi-synchronous acknowledgement (a commit on the primary
  // returns once a replica has the transaction: an acknowledged write
  // survives the primary's loss), a replica read-only.
  static std::vector<std::string> ReplicationArgs(int server_id, bool replica);
  // Kills the server at once (SIGKILL), as a crash or a lost host would.
  void Crash();

  absl::Status Stop();     // clean shutdown; data kept
  absl::Status Restart();  // start again on the same port and data
  // Freezes the server (SIGSTOP): connections stay open but nothing answers,
  // like a hung or partitioned database. Resume() thaws it.
  void Pause();
  void Resume();
  int port() const { return port_; }
  // Root's socket (root connects only there, with no password).
  const std::string& socket() const { return socket_; }
  bool running() const { return pid_ > 0; }

 private:
  MariaDbServer() = default;
  absl::Status Launch();
  absl::Status WaitUntilReady();

  std::string base_dir_;
  std::string data_dir_;
  std::string socket_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int PickUnusedPort();

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_MARIADB_SERVER_H_
