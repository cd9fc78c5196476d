#include "services/registry/partner_rules.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::registry {
namespace {

using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Partner ValidHospital() {
  Partner partner;
  partner.set_kind(v1::SPECIALIZED_OPERATOR);
  (*partner.mutable_name())["ko"] = "김안과병원";
  (*partner.mutable_name())["en"] = "Kim's Eye Hospital";
  partner.set_region(v1::YEONGDEUNGPO);
  partner.set_floor_area_m2(3526.6);
  partner.add_departments("ophthalmology");
  partner.add_languages("en");
  partner.set_attraction_registration_number("A-2021-0113");
  partner.set_registration_expires_on("2024-06-30");
  v1::Contact* contact = partner.add_contacts();
  contact->set_name("국제진료팀");
  contact->set_email("intl@example.org");
  return partner;
}

std::vector<std::string> BadFields(const Partner& partner) {
  FieldViolations violations;
  ValidatePartner(partner, "partner", &violations);
  std::vector<std::string> fields;
  for (const FieldViolation& v : violations.violations())
    fields.push_back(v.field);
  return fields;
}

TEST(ValidatePartnerTest, AcceptsAFullHospital) {
  EXPECT_THAT(BadFields(ValidHospital()), IsEmpty());
}

// Every text a partner sends is checked in linear time: a megabyte in each
// field is refused, and no check recurses per character (std::regex did, and
// a long e-mail address overflowed the registry's stack).
TEST(ValidatePartnerTest, MebibyteFieldsAreRefusedQuickly) {
  const std::string huge(1 << 20, 'a');
  Partner partner = ValidHospital();
  partner.mutable_contacts(0)->set_email(absl::StrCat(huge, "@example.org"));
  partner.mutable_contacts(0)->set_phone(std::string(1 << 20, '1'));
  partner.set_attraction_registration_number(huge);
  (*partner.mutable_name())[huge] = "x";
  (*partner.mutable_name())["en"] = huge;
  partner.add_departments(huge);
  partner.add_accreditations(huge);
  const std::vector<std::string> fields = BadFields(partner);
  for (const char* expected :
       {"partner.contacts[0].email", "partner.contacts[0].phone",
        "partner.attraction_registration_number", "partner.name[en]",
        "partner.departments[1]", "partner.accreditations[0]"}) {
    EXPECT_THAT(fields, Contains(expected)) << expected;
  }
  // The bad locale is named, cut to a readable length.
  FieldViolations violations;
  ValidatePartner(partner, "partner", &violations);
  for (const FieldViolation& v : violations.violations()) {
    EXPECT_LE(v.field.size(), kMaxFieldBytes);
    EXPECT_LE(v.description.size(), kMaxDescriptionBytes);
  }
}

TEST(ValidatePartnerTest, NamesEveryBadFieldAtOnce) {
  Partner partner = ValidHospital();
  partner.set_kind(v1::PARTNER_KIND_UNSPECIFIED);
  partner.mutable_name()->erase("ko");
  (*partner.mutable_name())["EN!"] = "x";
  partner.set_region(v1::ZONE_REGION_UNSPECIFIED);
  partner.set_floor_area_m2(-1);
  partner.add_departments("astrology");
  partner.add_languages("english");
  partner.add_languages("en");
  partner.set_registration_expires_on("2024-02-30");
  partner.mutable_contacts(0)->set_email("not-an-email");
  partner.set_country("XX");
  partner.add_languages("zz");  // well-formed, but no such language
  const std::vector<std::string> fields = BadFields(partner);
  for (const char* expected :
       {"partner.kind", "partner.name", "partner.name[EN!]",
        "partner.floor_area_m2", "partner.departments[1]",
        "partner.languages[1]", "partner.languages[2]",
        "partner.registration_expires_on", "partner.contacts[0].email",
        "partner.country", "partner.languages[3]"}) {
    EXPECT_THAT(fields, Contains(expected)) << expected;
  }
}

TEST(ValidatePartnerTest, AgenciesAbroadNameTheirCountry) {
  Partner agency = ValidHospital();
  agency.set_kind(v1::ATTRACTION_AGENCY);
  agency.set_region(v1::ZONE_REGION_UNSPECIFIED);
  agency.set_country("MN");
  agency.clear_languages();
  agency.add_languages("mn");
  agency.add_languages("ru");
  EXPECT_THAT(BadFields(agency), IsEmpty());
  agency.set_country("mn");  // codes are uppercase
  EXPECT_THAT(BadFields(agency), Contains("partner.country"));
}

TEST(ValidatePartnerTest, RegionRequiredForZoneHospitalsOnly) {
  Partner agency = ValidHospital();
  agency.set_kind(v1::ATTRACTION_AGENCY);
  agency.set_region(v1::ZONE_REGION_UNSPECIFIED);
  EXPECT_THAT(BadFields(agency), IsEmpty());
  Partner hospital = ValidHospital();
  hospital.set_region(v1::ZONE_REGION_UNSPECIFIED);
  EXPECT_THAT(BadFields(hospital), Contains("partner.region"));
}

TEST(ValidatePartnerTest, LinkedBusinessNeedsItsType) {
  Partner hotel = ValidHospital();
  hotel.set_kind(v1::LINKED_BUSINESS);
  EXPECT_THAT(BadFields(hotel), Contains("partner.linked_business_type"));
  hotel.set_linked_business_type(v1::LODGING);
  EXPECT_THAT(BadFields(hotel), IsEmpty());
  Partner hospital = ValidHospital();
  hospital.set_linked_business_type(v1::LODGING);
  EXPECT_THAT(BadFields(hospital), Contains("partner.linked_business_type"));
}

TEST(ValidatePartnerTest, RegistrationNumberAndExpiryGoTogether) {
  Partner partner = ValidHospital();
  partner.clear_registration_expires_on();
  EXPECT_THAT(BadFields(partner), Contains("partner.registration_expires_on"));
  partner.clear_attraction_registration_number();
  EXPECT_THAT(BadFields(partner), IsEmpty());
}

TEST(ValidatePartnerTest, CountsCharactersNotBytes) {
  Partner partner = ValidHospital();
  (*partner.mutable_name())["ko"] = std::string(200 * 3 / 3, 'a');
  EXPECT_THAT(BadFields(partner), IsEmpty());
  std::string korean;
  for (int i = 0; i < 200; ++i) korean += "가";  // 600 bytes, 200 characters
  (*partner.mutable_name())["ko"] = korean;
  EXPECT_THAT(BadFields(partner), IsEmpty());
  (*partner.mutable_name())["ko"] = korean + "가";
  EXPECT_THAT(BadFields(partner), Contains("partner.name[ko]"));
}

TEST(LifecycleTest, LegalTransitions) {
  EXPECT_EQ(*NextStatus(v1::PENDING, LifecycleAction::kDesignate), v1::ACTIVE);
  EXPECT_EQ(*NextStatus(v1::REVOKED, LifecycleAction::kDesignate), v1::ACTIVE);
  EXPECT_EQ(*NextStatus(v1::ACTIVE, LifecycleAction::kRedesignate), v1::ACTIVE);
  EXPECT_EQ(*NextStatus(v1::ACTIVE, LifecycleAction::kSuspend), v1::SUSPENDED);
  EXPECT_EQ(*NextStatus(v1::SUSPENDED, LifecycleAction::kReinstate),
            v1::ACTIVE);
  EXPECT_EQ(*NextStatus(v1::ACTIVE, LifecycleAction::kRevoke), v1::REVOKED);
  EXPECT_EQ(*NextStatus(v1::SUSPENDED, LifecycleAction::kRevoke), v1::REVOKED);
}

TEST(LifecycleTest, IllegalTransitionsAreFailedPreconditionWithAHint) {
  const struct {
    v1::PartnerStatus from;
    LifecycleAction action;
  } kIllegal[] = {
      {v1::ACTIVE, LifecycleAction::kDesignate},
      {v1::SUSPENDED, LifecycleAction::kDesignate},
      {v1::PENDING, LifecycleAction::kRedesignate},
      {v1::REVOKED, LifecycleAction::kRedesignate},
      {v1::SUSPENDED, LifecycleAction::kRedesignate},
      {v1::PENDING, LifecycleAction::kSuspend},
      {v1::SUSPENDED, LifecycleAction::kSuspend},
      {v1::ACTIVE, LifecycleAction::kReinstate},
      {v1::PENDING, LifecycleAction::kRevoke},
      {v1::REVOKED, LifecycleAction::kRevoke},
  };
  for (const auto& c : kIllegal) {
    absl::StatusOr<v1::PartnerStatus> next = NextStatus(c.from, c.action);
    EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition)
        << v1::PartnerStatus_Name(c.from) << " "
        << LifecycleActionName(c.action);
    EXPECT_THAT(next.status().message(),
                HasSubstr(v1::PartnerStatus_Name(c.from)));
  }
}

TEST(DesignationRequestTest, RequiresWhatEachActionNeeds) {
  v1::DesignationRequest request;
  request.set_id(1);
  request.set_effective_on("2022-12-01");
  FieldViolations designate;
  ValidateDesignationRequest(request, LifecycleAction::kDesignate, std::nullopt,
                             &designate);
  EXPECT_THAT(designate.violations(),
              Contains(Field(&FieldViolation::field, "term_ends_on")));
  FieldViolations revoke;
  ValidateDesignationRequest(request, LifecycleAction::kRevoke, std::nullopt,
                             &revoke);
  EXPECT_THAT(revoke.violations(),
              Contains(Field(&FieldViolation::field, "reason")));
  request.set_term_ends_on("2022-01-01");
  FieldViolations backwards;
  ValidateDesignationRequest(request, LifecycleAction::kRedesignate,
                             absl::CivilDay(2023, 1, 1), &backwards);
  EXPECT_THAT(backwards.violations(),
              Contains(Field(&FieldViolation::field, "term_ends_on")));
  EXPECT_THAT(backwards.violations(),
              Contains(Field(&FieldViolation::field, "effective_on")));
}

TEST(UpdateMaskTest, PartnerMasksNameEditableFieldsOnly) {
  google::protobuf::FieldMask mask;
  mask.add_paths("address");
  mask.add_paths("contacts");
  FieldViolations ok;
  EXPECT_EQ(PartnerUpdatableFields().Resolve(mask, &ok).size(), 2u);
  mask.add_paths("status");
  mask.add_paths("no_such_field");
  FieldViolations bad;
  EXPECT_TRUE(PartnerUpdatableFields().Resolve(mask, &bad).empty());
  EXPECT_EQ(bad.size(), 2u);
  google::protobuf::FieldMask all;
  all.add_paths("*");
  FieldViolations star;
  EXPECT_EQ(PartnerUpdatableFields().Resolve(all, &star),
            MutablePartnerPaths());
}

TEST(ChangedFieldsTest, NamesWhatDiffersIgnoringMapOrder) {
  Partner before = ValidHospital();
  Partner after = before;
  EXPECT_THAT(ChangedPartnerFields(before, after), IsEmpty());
  // The same map built in another order is not a change.
  after.mutable_name()->clear();
  (*after.mutable_name())["en"] = before.name().at("en");
  (*after.mutable_name())["ko"] = before.name().at("ko");
  EXPECT_THAT(ChangedPartnerFields(before, after), IsEmpty());
  after.set_address("elsewhere");
  after.set_status(v1::ACTIVE);
  after.add_languages("zh");
  EXPECT_THAT(
      ChangedPartnerFields(before, after),
      ::testing::UnorderedElementsAre("address", "status", "languages"));
}

TEST(DateTest, ParsesOnlyRealDates) {
  EXPECT_TRUE(ParseDate("2017-12-14").has_value());
  EXPECT_FALSE(ParseDate("2017-02-29").has_value());
  EXPECT_FALSE(ParseDate("2017-2-1").has_value());
  EXPECT_FALSE(ParseDate("yesterday").has_value());
  EXPECT_EQ(FormatDate(absl::CivilDay(2022, 1, 5)), "2022-01-05");
}

}  // namespace
}  // namespace smz::registry
