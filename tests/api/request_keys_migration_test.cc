// Moving each service's idempotency keys into the one request_keys table
// (common/aip/idempotency.h) loses none: every key stored under the old
// schema is found under the new one, with its caller, method, digest and
// answer, and a retry of it is answered from it.
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "common/aip/idempotency.h"
#include "common/clock.h"
#include "common/mysql/database.h"
#include "common/mysql/migrations.h"
#include "gtest/gtest.h"
#include "services/events/events_schema.h"
#include "services/programme/programme_schema.h"
#include "services/registry/registry_schema.h"
#include "services/stats/stats_schema.h"
#include "tests/harness/mariadb_server.h"

namespace smz {
namespace {

class RequestKeysMigrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto mariadb = testing::MariaDbServer::Start();
    ASSERT_TRUE(mariadb.ok()) << mariadb.status();
    mariadb_ = mariadb->release();
  }
  static void TearDownTestSuite() { delete mariadb_; }

  // A database at the schema before `version`, with `rows` written into it,
  // then brought up to date.
  std::unique_ptr<Database> Upgrade(const std::string& name,
                                    const std::vector<Migration>& migrations,
                                    int version,
                                    const std::vector<std::string>& rows) {
    auto options = mariadb_->CreateServiceDatabase(name);
    EXPECT_TRUE(options.ok()) << options.status();
    auto db = std::make_unique<Database>(*options);
    std::vector<Migration> before;
    for (const Migration& m : migrations) {
      if (m.version < version) before.push_back(m);
    }
    EXPECT_TRUE(ApplyMigrations(*db, before, clock_).ok());
    for (const std::string& sql : rows) {
      absl::Status s = db->Run(
          [&](Session& session) { return session.Execute(sql, {}).status(); });
      EXPECT_TRUE(s.ok()) << s << " in " << sql;
    }
    absl::Status upgraded = ApplyMigrations(*db, migrations, clock_);
    EXPECT_TRUE(upgraded.ok()) << upgraded;
    return db;
  }

  // The answer a retry gets, as FirstAnswer or an error.
  absl::StatusOr<std::optional<FirstAnswer>> Retry(Database& db,
                                                   const RequestKey& key) {
    return db.RunFor<std::optional<FirstAnswer>>(
        [&](Session& session) { return LookUpRequest(session, key); });
  }

  static inline testing::MariaDbServer* mariadb_ = nullptr;
  FakeClock clock_{absl::FromUnixSeconds(1'770'000'000)};
};

TEST_F(RequestKeysMigrationTest, RegistryKeysGainTheirCallerFromTheAudit) {
  std::unique_ptr<Database> db = Upgrade(
      "smz_registry_upgrade", registry::RegistryMigrations(), 5,
      {"INSERT INTO idempotency_keys (method, request_id, request_hash, "
       "resource_id, create_time_us) VALUES "
       "('CreatePartner', 'p-1', 'digest-p', 7, 1), "
       "('CreateGrant', 'g-1', 'digest-g', 3, 2)",
       "INSERT INTO audit_events (entity, entity_id, action, actor, time_us, "
       "changed_fields) VALUES ('partner', 7, 'CREATE', 'ADMIN#4', 1, '')"});
  auto partner =
      Retry(*db, RequestKey{"ADMIN#4", "CreatePartner", "p-1", "digest-p"});
  ASSERT_TRUE(partner.ok()) << partner.status();
  ASSERT_TRUE(partner->has_value());
  EXPECT_EQ((*partner)->result_id, 7);
  // Reused for another body: still refused.
  EXPECT_TRUE(absl::IsInvalidArgument(
      Retry(*db, RequestKey{"ADMIN#4", "CreatePartner", "p-1", "other"})
          .status()));
  // The grant's key is kept, under the caller no one has.
  auto grant = Retry(*db, RequestKey{"*", "CreateGrant", "g-1", "digest-g"});
  ASSERT_TRUE(grant.ok() && grant->has_value());
  EXPECT_EQ((*grant)->result_id, 3);
}

TEST_F(RequestKeysMigrationTest, StatsKeysKeepTheirAnswersUnderTheirMethod) {
  std::unique_ptr<Database> db = Upgrade(
      "smz_stats_upgrade", stats::StatsMigrations(), 5,
      {"INSERT INTO idempotency_keys (caller, request_id, request_digest, "
       "response, create_time_us) VALUES "
       "('PARTNER#2@partner:1', 'july', 'd1', 'answer-bytes', 1), "
       "('PARTNER#2@partner:1', 'imb:abc', 'd2', '', 2), "
       "('PARTNER#2@partner:1', 'imp:abc:1:2020-07', 'd3', 'r', 3)",
       "INSERT INTO lock_exceptions (partner_id, period, reason, granted_by, "
       "grant_time_us, expire_time_us, request_id) VALUES "
       "(1, 202007, 'fix', 'ADMIN#1', 5, 6, 'unlock-1')"});
  auto submit = Retry(
      *db, RequestKey{"PARTNER#2@partner:1", "SubmitReport", "july", "d1"});
  ASSERT_TRUE(submit.ok() && submit->has_value()) << submit.status();
  EXPECT_EQ((*submit)->response, "answer-bytes");
  for (const char* id : {"imb:abc", "imp:abc:1:2020-07"}) {
    auto imported =
        Retry(*db, RequestKey{"PARTNER#2@partner:1", "ImportReports", id,
                              id[2] == 'b' ? "d2" : "d3"});
    ASSERT_TRUE(imported.ok() && imported->has_value()) << id;
  }
  // A lock exception granted with a request_id: its key is kept, and a
  // retry across the upgrade is refused rather than granted twice.
  auto unlock = Retry(*db, RequestKey{"ADMIN#1", "GrantLockException",
                                      "unlock-1", "any digest"});
  EXPECT_TRUE(absl::IsInvalidArgument(unlock.status())) << unlock.status();
}

TEST_F(RequestKeysMigrationTest, EventsAndProgrammeKeysMoveAsTheyAre) {
  const std::string row =
      "INSERT INTO idempotency_keys (caller, request_id, method, "
      "request_digest, result_id, create_us) VALUES "
      "('ORGANIZER#3', 'r-1', 'CreateEvent', 'd', 11, 1)";
  for (auto [name, migrations] :
       {std::pair<std::string, const std::vector<Migration>*>{
            "smz_events_upgrade", &events::EventsMigrations()},
        {"smz_programme_upgrade", &programme::ProgrammeMigrations()}}) {
    SCOPED_TRACE(name);
    std::unique_ptr<Database> db = Upgrade(name, *migrations, 2, {row});
    auto first =
        Retry(*db, RequestKey{"ORGANIZER#3", "CreateEvent", "r-1", "d"});
    ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
    EXPECT_EQ((*first)->result_id, 11);
  }
}

}  // namespace
}  // namespace smz
