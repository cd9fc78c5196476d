// Reading an audit trail never holds more than a page's byte budget of
// values: pages end early when the values fill them and go on where they
// ended; an entry too large on its own is listed without its values. A
// real MariaDB, the kit's reader (common/aip/change_log.h) and the
// low-level one (common/mysql/audit.h).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/aip/change_log.h"
#include "common/clock.h"
#include "common/mysql/audit.h"
#include "common/mysql/database.h"
#include "common/mysql/migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smz/audit/v1/audit.pb.h"
#include "smz/programme/v1/programme.pb.h"
#include "tests/harness/shared_mariadb_test.h"

namespace smz {
namespace {

using ::testing::ElementsAre;

class AuditTrailTest : public testing::SharedMariaDbTest {
 protected:
  void SetUp() override {
    database_ =
        MigratedDatabase("smz_audit", {{1, "audit trail", {kAuditTableDdl}}});
    ASSERT_NE(database_, nullptr);
  }

  // An UPDATE of project 7 whose values hold `bytes` bytes in all.
  void Append(size_t bytes) {
    AuditEntry entry{"project",
                     7,
                     "UPDATE",
                     "ADMIN#1",
                     clock_.Now(),
                     std::string(bytes / 2, 'b'),
                     std::string(bytes - bytes / 2, 'a'),
                     {"name"}};
    ASSERT_TRUE(
        database_
            ->Run([&](Session& session) { return AppendAudit(session, entry); })
            .ok());
  }

  absl::StatusOr<AuditPage> Read(int64_t after_id, int limit, size_t budget) {
    return database_->RunFor<AuditPage>([&](Session& session) {
      return ReadAudit(session, "project", 7, after_id, limit, budget);
    });
  }

  FakeClock clock_{absl::FromUnixSeconds(1'770'000'000)};
  std::unique_ptr<Database> database_;
};

TEST_F(AuditTrailTest, PagesEndWhereTheirValuesFillTheBudget) {
  for (size_t bytes : {400, 400, 400, 5000, 100}) Append(bytes);
  absl::StatusOr<AuditPage> first = Read(0, 50, 1000);
  ASSERT_TRUE(first.ok()) << first.status();
  // 400 + 400 fit; a third 400 would pass 1000.
  ASSERT_EQ(first->entries.size(), 2u);
  EXPECT_TRUE(first->cut);
  EXPECT_EQ(first->entries[0].after.size(), 200u);

  absl::StatusOr<AuditPage> second = Read(first->entries.back().id, 50, 1000);
  ASSERT_TRUE(second.ok()) << second.status();
  // The 5000-byte entry is larger than any page: listed, values left out.
  ASSERT_EQ(second->entries.size(), 3u);
  EXPECT_FALSE(second->cut);
  EXPECT_FALSE(second->entries[0].values_omitted);
  EXPECT_TRUE(second->entries[1].values_omitted);
  EXPECT_TRUE(second->entries[1].before.empty());
  EXPECT_TRUE(second->entries[1].after.empty());
  EXPECT_THAT(second->entries[1].changed_fields, ElementsAre("name"));
  EXPECT_FALSE(second->entries[2].values_omitted);
  EXPECT_EQ(second->entries[2].before.size(), 50u);
}

TEST_F(AuditTrailTest, ListChangesPagesThroughLargeValuesUnderThreeMebibytes) {
  // Five changes of 1.2 MiB and one of 4 MiB: pages of two, the large one
  // without values, every change listed once.
  constexpr size_t kMiB = 1 << 20;
  for (int i = 0; i < 3; ++i) Append(kMiB * 6 / 5);
  Append(4 * kMiB);
  for (int i = 0; i < 2; ++i) Append(kMiB * 6 / 5);
  const AuditedEntities entities = {
      {"project", programme::v1::Project::descriptor()}};
  audit::v1::ListChangesRequest request;
  request.set_entity("project");
  request.set_entity_id(7);
  std::vector<int64_t> seen;
  std::vector<bool> omitted;
  for (int pages = 0; pages < 10; ++pages) {
    absl::StatusOr<audit::v1::ListChangesResponse> page =
        ListChanges(*database_, entities, request);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->ByteSizeLong(), 3 * kMiB + 64 * 1024);
    for (const audit::v1::Change& change : page->changes()) {
      seen.push_back(change.id());
      omitted.push_back(change.values_omitted());
    }
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 6u);
  EXPECT_THAT(omitted, ElementsAre(false, false, false, true, false, false));
}

}  // namespace
}  // namespace smz
