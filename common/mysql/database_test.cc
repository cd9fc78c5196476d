// The MySQL layer against a real MariaDB: prepared statements, transactions,
// error mapping, migrations, and recovery when the server restarts.
#include "common/mysql/database.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/mysql/migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/mariadb_server.h"
#include "tests/harness/test_certificates.h"

namespace smz {
namespace {

using ::testing::HasSubstr;

class DatabaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = testing::MariaDbServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    auto options = server_->CreateServiceDatabase("smz_dbtest");
    ASSERT_TRUE(options.ok()) << options.status();
    options_ = new DatabaseOptions(*options);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete options_;
  }
  void SetUp() override {
    if (!server_->running()) {
      ASSERT_TRUE(server_->Restart().ok());
    }
    db_ = std::make_unique<Database>(*options_);
    ASSERT_TRUE(db_->Run([](Session& s) {
                     auto r = s.Execute(
                         "CREATE TABLE IF NOT EXISTS items (id BIGINT "
                         "PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE, "
                         "note TEXT NULL)",
                         {});
                     if (!r.ok()) return r.status();
                     return s.Execute("DELETE FROM items", {}).status();
                   })
                    .ok());
  }

  static testing::MariaDbServer* server_;
  static DatabaseOptions* options_;
  std::unique_ptr<Database> db_;
};

testing::MariaDbServer* DatabaseTest::server_ = nullptr;
DatabaseOptions* DatabaseTest::options_ = nullptr;

// The private server of tests (and of the local stack, deploy/lib) never
// answers root on its TCP port, with or without the service's database:
// its init file removes those accounts before the first connection.
TEST_F(DatabaseTest, RootIsNotReachableOverTcp) {
  for (const char* host : {"127.0.0.1"}) {
    DatabaseOptions root;
    root.host = host;
    root.port = server_->port();
    root.user = "root";
    root.database = "mysql";
    root.pool_size = 1;
    root.acquire_timeout = absl::Seconds(2);
    Database database(root);
    EXPECT_FALSE(database.Ping().ok()) << host;
    database.Close();
  }
  // The service's own account, with its password, still works.
  EXPECT_TRUE(db_->Ping().ok());
}

TEST_F(DatabaseTest, PreparedStatementsRoundTripValuesAndNulls) {
  ASSERT_TRUE(db_->Transact([](Session& s) {
                   return s
                       .Execute(
                           "INSERT INTO items VALUES (?, ?, ?)",
                           {SqlInt(1), "여의도성모병원 '; DROP TABLE items; --",
                            nullptr})
                       .status();
                 })
                  .ok());
  std::vector<Row> rows;
  ASSERT_TRUE(db_->Run([&](Session& s) -> absl::Status {
                   auto r =
                       s.Query("SELECT id, name, note FROM items WHERE id = ?",
                               {SqlInt(1)});
                   if (!r.ok()) return r.status();
                   rows = *r;
                   return absl::OkStatus();
                 })
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Int(0), 1);
  EXPECT_EQ(rows[0].Text(1), "여의도성모병원 '; DROP TABLE items; --");
  EXPECT_TRUE(rows[0].IsNull(2));
}

TEST_F(DatabaseTest, FailedTransactionChangesNothing) {
  const absl::Status status = db_->Transact([](Session& s) -> absl::Status {
    auto first = s.Execute("INSERT INTO items (id, name) VALUES (1, 'a')", {});
    if (!first.ok()) return first.status();
    return absl::FailedPreconditionError("changed my mind");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  int64_t count = -1;
  ASSERT_TRUE(db_->Run([&](Session& s) -> absl::Status {
                   auto r = s.Query("SELECT COUNT(*) FROM items", {});
                   if (!r.ok()) return r.status();
                   count = r->at(0).Int(0);
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(count, 0);
}

// What group commit relies on: a failed part of a shared transaction is
// undone alone, and what ran before and after it commits.
TEST_F(DatabaseTest, RollbackToSavepointUndoesOnlyWhatRanSince) {
  ASSERT_TRUE(
      db_->Transact([](Session& s) -> absl::Status {
           auto a =
               s.Execute("INSERT INTO items (id, name) VALUES (1, 'a')", {});
           if (!a.ok()) return a.status();
           if (absl::Status m = s.SetSavepoint(); !m.ok()) return m;
           auto b =
               s.Execute("INSERT INTO items (id, name) VALUES (2, 'b')", {});
           if (!b.ok()) return b.status();
           if (absl::Status r = s.RollbackToSavepoint(); !r.ok()) {
             return r;
           }
           // The mark moves: the next rollback keeps 'c'.
           auto c =
               s.Execute("INSERT INTO items (id, name) VALUES (3, 'c')", {});
           if (!c.ok()) return c.status();
           if (absl::Status m = s.SetSavepoint(); !m.ok()) return m;
           auto d =
               s.Execute("INSERT INTO items (id, name) VALUES (4, 'd')", {});
           if (!d.ok()) return d.status();
           return s.RollbackToSavepoint();
         })
          .ok());
  std::vector<int64_t> ids;
  ASSERT_TRUE(db_->Run([&](Session& s) -> absl::Status {
                   auto r = s.Query("SELECT id FROM items ORDER BY id", {});
                   if (!r.ok()) return r.status();
                   for (const Row& row : *r) ids.push_back(row.Int(0));
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 3}));
}

// A row committed by another transaction after this one's first read: the
// default snapshot does not show it, READ COMMITTED does.
TEST_F(DatabaseTest, ReadCommittedSeesCommitsMadeAfterTheFirstRead) {
  for (const Database::Isolation isolation :
       {Database::Isolation::kRepeatableRead,
        Database::Isolation::kReadCommitted}) {
    ASSERT_TRUE(db_->Run([](Session& s) {
                     return s.Execute("DELETE FROM items", {}).status();
                   })
                    .ok());
    int64_t before = -1;
    int64_t after = -1;
    ASSERT_TRUE(
        db_->Transact(
               [&](Session& s) -> absl::Status {
                 auto first = s.Query("SELECT COUNT(*) FROM items", {});
                 if (!first.ok()) return first.status();
                 before = first->front().Int(0);
                 // Another connection of the pool commits meanwhile.
                 absl::Status other = db_->Transact([](Session& t) {
                   return t
                       .Execute("INSERT INTO items (id, name) VALUES (9, 'z')",
                                {})
                       .status();
                 });
                 if (!other.ok()) return other;
                 auto second = s.Query("SELECT COUNT(*) FROM items", {});
                 if (!second.ok()) return second.status();
                 after = second->front().Int(0);
                 return absl::OkStatus();
               },
               isolation)
            .ok());
    EXPECT_EQ(before, 0);
    EXPECT_EQ(after, isolation == Database::Isolation::kReadCommitted ? 1 : 0);
  }
}

TEST_F(DatabaseTest, RetryableAbortRunsTheTransactionAgainThenGivesUp) {
  int attempts = 0;
  const absl::Status second_try = db_->Transact([&](Session& s) {
    ++attempts;
    auto inserted = s.Execute("INSERT INTO items (id, name) VALUES (?, 'x')",
                              {SqlInt(attempts)});
    if (!inserted.ok()) return inserted.status();
    return attempts == 1 ? RetryableAbort("lost a race") : absl::OkStatus();
  });
  EXPECT_TRUE(second_try.ok()) << second_try;
  EXPECT_EQ(attempts, 2);
  int64_t count = -1;
  ASSERT_TRUE(db_->Run([&](Session& s) -> absl::Status {
                   auto r = s.Query("SELECT COUNT(*) FROM items", {});
                   if (!r.ok()) return r.status();
                   count = r->at(0).Int(0);
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(count, 1) << "the aborted attempt must be rolled back";

  attempts = 0;
  const absl::Status never = db_->Transact([&](Session&) {
    ++attempts;
    return RetryableAbort("always loses");
  });
  EXPECT_EQ(never.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(attempts, 9);  // then gives up, after 255 ms of backing off
}

TEST_F(DatabaseTest, DuplicateKeyIsAlreadyExistsAndBadSqlIsInternal) {
  auto insert = [&](int64_t id) {
    return db_->Transact([&](Session& s) {
      return s
          .Execute("INSERT INTO items (id, name) VALUES (?, 'same')",
                   {SqlInt(id)})
          .status();
    });
  };
  ASSERT_TRUE(insert(1).ok());
  EXPECT_EQ(insert(2).code(), absl::StatusCode::kAlreadyExists);
  const absl::Status bad = db_->Run([](Session& s) {
    return s.Query("SELECT no_such_column FROM items", {}).status();
  });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInternal);
}

TEST_F(DatabaseTest, ServerDownIsUnavailableQuicklyAndRecoversAfterRestart) {
  ASSERT_TRUE(db_->Ping().ok());
  ASSERT_TRUE(server_->Stop().ok());
  const absl::Time start = absl::Now();
  const absl::Status down = db_->Ping();
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_TRUE(server_->Restart().ok());
  // The pooled connection died with the old server; the pool must notice
  // and reconnect rather than fail forever.
  absl::Status recovered = db_->Ping();
  EXPECT_TRUE(recovered.ok()) << recovered;
}

TEST_F(DatabaseTest, HungServerIsUnavailableWithinTheTimeoutNotAHang) {
  DatabaseOptions options = *options_;
  options.io_timeout = absl::Seconds(2);
  options.connect_timeout = absl::Seconds(2);
  options.validate_after_idle = absl::ZeroDuration();
  Database db(options);
  ASSERT_TRUE(db.Ping().ok());
  server_->Pause();
  const absl::Time start = absl::Now();
  const absl::Status hung = db.Ping();
  const absl::Duration took = absl::Now() - start;

  server_->Resume();
  EXPECT_EQ(hung.code(), absl::StatusCode::kUnavailable) << hung;
  EXPECT_LT(took, absl::Seconds(12)) << "timeouts must bound a hung server";
  absl::Status recovered = db.Ping();
  EXPECT_TRUE(recovered.ok()) << recovered;
}

TEST_F(DatabaseTest, MigrationsApplyOnceAndRefuseEditedHistory) {
  const FakeClock clock(absl::FromUnixSeconds(1700000000));
  std::vector<Migration> migrations = {
      {1, "first", {"CREATE TABLE m1 (id INT PRIMARY KEY)"}},
      {2,
       "second",
       {"CREATE TABLE m2 (id INT PRIMARY KEY)",
        "CREATE INDEX m2_id ON m2 (id)"}},
  };
  ASSERT_TRUE(ApplyMigrations(*db_, migrations, clock).ok());
  // Applying again is a no-op (CREATE TABLE m1 would fail if re-run).
  ASSERT_TRUE(ApplyMigrations(*db_, migrations, clock).ok());
  absl::StatusOr<int> version = CurrentSchemaVersion(*db_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 2);
  migrations[0].statements[0] = "CREATE TABLE m1 (id BIGINT PRIMARY KEY)";
  const absl::Status edited = ApplyMigrations(*db_, migrations, clock);
  EXPECT_EQ(edited.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(edited.message(), HasSubstr("migration 1"));

  // An older binary (it knows only migration 1) meets the schema a newer
  // one made: refused, nothing applied.
  const std::vector<Migration> older = {
      {1, "first", {"CREATE TABLE m1 (id INT PRIMARY KEY)"}}};
  const absl::Status newer = ApplyMigrations(*db_, older, clock);
  EXPECT_EQ(newer.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(newer.message(),
              HasSubstr("schema is at version 2, newer than this binary "
                        "knows (1)"));
  version = CurrentSchemaVersion(*db_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 2);
}

// A client told to use TLS never falls back to plaintext with a server that
// offers none (this fixture's).
TEST_F(DatabaseTest, TlsIsNeverDroppedForAServerWithout) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/smz-dbplain-",
                                       absl::ToUnixNanos(absl::Now()));
  ASSERT_TRUE(testing::MakeTestCertificates(dir, "mariadb"));
  DatabaseOptions with_ca = *options_;
  with_ca.tls_ca_file = absl::StrCat(dir, "/ca.crt");
  with_ca.pool_size = 1;
  Database database(with_ca);
  EXPECT_EQ(database.Ping().code(), absl::StatusCode::kUnavailable);
  database.Close();
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

TEST_F(DatabaseTest, ServiceUserCannotTouchOtherDatabases) {
  const absl::Status status = db_->Run([](Session& s) {
    return s.Query("SELECT COUNT(*) FROM mysql.user", {}).status();
  });
  EXPECT_FALSE(status.ok());
}

// A database server that speaks only TLS (require_secure_transport), with a
// certificate from the project's own script: a service with the CA
// connects encrypted; without TLS, or trusting another CA, it is refused
// (UNAVAILABLE, never a silent plaintext connection).
class DatabaseTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unsetenv("SMZ_TLS_SANS");
    unsetenv("SMZ_TLS_DAYS");
    dir_ = new std::string(absl::StrCat(::testing::TempDir(), "/smz-dbtls-",
                                        absl::ToUnixNanos(absl::Now())));
    ASSERT_TRUE(testing::MakeTestCertificates(*dir_, "mariadb registry"));
    ASSERT_TRUE(testing::MakeTestCertificates(absl::StrCat(*dir_, "-other"),
                                              "registry"));
    auto server = testing::MariaDbServer::Start(
        {absl::StrCat("--ssl-cert=", *dir_, "/mariadb.crt"),
         absl::StrCat("--ssl-key=", *dir_, "/mariadb.key"),
         absl::StrCat("--ssl-ca=", *dir_, "/ca.crt"),
         "--require-secure-transport=ON",
         // A second address the certificate does not name.
         "--bind-address=127.0.0.1,127.0.0.2"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    auto options = server_->CreateServiceDatabase("smz_tlstest");
    ASSERT_TRUE(options.ok()) << options.status();
    options_ = new DatabaseOptions(*options);
    options_->pool_size = 2;
    options_->acquire_timeout = absl::Seconds(3);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete options_;
    std::system(absl::StrCat("rm -rf ", *dir_, " ", *dir_, "-other").c_str());
    delete dir_;
  }
  // The cipher of the session's connection ("" without TLS).
  static absl::StatusOr<std::string> Cipher(Database& database) {
    std::string cipher;
    absl::Status s = database.Run([&](Session& session) {
      auto rows = session.Query("SHOW SESSION STATUS LIKE 'Ssl_cipher'", {});
      if (!rows.ok()) return rows.status();
      if (!rows->empty()) cipher = (*rows)[0].Text(1);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return cipher;
  }
  static inline testing::MariaDbServer* server_ = nullptr;
  static inline DatabaseOptions* options_ = nullptr;
  static inline std::string* dir_ = nullptr;
};

TEST_F(DatabaseTlsTest, ConnectsEncryptedAndCheckedOrNotAtAll) {
  DatabaseOptions with_ca = *options_;
  with_ca.tls_ca_file = absl::StrCat(*dir_, "/ca.crt");
  ASSERT_TRUE(CheckDatabaseTls(with_ca).ok());
  Database encrypted(with_ca);
  absl::StatusOr<std::string> cipher = Cipher(encrypted);
  ASSERT_TRUE(cipher.ok()) << cipher.status();
  EXPECT_FALSE(cipher->empty());
  encrypted.Close();

  // With a client certificate too.
  DatabaseOptions with_cert = with_ca;
  with_cert.tls_cert_file = absl::StrCat(*dir_, "/registry.crt");
  with_cert.tls_key_file = absl::StrCat(*dir_, "/registry.key");
  Database mutual(with_cert);
  cipher = Cipher(mutual);
  ASSERT_TRUE(cipher.ok()) << cipher.status();
  EXPECT_FALSE(cipher->empty());
  mutual.Close();

  // Plaintext: the server refuses it.
  Database plain(*options_);
  EXPECT_EQ(Cipher(plain).status().code(), absl::StatusCode::kUnavailable);
  plain.Close();

  // The same server dialled by an address its certificate does not name.
  DatabaseOptions misnamed = with_ca;
  misnamed.host = "127.0.0.2";
  Database unnamed(misnamed);
  absl::Status s = Cipher(unnamed).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("ertificate")) << s;
  unnamed.Close();

  // A server whose certificate another CA signed is not this one's.
  DatabaseOptions stranger = *options_;
  stranger.tls_ca_file = absl::StrCat(*dir_, "-other/ca.crt");
  Database refused(stranger);
  EXPECT_EQ(Cipher(refused).status().code(), absl::StatusCode::kUnavailable);
  refused.Close();
}

TEST(DatabaseTlsOptionsTest, BadFilesAreRefusedNamingTheFlag) {
  DatabaseOptions half;
  half.tls_ca_file = "/nowhere/ca.crt";
  half.tls_cert_file = "/nowhere/c.crt";
  EXPECT_THAT(CheckDatabaseTls(half).message(), HasSubstr("mysql_tls_key"));
  DatabaseOptions no_ca;
  no_ca.tls_cert_file = "/nowhere/c.crt";
  no_ca.tls_key_file = "/nowhere/c.key";
  EXPECT_THAT(CheckDatabaseTls(no_ca).message(), HasSubstr("mysql_tls_ca"));
  DatabaseOptions missing;
  missing.tls_ca_file = "/nowhere/ca.crt";
  EXPECT_THAT(CheckDatabaseTls(missing).message(),
              HasSubstr("mysql_tls_ca: cannot read"));
  EXPECT_TRUE(CheckDatabaseTls(DatabaseOptions()).ok());
}

}  // namespace
}  // namespace smz
