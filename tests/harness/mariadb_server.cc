#include "tests/harness/mariadb_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"

namespace smz::testing {
namespace {

std::string FindProgram(const std::vector<std::string>& candidates) {
  for (const std::string& path : candidates) {
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return candidates.front();
}

// Runs argv to completion with output sent to `log_path`; returns exit code.
int RunAndWait(const std::vector<std::string>& argv,
               const std::string& log_path) {
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

DatabaseOptions RootOptions(const std::string& socket) {
  DatabaseOptions options;
  options.host = absl::StrCat("unix://", socket);
  options.user = "root";
  options.database = "mysql";
  options.pool_size = 1;
  return options;
}

}  // namespace

int PickUnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

absl::StatusOr<std::unique_ptr<MariaDbServer>> MariaDbServer::Start(
    std::vector<std::string> extra_args) {
  std::unique_ptr<MariaDbServer> server(new MariaDbServer());
  server->extra_args_ = std::move(extra_args);
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/smz-mariadb-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("cannot create a temporary folder");
  }
  server->base_dir_ = pattern;
  server->data_dir_ = absl::StrCat(pattern, "/data");
  server->socket_ = absl::StrCat(pattern, "/mariadb.sock");
  server->port_ = PickUnusedPort();
  std::vector<std::string> install = {
      FindProgram({"/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"}),
      "--no-defaults", absl::StrCat("--datadir=", server->data_dir_),
      "--auth-root-authentication-method=normal", "--skip-test-db"};
  if (geteuid() == 0) install.push_back("--user=root");
  const std::string log = absl::StrCat(pattern, "/mariadb.log");
  // Under a full ctest -j2 the bootstrap has failed now and then (its log
  // went with the folder; a rerun passed): it is tried again on an empty
  // data folder, and a last failure carries the log's end in the error.
  int exit_code = -1;
  for (int attempt = 0; attempt < 3 && exit_code != 0; ++attempt) {
    std::error_code ignored;
    std::filesystem::remove_all(server->data_dir_, ignored);
    exit_code = RunAndWait(install, log);
  }
  if (exit_code != 0) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    return absl::InternalError(absl::StrCat(
        "mariadb-install-db failed (exit ", exit_code,
        "): ", text.substr(text.size() > 2000 ? text.size() - 2000 : 0)));
  }
  SMZ_RETURN_IF_ERROR(server->Launch());
  return server;
}

absl::Status MariaDbServer::Launch() {
  const std::string log = absl::StrCat(base_dir_, "/mariadb.log");
  // Run before the server accepts connections: the passwordless root
  // accounts mariadb-install-db makes for 127.0.0.1, ::1 and the hostname
  // never answer on the TCP port (the same file as the local stack's).
  const std::string init_file = SMZ_MARIADB_LOCKDOWN_SQL;
  std::vector<std::string> argv = {
      FindProgram({"/usr/sbin/mariadbd", "/usr/sbin/mysqld"}),
      "--no-defaults",
      absl::StrCat("--datadir=", data_dir_),
      absl::StrCat("--socket=", socket_),
      absl::StrCat("--port=", port_),
      "--bind-address=127.0.0.1",
      "--skip-name-resolve",
      absl::StrCat("--init-file=", init_file),
      "--skip-log-bin",
      "--innodb-buffer-pool-size=64M",
      "--innodb-log-file-size=48M",
      "--max-connections=500",
      absl::StrCat("--pid-file=", base_dir_, "/mariadbd.pid")};
  if (geteuid() == 0) argv.push_back("--user=root");
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  // Everything the child needs is prepared before fork(): in a process with
  // running threads the child may only call async-signal-safe functions.
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  pid_ = pid;
  return WaitUntilReady();
}

absl::Status MariaDbServer::WaitUntilReady() {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  absl::Status last;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat(
          "mariadbd exited during start-up; see ", base_dir_, "/mariadb.log"));
    }
    Database root(RootOptions(socket_));
    last = root.Ping();
    if (last.ok()) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("mariadbd not ready after 60 s: ", last.message()));
}

absl::Status MariaDbServer::ExecuteAsRoot(const std::string& sql) {
  Database root(RootOptions(socket_));
  return root.Run(
      [&](Session& session) { return session.Execute(sql, {}).status(); });
}

absl::StatusOr<std::vector<Row>> MariaDbServer::QueryAsRoot(
    const std::string& sql) {
  Database root(RootOptions(socket_));
  return root.RunFor<std::vector<Row>>(
      [&](Session& session) { return session.Query(sql, {}); });
}

absl::StatusOr<int64_t> MariaDbServer::InnodbDeadlocks() {
  return GlobalStatus("Innodb_deadlocks");
}

absl::StatusOr<int64_t> MariaDbServer::GlobalStatus(absl::string_view name) {
  // Names are ours (test code), never a caller's: no quoting needed beyond
  // refusing anything but a status variable's characters.
  for (const char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return absl::InvalidArgumentError("not a status variable name");
    }
  }
  absl::StatusOr<std::vector<Row>> rows =
      QueryAsRoot(absl::StrCat("SHOW GLOBAL STATUS LIKE '", name, "'"));
  if (!rows.ok()) return rows.status();
  int64_t count = 0;
  if (rows->size() != 1 || !absl::SimpleAtoi(rows->front().Text(1), &count)) {
    return absl::InternalError(absl::StrCat("no ", name, " status variable"));
  }
  return count;
}

absl::StatusOr<std::string> MariaDbServer::InnodbStatus() {
  absl::StatusOr<std::vector<Row>> rows =
      QueryAsRoot("SHOW ENGINE INNODB STATUS");
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1) return absl::InternalError("no InnoDB status");
  return rows->front().Text(2);
}

std::vector<std::string> MariaDbServer::ReplicationArgs(int server_id,
                                                        bool replica) {
  std::vector<std::string> args = {
      absl::StrCat("--server-id=", server_id),
      // Each server's own writes (the lockdown at start) in a domain of its
      // own: strict GTID order holds per domain.
      absl::StrCat("--gtid-domain-id=", server_id),
      "--log-bin=smz-bin",
      "--binlog-format=ROW",
      "--gtid-strict-mode=ON",
      "--log-slave-updates=ON",
      "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
      "--rpl-semi-sync-master-timeout=10000",
  };
  if (replica) {
    // Not a semi-synchronous primary itself: with nobody to acknowledge,
    // every transaction it applies would wait out the timeout.
    args.push_back("--rpl-semi-sync-slave-enabled=ON");
    args.push_back("--read-only=ON");
    args.push_back("--skip-slave-start");
  } else {
    args.push_back("--rpl-semi-sync-master-enabled=ON");
  }
  return args;
}

absl::Status MariaDbServer::FollowPrimary(const MariaDbServer& primary) {
  SecureRandom random;
  const std::string password = GenerateRequestId(random);
  Database root(RootOptions(primary.socket_));
  SMZ_RETURN_IF_ERROR(root.Run([&](Session& session) {
    for (const std::string& sql :
         {absl::StrCat("CREATE OR REPLACE USER 'smz_replication'@'127.0.0.1' "
                       "IDENTIFIED BY '",
                       password, "'"),
          std::string("GRANT REPLICATION SLAVE, SLAVE MONITOR ON *.* TO "
                      "'smz_replication'@'127.0.0.1'")}) {
      SMZ_RETURN_IF_ERROR(session.Execute(sql, {}).status());
    }
    return absl::OkStatus();
  }));
  // From the primary's position now: what it did at start (each server's
  // own lockdown of root) is not replayed on a server that did the same.
  absl::StatusOr<std::vector<Row>> position =
      root.RunFor<std::vector<Row>>([](Session& session) {
        return session.Query("SELECT @@gtid_binlog_pos", {});
      });
  root.Close();
  if (!position.ok()) return position.status();
  // With this server's own domain, which its binary log already has.
  SMZ_ASSIGN_OR_RETURN(std::vector<Row> own,
                       QueryAsRoot("SELECT @@gtid_binlog_pos"));
  std::vector<std::string> domains;
  for (const std::string& pos :
       {position->front().Text(0), own.front().Text(0)}) {
    if (!pos.empty()) domains.push_back(pos);
  }
  SMZ_RETURN_IF_ERROR(ExecuteAsRoot(absl::StrCat(
      "SET GLOBAL gtid_slave_pos = '", absl::StrJoin(domains, ","), "'")));
  SMZ_RETURN_IF_ERROR(ExecuteAsRoot(absl::StrCat(
      "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=", primary.port_,
      ", MASTER_USER='smz_replication', MASTER_PASSWORD='", password,
      "', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1")));
  return ExecuteAsRoot("START SLAVE");
}

void MariaDbServer::Crash() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

absl::StatusOr<DatabaseOptions> MariaDbServer::CreateServiceDatabase(
    const std::string& database) {
  SecureRandom random;
  const std::string password = GenerateRequestId(random);
  for (const std::string& sql : {
           absl::StrCat("CREATE DATABASE IF NOT EXISTS `", database,
                        "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
           absl::StrCat("CREATE OR REPLACE USER '", database,
                        "'@'127.0.0.1' IDENTIFIED BY '", password, "'"),
           absl::StrCat("CREATE OR REPLACE USER '", database,
                        "'@'localhost' IDENTIFIED BY '", password, "'"),
           absl::StrCat("GRANT ALL PRIVILEGES ON `", database, "`.* TO '",
                        database, "'@'127.0.0.1'"),
           absl::StrCat("GRANT ALL PRIVILEGES ON `", database, "`.* TO '",
                        database, "'@'localhost'"),
       }) {
    SMZ_RETURN_IF_ERROR(ExecuteAsRoot(sql));
  }
  DatabaseOptions options;
  options.host = "127.0.0.1";
  options.port = port_;
  options.user = database;
  options.password = password;
  options.database = database;
  return options;
}

absl::Status MariaDbServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGCONT);  // a paused server cannot act on SIGTERM
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return absl::OkStatus();
}

void MariaDbServer::Pause() {
  if (pid_ <= 0) return;
  kill(pid_, SIGSTOP);
  // kill() returns before the stop takes effect; wait until the kernel
  // reports the process stopped, so no reply can slip out afterwards.
  const std::string stat_path = absl::StrCat("/proc/", pid_, "/stat");
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    std::ifstream stat(stat_path);
    std::string pid, name, state;
    stat >> pid >> name >> state;
    if (state == "T") return;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

void MariaDbServer::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

absl::Status MariaDbServer::Restart() {
  if (pid_ > 0) return absl::FailedPreconditionError("already running");
  return Launch();
}

MariaDbServer::~MariaDbServer() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ignored;
  if (!base_dir_.empty()) std::filesystem::remove_all(base_dir_, ignored);
}

}  // namespace smz::testing
