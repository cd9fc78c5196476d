// The registry's directory cache is exact across replicas: two stores on
// one database (two registry replicas), one writes, the other's next read
// has it — a new partner, a profile edit, a designation — for GetPartner
// and every cached list page alike.
#include <memory>
#include <string>

#include "common/aip/request_key.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "services/registry/registry_schema.h"
#include "services/registry/registry_store.h"
#include "tests/harness/shared_mariadb_test.h"

namespace smz::registry {
namespace {

class DirectoryCacheTest : public testing::SharedMariaDbTest {
 protected:
  void SetUp() override {
    writer_db_ = MigratedDatabase("smz_directory", RegistryMigrations());
    ASSERT_NE(writer_db_, nullptr);
    reader_db_ = std::make_unique<Database>(writer_db_->options());
    writer_ = std::make_unique<RegistryStore>(writer_db_.get(), &clock_);
    reader_ = std::make_unique<RegistryStore>(reader_db_.get(), &clock_);
  }

  Partner Create(const std::string& name) {
    Partner partner;
    partner.set_kind(v1::COOPERATING_INSTITUTION);
    partner.set_region(v1::YEOUIDO);
    (*partner.mutable_name())["ko"] = name;
    absl::StatusOr<Partner> created = writer_->CreatePartner(
        partner, RequestKey{"ADMIN#1", "CreatePartner", "", ""});
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(Partner());
  }

  PartnerList ListAll(RegistryStore& store) {
    PartnerListQuery query;
    query.order = PartnerOrder::kName;
    query.limit = 50;
    absl::StatusOr<PartnerList> list = store.ListPartners(query);
    EXPECT_TRUE(list.ok()) << list.status();
    return list.value_or(PartnerList());
  }

  FakeClock clock_{absl::FromUnixSeconds(1'750'000'000)};
  std::unique_ptr<Database> writer_db_;
  std::unique_ptr<Database> reader_db_;
  std::unique_ptr<RegistryStore> writer_;
  std::unique_ptr<RegistryStore> reader_;
};

TEST_F(DirectoryCacheTest, AnotherReplicasWriteIsInTheNextRead) {
  const Partner first = Create("가나병원");
  // The reader's cache now holds the partner and the page.
  ASSERT_TRUE(reader_->GetPartner(first.id()).ok());
  ASSERT_EQ(ListAll(*reader_).rows.size(), 1u);
  ASSERT_EQ(ListAll(*reader_).total_size, 1);

  // A profile edit through the other replica.
  ASSERT_TRUE(writer_
                  ->UpdatePartner(first.id(), first.etag(), "ADMIN#1",
                                  [](Partner* p) {
                                    (*p->mutable_name())["ko"] = "다라병원";
                                    return absl::OkStatus();
                                  })
                  .ok());
  absl::StatusOr<Partner> read = reader_->GetPartner(first.id());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->name().at("ko"), "다라병원");
  EXPECT_EQ(ListAll(*reader_).rows.front().partner.name().at("ko"), "다라병원");

  // A new partner: in the next page and count.
  const Partner second = Create("마바의원");
  const PartnerList after = ListAll(*reader_);
  EXPECT_EQ(after.total_size, 2);
  ASSERT_EQ(after.rows.size(), 2u);

  // A designation (history and status) through the other replica.
  absl::StatusOr<Partner> current = reader_->GetPartner(second.id());
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE(writer_
                  ->ChangeDesignation(
                      second.id(), current->etag(), "DESIGNATED", "ADMIN#1",
                      [](const Partner&) -> absl::StatusOr<DesignationChange> {
                        DesignationChange change;
                        change.next_status = v1::ACTIVE;
                        change.event.set_action(v1::DESIGNATED);
                        change.event.set_effective_on("2025-06-01");
                        change.event.set_term_ends_on("2027-05-31");
                        change.update_term = true;
                        return change;
                      })
                  .ok());
  read = reader_->GetPartner(second.id());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->status(), v1::ACTIVE);
  EXPECT_EQ(read->designation_term_ends_on(), "2027-05-31");
  EXPECT_EQ(read->designations_size(), 1);
}

// Unchanged data is answered from memory: with the partner's row deleted
// by hand (which changes no stamp, unlike every write of the registry's),
// the cached read still answers; once any partner write moves the stamp,
// the cache is dropped and the read finds no partner.
TEST_F(DirectoryCacheTest, UnchangedDataIsAnsweredFromMemory) {
  const Partner partner = Create("사아병원");
  ASSERT_TRUE(reader_->GetPartner(partner.id()).ok());
  ASSERT_TRUE(writer_db_
                  ->Run([&](Session& s) {
                    return s
                        .Execute("DELETE FROM partners WHERE id = ?",
                                 {SqlInt(partner.id())})
                        .status();
                  })
                  .ok());
  absl::StatusOr<Partner> cached = reader_->GetPartner(partner.id());
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_EQ(cached->name().at("ko"), "사아병원");
  Create("자차의원");
  EXPECT_EQ(reader_->GetPartner(partner.id()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace smz::registry
