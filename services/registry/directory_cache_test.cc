// The registry's directory cache is exact across replicas: two stores on
// one database (two registry replicas), one writes, the other's next read
// has it — a new partner, a profile edit, a designation — for GetPartner
// and every cached list page alike, and ListPartners' serialized answers.
#include <memory>
#include <string>
#include <vector>

#include "common/aip/request_key.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/registry/registry.h"
#include "services/registry/registry_schema.h"
#include "services/registry/registry_store.h"
#include "tests/harness/shared_mariadb_test.h"

namespace smz::registry {
namespace {

using google::protobuf::util::MessageDifferencer;

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

  // A profile edit through the writer replica.
  bool Rename(const Partner& partner, const std::string& name) {
    absl::StatusOr<Partner> renamed = writer_->UpdatePartner(
        partner.id(), partner.etag(), "ADMIN#1", [&](Partner* p) {
          (*p->mutable_name())["ko"] = name;
          return absl::OkStatus();
        });
    EXPECT_TRUE(renamed.ok()) << renamed.status();
    return renamed.ok();
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
  ASSERT_TRUE(Rename(first, "다라병원"));
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

// ListPartners' serialized answers (Registry::ListPartnersSerialized*),
// through the reader replica.
class SerializedListTest : public DirectoryCacheTest {
 protected:
  SerializedListTest() { council_.set_role(auth::v1::COUNCIL); }

  void SetUp() override {
    DirectoryCacheTest::SetUp();
    registry_ = std::make_unique<Registry>(
        reader_.get(), /*authenticator=*/nullptr, &clock_, &random_);
    by_name_.set_page_size(10);
    by_name_.set_order_by("name");
  }

  std::string Stamp() {
    absl::StatusOr<std::string> stamp =
        reader_->directory_fence().CurrentFromQuery();
    EXPECT_TRUE(stamp.ok()) << stamp.status();
    return stamp.value_or("");
  }
  // The answer from memory at the current stamp: null when memory holds
  // none, the answer (checked OK) else.
  std::shared_ptr<const std::string> FromMemory(absl::string_view request) {
    auto answer =
        registry_->ListPartnersSerializedFromMemory(council_, request, Stamp());
    if (!answer.has_value()) return nullptr;
    EXPECT_TRUE(answer->ok()) << answer->status();
    return answer->value_or(nullptr);
  }
  // A page's partners' Korean names.
  static std::vector<std::string> Names(const std::string& answer) {
    v1::ListPartnersResponse page;
    EXPECT_TRUE(page.ParseFromString(answer));
    std::vector<std::string> names;
    for (const Partner& partner : page.partners()) {
      names.push_back(partner.name().at("ko"));
    }
    return names;
  }

  SecureRandom random_;
  Principal council_;
  std::unique_ptr<Registry> registry_;
  v1::ListPartnersRequest by_name_;
};

// The same bytes get the very answer kept; a write through the other
// replica drops it; an answer built before that write is not kept after it.
TEST_F(SerializedListTest, KeptByRequestBytesForOneStamp) {
  const Partner partner = Create("차카병원");
  const std::string request = by_name_.SerializeAsString();
  // Memory holds no rows yet: only the blocking path answers, and keeps them.
  EXPECT_EQ(FromMemory(request), nullptr);
  absl::StatusOr<std::string> blocking =
      registry_->ListPartnersSerialized(council_, request);
  ASSERT_TRUE(blocking.ok()) << blocking.status();
  std::shared_ptr<const std::string> first = FromMemory(request);
  ASSERT_NE(first, nullptr);
  // A map's entries have no fixed order between messages: compared parsed.
  v1::ListPartnersResponse built, kept;
  ASSERT_TRUE(built.ParseFromString(*blocking));
  ASSERT_TRUE(kept.ParseFromString(*first));
  EXPECT_TRUE(MessageDifferencer::Equals(kept, built));
  EXPECT_EQ(FromMemory(request), first);  // the one kept, not a copy
  EXPECT_EQ(Names(*first), std::vector<std::string>{"차카병원"});

  const std::string old_stamp = Stamp();
  ASSERT_TRUE(Rename(partner, "타파병원"));
  EXPECT_EQ(FromMemory(request), nullptr);
  const std::string new_stamp = Stamp();
  ASSERT_NE(new_stamp, old_stamp);
  reader_->KeepListAnswer(request, first, old_stamp);
  EXPECT_EQ(reader_->CachedListAnswer(request, new_stamp), nullptr);
  ASSERT_TRUE(registry_->ListPartnersSerialized(council_, request).ok());
  std::shared_ptr<const std::string> fresh = FromMemory(request);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(Names(*fresh), std::vector<std::string>{"타파병원"});
}

// Bytes that are not how the server would encode the request are answered
// alike and never kept.
TEST_F(SerializedListTest, OtherEncodingsAreAnsweredNotKept) {
  Create("차카병원");
  const std::string request = by_name_.SerializeAsString();
  ASSERT_TRUE(registry_->ListPartnersSerialized(council_, request).ok());
  // Field 111 (tag 0xf8 0x06), a varint 1: unknown to ListPartnersRequest.
  const std::string padded = request + std::string("\xf8\x06\x01", 3);
  std::shared_ptr<const std::string> odd = FromMemory(padded);
  ASSERT_NE(odd, nullptr);
  EXPECT_EQ(Names(*odd), std::vector<std::string>{"차카병원"});
  std::shared_ptr<const std::string> odd_again = FromMemory(padded);
  ASSERT_NE(odd_again, nullptr);
  EXPECT_NE(odd_again, odd);  // built again: not kept
  // The request's own bytes are kept as usual.
  std::shared_ptr<const std::string> own = FromMemory(request);
  EXPECT_EQ(FromMemory(request), own);
}

// Two requests, two answers: a page of one and a page of two.
TEST_F(SerializedListTest, EachRequestHasItsOwnAnswer) {
  Create("가가병원");
  Create("나나병원");
  v1::ListPartnersRequest one = by_name_, two = by_name_;
  one.set_page_size(1);
  two.set_page_size(2);
  for (const v1::ListPartnersRequest& request : {one, two}) {
    ASSERT_TRUE(
        registry_->ListPartnersSerialized(council_, request.SerializeAsString())
            .ok());
  }
  for (int round = 0; round < 2; ++round) {  // built, then kept
    std::shared_ptr<const std::string> first =
        FromMemory(one.SerializeAsString());
    std::shared_ptr<const std::string> both =
        FromMemory(two.SerializeAsString());
    ASSERT_NE(first, nullptr);
    ASSERT_NE(both, nullptr);
    EXPECT_EQ(Names(*first), std::vector<std::string>{"가가병원"});
    EXPECT_EQ(Names(*both), (std::vector<std::string>{"가가병원", "나나병원"}));
  }
}

TEST_F(SerializedListTest, BytesThatAreNoRequestAreInvalidArgument) {
  auto answer = registry_->ListPartnersSerializedFromMemory(
      council_, std::string("\xff\xff\xff", 3), Stamp());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->ListPartnersSerialized(council_, std::string("\xff", 1))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace smz::registry
