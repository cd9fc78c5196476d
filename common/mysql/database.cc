#include "common/mysql/database.h"

#include <cppconn/connection.h>
#include <cppconn/datatype.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <cassert>
#include <exception>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/mysql/write_stamps.h"

namespace smz {

class PooledConnection {
 public:
  static constexpr size_t kMaxPreparedPerConnection = 128;

  explicit PooledConnection(std::unique_ptr<sql::Connection> connection)
      : connection_(std::move(connection)) {}

  sql::Connection& connection() { return *connection_; }
  absl::StatusOr<sql::PreparedStatement*> Prepare(absl::string_view sql);

  // Converts an exception thrown while using this connection, marking the
  // connection broken when the server is gone.
  absl::Status Fail(const sql::SQLException& e);

  // Runs a fixed control statement (no parameters); throws on failure.
  void Control(const char* sql) {
    std::unique_ptr<sql::Statement> statement(connection_->createStatement());
    statement->execute(sql);
  }

  bool broken() const { return broken_; }
  void set_broken() { broken_ = true; }
  absl::Time last_used() const { return last_used_; }
  void set_last_used(absl::Time t) { last_used_ = t; }

 private:
  std::unique_ptr<sql::Connection> connection_;
  absl::flat_hash_map<std::string, std::unique_ptr<sql::PreparedStatement>>
      statements_;
  absl::Time last_used_ = absl::Now();
  bool broken_ = false;
};

namespace {

// Enough for a handful of callers racing on one row (the ninth attempt
// starts after 255 ms of backing off).
constexpr int kMaxTransactionAttempts = 9;

// Marks server-side transaction conflicts, which Transact retries, apart from
// the ABORTED that domain code returns (e.g. a stale etag).
constexpr absl::string_view kRetryablePayload = "smz.dev/mysql-retryable";

absl::Status InternalFromStd(const std::exception& e) {
  return absl::InternalError(absl::StrCat("database client error: ", e.what()));
}

void BindParams(sql::PreparedStatement* statement,
                const std::vector<SqlValue>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const unsigned int index = static_cast<unsigned int>(i + 1);
    const SqlValue& value = params[i];
    if (std::holds_alternative<std::nullptr_t>(value)) {
      statement->setNull(index, sql::DataType::VARCHAR);
    } else if (const auto* v = std::get_if<int64_t>(&value)) {
      statement->setInt64(index, *v);
    } else if (const auto* d = std::get_if<double>(&value)) {
      statement->setDouble(index, *d);
    } else {
      statement->setString(index, std::get<std::string>(value));
    }
  }
}

}  // namespace

bool IsConnectionLost(int code) {
  switch (code) {
    case 2002:  // can't connect through socket
    case 2003:  // can't connect to server
    case 2005:  // unknown host
    case 2006:  // server has gone away
    case 2013:  // lost connection during query
    case 2026:  // SSL connection error
    case 2055:  // lost connection at reading initial packet
    case 1927:  // connection was killed
    case 1053:  // server shutdown in progress
    case 1040:  // too many connections
      return true;
    default:
      return false;
  }
}

absl::Status StatusFromMysqlError(int code, absl::string_view state,
                                  absl::string_view message) {
  const std::string text =
      absl::StrCat("database error ", code, " (", state, "): ", message);
  if (IsConnectionLost(code)) {
    return absl::UnavailableError(
        absl::StrCat("database unavailable: ", message));
  }
  switch (code) {
    case 1062:  // duplicate entry
    case 1586:  // duplicate entry for unique key
      return absl::AlreadyExistsError(text);
    case 1213:    // deadlock
    case 1205: {  // lock wait timeout
      absl::Status status = absl::AbortedError(text);
      status.SetPayload(kRetryablePayload, absl::Cord("1"));
      return status;
    }
    case 1045:  // access denied
    case 1044:  // access denied to database
      return absl::UnavailableError(
          absl::StrCat("database refused our credentials: ", message));
    default:
      return absl::InternalError(text);
  }
}

absl::Status PooledConnection::Fail(const sql::SQLException& e) {
  if (IsConnectionLost(e.getErrorCode())) broken_ = true;
  return StatusFromMysqlError(e.getErrorCode(), e.getSQLState(), e.what());
}

absl::StatusOr<sql::PreparedStatement*> PooledConnection::Prepare(
    absl::string_view sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second.get();
  // Queries with optional filters have many SQL variants; bound what each
  // connection keeps prepared on the server max_prepared_stmt_count.
  if (statements_.size() >= kMaxPreparedPerConnection) statements_.clear();
  std::unique_ptr<sql::PreparedStatement> statement(
      connection_->prepareStatement(std::string(sql)));
  sql::PreparedStatement* raw = statement.get();
  statements_.emplace(std::string(sql), std::move(statement));
  return raw;
}

const std::string& Row::Text(size_t i) const {
  static const std::string* const kEmpty = new std::string();
  return cells_[i].has_value() ? *cells_[i] : *kEmpty;
}

int64_t Row::Int(size_t i) const {
  int64_t value = 0;
  if (cells_[i].has_value() && !absl::SimpleAtoi(*cells_[i], &value)) {
    // Column types are ours; a non-integer here is a schema bug.
    assert(false && "non-integer cell read with Row::Int");
  }
  return value;
}

std::optional<int64_t> Row::CheckedInt(size_t i) const {
  int64_t value = 0;
  if (cells_[i].has_value() && !absl::SimpleAtoi(*cells_[i], &value)) {
    return std::nullopt;
  }
  return value;
}

double Row::Double(size_t i) const {
  double value = 0;
  if (cells_[i].has_value()) (void)absl::SimpleAtod(*cells_[i], &value);
  return value;
}

absl::StatusOr<std::vector<Row>> Session::Query(
    absl::string_view sql, const std::vector<SqlValue>& params) {
  try {
    absl::StatusOr<sql::PreparedStatement*> statement =
        connection_->Prepare(sql);
    if (!statement.ok()) return statement.status();
    BindParams(*statement, params);
    std::unique_ptr<sql::ResultSet> result((*statement)->executeQuery());
    const unsigned int columns = result->getMetaData()->getColumnCount();
    std::vector<Row> rows;
    rows.reserve(result->rowsCount());
    while (result->next()) {
      std::vector<std::optional<std::string>> cells;
      cells.reserve(columns);
      for (unsigned int c = 1; c <= columns; ++c) {
        if (result->isNull(c)) {
          cells.emplace_back(std::nullopt);
        } else {
          cells.emplace_back(result->getString(c).asStdString());
        }
      }
      rows.emplace_back(std::move(cells));
    }
    return rows;
  } catch (const sql::SQLException& e) {
    return connection_->Fail(e);
  } catch (const std::exception& e) {
    return InternalFromStd(e);
  }
}

absl::Status Session::SetSavepoint() {
  try {
    connection_->Control("SAVEPOINT smz_mark");
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return connection_->Fail(e);
  }
}

absl::Status Session::RollbackToSavepoint() {
  try {
    connection_->Control("ROLLBACK TO SAVEPOINT smz_mark");
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return connection_->Fail(e);
  }
}

absl::StatusOr<int64_t> Session::Execute(absl::string_view sql,
                                         const std::vector<SqlValue>& params) {
  try {
    absl::StatusOr<sql::PreparedStatement*> statement =
        connection_->Prepare(sql);
    if (!statement.ok()) return statement.status();
    BindParams(*statement, params);
    const auto affected = static_cast<int64_t>((*statement)->executeUpdate());
    if (affected > 0) wrote_ = true;
    return affected;
  } catch (const sql::SQLException& e) {
    return connection_->Fail(e);
  } catch (const std::exception& e) {
    return InternalFromStd(e);
  }
}

absl::StatusOr<int64_t> Session::LastInsertId() {
  SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       Query("SELECT LAST_INSERT_ID()", {}));
  return rows.at(0).Int(0);
}

Database::Database(DatabaseOptions options)
    : options_(std::move(options)), driver_(get_driver_instance()) {}

Database::~Database() { Close(); }

absl::StatusOr<std::unique_ptr<PooledConnection>> Database::Connect() {
  try {
    sql::ConnectOptionsMap properties;
    absl::string_view host = options_.host;
    if (absl::ConsumePrefix(&host, "unix://")) {
      properties["hostName"] = sql::SQLString("localhost");
      properties["socket"] = sql::SQLString(std::string(host));
    } else {
      properties["hostName"] = sql::SQLString(options_.host);
      properties["port"] = options_.port;
    }
    properties["userName"] = sql::SQLString(options_.user);
    properties["password"] = sql::SQLString(options_.password);
    properties["schema"] = sql::SQLString(options_.database);
    properties["OPT_CONNECT_TIMEOUT"] =
        static_cast<int>(absl::ToInt64Seconds(options_.connect_timeout));
    properties["OPT_READ_TIMEOUT"] =
        static_cast<int>(absl::ToInt64Seconds(options_.io_timeout));
    properties["OPT_WRITE_TIMEOUT"] =
        static_cast<int>(absl::ToInt64Seconds(options_.io_timeout));
    // The pool reconnects itself; a silent driver reconnect would lose
    // session state in the middle of a transaction.
    properties["OPT_RECONNECT"] = false;
    properties["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    if (!options_.tls_ca_file.empty()) {
      properties["sslCA"] = sql::SQLString(options_.tls_ca_file);
      // The certificate against the CA and the host name dialled; and no
      // connection at all without TLS.
      properties["sslVerify"] = true;
      properties["sslEnforce"] = true;
      if (!options_.tls_cert_file.empty()) {
        properties["sslCert"] = sql::SQLString(options_.tls_cert_file);
        properties["sslKey"] = sql::SQLString(options_.tls_key_file);
      }
    }
    std::unique_ptr<sql::Connection> connection(driver_->connect(properties));
    auto pooled = std::make_unique<PooledConnection>(std::move(connection));
    // Lock waits must end (as a retryable ABORTED) well before the client
    // read timeout would turn them into a lost connection.
    pooled->Control("SET SESSION innodb_lock_wait_timeout = 3");
    return pooled;
  } catch (const sql::SQLException& e) {
    return StatusFromMysqlError(e.getErrorCode(), e.getSQLState(), e.what());
  } catch (const std::exception& e) {
    return InternalFromStd(e);
  }
}

Database::PoolStats Database::Stats() {
  absl::MutexLock lock(&mu_);
  PoolStats stats;
  stats.open = open_;
  stats.idle = static_cast<int>(idle_.size());
  stats.size = options_.pool_size;
  stats.exhausted = exhausted_;
  return stats;
}

absl::StatusOr<std::unique_ptr<PooledConnection>> Database::Acquire() {
  const absl::Time deadline = absl::Now() + options_.acquire_timeout;
  std::unique_ptr<PooledConnection> candidate;
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return closed_ || !idle_.empty() || open_ < options_.pool_size;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
      ++exhausted_;
      return absl::UnavailableError(absl::StrCat(
          "all ", options_.pool_size, " database connections are busy"));
    }
    if (closed_) return absl::UnavailableError("database pool is closed");
    if (!idle_.empty()) {
      candidate = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // reserve the slot; connect outside the lock
    }
  }
  if (candidate != nullptr &&
      absl::Now() - candidate->last_used() > options_.validate_after_idle) {
    bool valid = false;
    try {
      valid = candidate->connection().isValid();
    } catch (...) {
      valid = false;
    }
    if (!valid) candidate.reset();  // keep the slot, reconnect below
  }
  if (candidate != nullptr) return candidate;
  absl::StatusOr<std::unique_ptr<PooledConnection>> fresh = Connect();
  if (!fresh.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
  }
  return fresh;
}

void Database::Release(std::unique_ptr<PooledConnection> connection) {
  connection->set_last_used(absl::Now());
  absl::MutexLock lock(&mu_);
  if (connection->broken() || closed_) {
    --open_;
    connection.reset();
    return;
  }
  idle_.push_back(std::move(connection));
}

absl::Status Database::RunOnce(absl::FunctionRef<absl::Status(Session&)> fn,
                               bool transactional, bool rehearsal,
                               Isolation isolation) {
  absl::StatusOr<std::unique_ptr<PooledConnection>> acquired = Acquire();
  if (!acquired.ok()) return acquired.status();
  std::unique_ptr<PooledConnection> connection = std::move(*acquired);
  Session session(connection.get());
  absl::Status status;
  bool commit_sent = false;
  try {
    // Plain statements, not Connection::commit()/rollback()/setAutoCommit():
    // Connector/C++ 1.1 discards the result of those, so a failed COMMIT
    // would look like success.
    if (transactional) {
      // For the next transaction only; the session's default stays.
      if (isolation == Isolation::kReadCommitted) {
        connection->Control("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
      }
      connection->Control("START TRANSACTION");
    }
    status = fn(session);
    if (transactional && status.ok() && !rehearsal && session.wrote() &&
        !write_stamp_sql_.empty()) {
      absl::StatusOr<int64_t> stamped = session.Execute(write_stamp_sql_, {});
      if (!stamped.ok()) status = stamped.status();
      session.MarkStampMoved();
    }
    if (transactional) {
      if (status.ok() && !rehearsal) {
        commit_sent = true;
        connection->Control("COMMIT");
      } else if (!connection->broken()) {
        connection->Control("ROLLBACK");
      }
    }
  } catch (const sql::SQLException& e) {
    absl::Status failure = connection->Fail(e);
    // The connection is in an unknown transaction state: never reuse it.
    connection->set_broken();
    if (status.ok()) {
      status = IsConnectionLost(e.getErrorCode())
                   ? absl::UnavailableError(absl::StrCat(
                         "database connection lost; the outcome of the last "
                         "write is unknown: ",
                         failure.message()))
                   : failure;
    }
  } catch (const std::exception& e) {
    connection->set_broken();
    if (status.ok()) status = InternalFromStd(e);
  }
  // Autocommit statements commit as they run: a Run that moved a stamp
  // (or replayed an answer, common/aip/idempotency.cc) waits as well.
  const absl::Duration lease_wait =
      (commit_sent || !transactional) && session.stamp_moved()
          ? LeaseWaitAfterCommit(session, status, connection->broken())
          : absl::ZeroDuration();
  Release(std::move(connection));
  if (lease_wait > absl::ZeroDuration()) absl::SleepFor(lease_wait);
  return status;
}

absl::Duration Database::LeaseWaitAfterCommit(Session& session,
                                              const absl::Status& status,
                                              bool broken) const {
  if (longest_stamp_lease_ <= absl::ZeroDuration()) return absl::ZeroDuration();
  // TIMESTAMPDIFF's rounding to microseconds, and our sleep and the
  // readers' clocks running at slightly other rates than the database's
  // over one lease.
  constexpr absl::Duration kMargin = absl::Milliseconds(1);
  if (!status.ok() || broken) {
    // Committed or maybe committed, and nobody can say which leases run.
    return longest_stamp_lease_ + kMargin;
  }
  absl::StatusOr<std::vector<Row>> left =
      session.Query(kStampLeaseRemainingMicrosSql, {});
  if (!left.ok()) return longest_stamp_lease_ + kMargin;
  if (left->empty()) return absl::ZeroDuration();  // no row: no lease granted
  const absl::Duration wait = absl::Microseconds(left->front().Int(0));
  if (wait <= absl::ZeroDuration()) return absl::ZeroDuration();
  // No reader's lease is longer (a fence takes the shorter of its own and
  // what the database says is left): a row far ahead (the database's clock
  // stepped forward, then back) must not stall every write.
  return std::min(wait, longest_stamp_lease_) + kMargin;
}

// Between attempts after a deadlock: 1, 2, 4 … ms, so that the
// transactions that collided do not collide again at once (each round
// InnoDB lets at least one of them through).
static void BackOff(int attempt) {
  absl::SleepFor(absl::Milliseconds(1 << attempt));
}

absl::Status Database::Transact(absl::FunctionRef<absl::Status(Session&)> fn,
                                Isolation isolation) {
  absl::Status status;
  for (int attempt = 0; attempt < kMaxTransactionAttempts; ++attempt) {
    if (attempt > 0) BackOff(attempt - 1);
    status =
        RunOnce(fn, /*transactional=*/true, /*rehearsal=*/false, isolation);
    if (!status.GetPayload(kRetryablePayload).has_value()) return status;
  }
  return status;
}

absl::Status Database::Rehearse(absl::FunctionRef<absl::Status(Session&)> fn,
                                Isolation isolation) {
  absl::Status status;
  for (int attempt = 0; attempt < kMaxTransactionAttempts; ++attempt) {
    if (attempt > 0) BackOff(attempt - 1);
    status = RunOnce(fn, /*transactional=*/true, /*rehearsal=*/true, isolation);
    if (!status.GetPayload(kRetryablePayload).has_value()) return status;
  }
  return status;
}

bool IsRetryableAbort(const absl::Status& status) {
  return status.GetPayload(kRetryablePayload).has_value();
}

absl::Status RetryableAbort(absl::string_view message) {
  absl::Status status = absl::AbortedError(message);
  status.SetPayload(kRetryablePayload, absl::Cord("1"));
  return status;
}

absl::Status Database::Run(absl::FunctionRef<absl::Status(Session&)> fn) {
  return RunOnce(fn, /*transactional=*/false);
}

absl::Status Database::Ping() {
  return Run(
      [](Session& session) { return session.Query("SELECT 1", {}).status(); });
}

void Database::Close() {
  std::vector<std::unique_ptr<PooledConnection>> idle;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    idle.swap(idle_);
    open_ -= static_cast<int>(idle.size());
  }
  for (auto& connection : idle) {
    try {
      connection->connection().close();
    } catch (const sql::SQLException&) {
      // Closing a dead connection: nothing to do.
    }
  }
}

}  // namespace smz
