#include "services/registry/partner_rules.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/departments.h"
#include "common/iso_codes.h"
#include "common/text_checks.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace smz::registry {
namespace {

using ::smz::registry::v1::PartnerKind;

constexpr size_t kMaxNameChars = 200;
constexpr size_t kMaxTextChars = 1000;
constexpr size_t kMaxListItems = 50;

void CheckText(absl::string_view text, absl::string_view field, size_t max,
               bool required, FieldViolations* violations) {
  if (text.empty()) {
    if (required) violations->Add(std::string(field), "is required");
    return;
  }
  if (!IsValidUtf8(text)) {
    violations->Add(std::string(field), "is not valid UTF-8");
  } else if (Utf8Length(text) > max) {
    violations->Add(std::string(field),
                    absl::StrCat("is longer than ", max, " characters"));
  }
}

void CheckLocalizedText(
    const google::protobuf::Map<std::string, std::string>& text,
    absl::string_view field, bool korean_required, size_t max,
    FieldViolations* violations) {
  if (korean_required && (text.count("ko") == 0 || text.at("ko").empty())) {
    violations->Add(std::string(field), "needs Korean text under \"ko\"");
  }
  for (const auto& [locale, value] : text) {
    const std::string entry = absl::StrCat(field, "[", locale, "]");
    if (!IsLocaleTag(locale)) {
      violations->Add(entry,
                      "is not a BCP 47 locale such as ko, en or zh-Hans");
      continue;
    }
    CheckText(value, entry, max, /*required=*/true, violations);
  }
}

void CheckCodeList(const google::protobuf::RepeatedPtrField<std::string>& codes,
                   absl::string_view field, bool (*valid)(absl::string_view),
                   absl::string_view expectation, FieldViolations* violations) {
  if (static_cast<size_t>(codes.size()) > kMaxListItems) {
    violations->Add(std::string(field),
                    absl::StrCat("has more than ", kMaxListItems, " items"));
  }
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < codes.size(); ++i) {
    const std::string entry = absl::StrCat(field, "[", i, "]");
    if (!valid(codes[i])) {
      violations->Add(entry, absl::StrCat("\"", codes[i], "\" ", expectation));
    } else if (!seen.insert(codes[i]).second) {
      violations->Add(entry,
                      absl::StrCat("\"", codes[i], "\" is listed twice"));
    }
  }
}

std::string Field(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

}  // namespace

absl::string_view LifecycleActionName(LifecycleAction action) {
  switch (action) {
    case LifecycleAction::kDesignate:
      return "designate";
    case LifecycleAction::kRedesignate:
      return "redesignate";
    case LifecycleAction::kSuspend:
      return "suspend";
    case LifecycleAction::kReinstate:
      return "reinstate";
    case LifecycleAction::kRevoke:
      return "revoke";
  }
  return "change";
}

absl::StatusOr<PartnerStatus> NextStatus(PartnerStatus current,
                                         LifecycleAction action) {
  using v1::ACTIVE;
  using v1::PENDING;
  using v1::REVOKED;
  using v1::SUSPENDED;
  bool legal = false;
  PartnerStatus next = current;
  switch (action) {
    case LifecycleAction::kDesignate:
      legal = current == PENDING || current == REVOKED;
      next = ACTIVE;
      break;
    case LifecycleAction::kRedesignate:
      legal = current == ACTIVE;
      next = ACTIVE;
      break;
    case LifecycleAction::kSuspend:
      legal = current == ACTIVE;
      next = SUSPENDED;
      break;
    case LifecycleAction::kReinstate:
      legal = current == SUSPENDED;
      next = ACTIVE;
      break;
    case LifecycleAction::kRevoke:
      legal = current == ACTIVE || current == SUSPENDED;
      next = REVOKED;
      break;
  }
  if (legal) return next;
  std::string hint;
  switch (action) {
    case LifecycleAction::kDesignate:
      hint = "it is already designated; use RedesignatePartner for a new term";
      break;
    case LifecycleAction::kRedesignate:
      hint = "only an ACTIVE partner can be re-designated";
      break;
    case LifecycleAction::kSuspend:
      hint = "only an ACTIVE partner can be suspended";
      break;
    case LifecycleAction::kReinstate:
      hint = "only a SUSPENDED partner can be reinstated";
      break;
    case LifecycleAction::kRevoke:
      hint = "only an ACTIVE or SUSPENDED designation can be revoked";
      break;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot ", LifecycleActionName(action), " a partner in status ",
      v1::PartnerStatus_Name(current), ": ", hint));
}

DesignationAction RecordedAction(LifecycleAction action) {
  switch (action) {
    case LifecycleAction::kDesignate:
      return v1::DESIGNATED;
    case LifecycleAction::kRedesignate:
      return v1::REDESIGNATED;
    case LifecycleAction::kSuspend:
      return v1::SUSPENDED_ACTION;
    case LifecycleAction::kReinstate:
      return v1::REINSTATED;
    case LifecycleAction::kRevoke:
      return v1::REVOKED_ACTION;
  }
  return v1::DESIGNATION_ACTION_UNSPECIFIED;
}

// Long by design: one check per field, in field order, so that every bad field
// is named at once.
void ValidatePartner(const Partner& partner, absl::string_view prefix,
                     FieldViolations* violations) {
  const PartnerKind kind = partner.kind();
  if (kind == v1::PARTNER_KIND_UNSPECIFIED || !v1::PartnerKind_IsValid(kind)) {
    violations->Add(
        Field(prefix, "kind"),
        "is required: SPECIALIZED_OPERATOR, COOPERATING_INSTITUTION, "
        "ATTRACTION_AGENCY or LINKED_BUSINESS");
  }
  const bool linked = kind == v1::LINKED_BUSINESS;
  if (!v1::LinkedBusinessType_IsValid(partner.linked_business_type())) {
    violations->Add(Field(prefix, "linked_business_type"),
                    "is not a known type");
  } else if (linked && partner.linked_business_type() ==
                           v1::LINKED_BUSINESS_TYPE_UNSPECIFIED) {
    violations->Add(Field(prefix, "linked_business_type"),
                    "is required for a LINKED_BUSINESS partner");
  } else if (!linked && partner.linked_business_type() !=
                            v1::LINKED_BUSINESS_TYPE_UNSPECIFIED) {
    violations->Add(Field(prefix, "linked_business_type"),
                    "applies only to LINKED_BUSINESS partners");
  }
  CheckLocalizedText(partner.name(), Field(prefix, "name"),
                     /*korean_required=*/true, kMaxNameChars, violations);
  if (!partner.country().empty() && !IsCountryCode(partner.country())) {
    violations->Add(Field(prefix, "country"),
                    "is not an ISO 3166-1 alpha-2 code such as KR, MN or VN");
  }
  CheckText(partner.representative(), Field(prefix, "representative"), 100,
            false, violations);
  CheckText(partner.address(), Field(prefix, "address"), 300, false,
            violations);
  if (!v1::ZoneRegion_IsValid(partner.region())) {
    violations->Add(Field(prefix, "region"), "is not a known zone region");
  } else if ((kind == v1::SPECIALIZED_OPERATOR ||
              kind == v1::COOPERATING_INSTITUTION) &&
             partner.region() == v1::ZONE_REGION_UNSPECIFIED) {
    violations->Add(Field(prefix, "region"),
                    "is required for hospitals in the zone: YEONGDEUNGPO, "
                    "YEOUIDO or DAERIM");
  }
  if (!std::isfinite(partner.floor_area_m2()) || partner.floor_area_m2() < 0 ||
      partner.floor_area_m2() > 10'000'000) {
    violations->Add(Field(prefix, "floor_area_m2"),
                    "must be between 0 and 10,000,000 m²");
  }
  CheckLocalizedText(partner.specialized_business(),
                     Field(prefix, "specialized_business"), false,
                     kMaxTextChars, violations);
  CheckCodeList(partner.departments(), Field(prefix, "departments"),
                &IsDepartmentCode, "is not a department code", violations);
  CheckCodeList(partner.languages(), Field(prefix, "languages"),
                &IsLanguageCode, "is not an ISO 639-1 language code",
                violations);
  if (static_cast<size_t>(partner.accreditations_size()) > kMaxListItems) {
    violations->Add(Field(prefix, "accreditations"), "has too many items");
  }
  for (int i = 0; i < partner.accreditations_size(); ++i) {
    CheckText(partner.accreditations(i),
              absl::StrCat(Field(prefix, "accreditations"), "[", i, "]"), 200,
              true, violations);
  }
  const bool has_number = !partner.attraction_registration_number().empty();
  if (has_number &&
      !IsRegistrationNumber(partner.attraction_registration_number())) {
    violations->Add(Field(prefix, "attraction_registration_number"),
                    "must be 3-64 letters, digits or '-'");
  }
  if (!partner.registration_expires_on().empty() &&
      !ParseDate(partner.registration_expires_on())) {
    violations->Add(Field(prefix, "registration_expires_on"),
                    "must be a date YYYY-MM-DD");
  } else if (has_number && partner.registration_expires_on().empty()) {
    violations->Add(Field(prefix, "registration_expires_on"),
                    "is required with a registration number (registrations "
                    "run for 3 years)");
  } else if (!has_number && !partner.registration_expires_on().empty()) {
    violations->Add(Field(prefix, "registration_expires_on"),
                    "needs attraction_registration_number");
  }
  if (static_cast<size_t>(partner.contacts_size()) > kMaxListItems) {
    violations->Add(Field(prefix, "contacts"), "has too many items");
  }
  for (int i = 0; i < partner.contacts_size(); ++i) {
    const v1::Contact& contact = partner.contacts(i);
    const std::string base =
        absl::StrCat(Field(prefix, "contacts"), "[", i, "]");
    CheckText(contact.name(), absl::StrCat(base, ".name"), 100, true,
              violations);
    CheckText(contact.role(), absl::StrCat(base, ".role"), 100, false,
              violations);
    if (!contact.email().empty() && !IsEmailAddress(contact.email())) {
      violations->Add(absl::StrCat(base, ".email"), "is not an e-mail address");
    }
    if (!contact.phone().empty() && !IsPhoneNumber(contact.phone())) {
      violations->Add(absl::StrCat(base, ".phone"), "is not a phone number");
    }
    if (contact.email().empty() && contact.phone().empty()) {
      violations->Add(base, "needs an email or a phone number");
    }
    CheckCodeList(contact.languages(), absl::StrCat(base, ".languages"),
                  &IsLanguageCode, "is not an ISO 639-1 language code",
                  violations);
  }
}

const std::vector<std::string>& MutablePartnerPaths() {
  static const auto* const kPaths = new std::vector<std::string>{
      "kind",
      "linked_business_type",
      "name",
      "representative",
      "address",
      "country",
      "region",
      "floor_area_m2",
      "specialized_business",
      "departments",
      "languages",
      "accreditations",
      "attraction_registration_number",
      "registration_expires_on",
      "contacts",
  };
  return *kPaths;
}

const std::vector<std::string>& PartnerSelfServicePaths() {
  static const auto* const kPaths = new std::vector<std::string>{
      "contacts", "departments", "languages", "accreditations"};
  return *kPaths;
}

const UpdatableFields& PartnerUpdatableFields() {
  static const auto* const kFields = new UpdatableFields(
      MutablePartnerPaths(),
      "status and designations change through their own methods");
  return *kFields;
}

std::vector<std::string> ChangedPartnerFields(const Partner& before,
                                              const Partner& after) {
  std::vector<std::string> paths = MutablePartnerPaths();
  paths.push_back("status");
  paths.push_back("designation_term_ends_on");
  std::vector<std::string> changed;
  for (const std::string& path : paths) {
    google::protobuf::FieldMask mask;
    mask.add_paths(path);
    Partner a;
    Partner b;
    google::protobuf::util::FieldMaskUtil::MergeMessageTo(
        before, mask, google::protobuf::util::FieldMaskUtil::MergeOptions(),
        &a);
    google::protobuf::util::FieldMaskUtil::MergeMessageTo(
        after, mask, google::protobuf::util::FieldMaskUtil::MergeOptions(), &b);
    // The differencer compares maps by key, not by serialized order.
    if (!google::protobuf::util::MessageDifferencer::Equals(a, b)) {
      changed.push_back(path);
    }
  }
  return changed;
}

void ValidateDesignationRequest(const v1::DesignationRequest& request,
                                LifecycleAction action,
                                std::optional<absl::CivilDay> current_since,
                                FieldViolations* violations) {
  if (request.id() <= 0) violations->Add("id", "must be a partner id");
  const std::optional<absl::CivilDay> effective =
      ParseDate(request.effective_on());
  if (!effective) {
    violations->Add("effective_on", "is required, as a date YYYY-MM-DD");
  } else if (current_since && action == LifecycleAction::kRedesignate &&
             *effective <= *current_since) {
    violations->Add("effective_on",
                    absl::StrCat("must be after the current designation of ",
                                 FormatDate(*current_since)));
  }
  const bool needs_term = action == LifecycleAction::kDesignate ||
                          action == LifecycleAction::kRedesignate;
  if (needs_term) {
    const std::optional<absl::CivilDay> term =
        ParseDate(request.term_ends_on());
    if (!term) {
      violations->Add("term_ends_on", "is required, as a date YYYY-MM-DD");
    } else if (effective && *term <= *effective) {
      violations->Add("term_ends_on", "must be after effective_on");
    }
  } else if (!request.term_ends_on().empty()) {
    violations->Add("term_ends_on", absl::StrCat("does not apply when you ",
                                                 LifecycleActionName(action)));
  }
  const bool needs_reason =
      action == LifecycleAction::kSuspend || action == LifecycleAction::kRevoke;
  CheckText(request.reason(), "reason", kMaxTextChars, needs_reason,
            violations);
  CheckText(request.decision_ref(), "decision_ref", 100, false, violations);
}

void ValidateGrant(const v1::Grant& grant, FieldViolations* violations) {
  if (grant.partner_id() <= 0) {
    violations->Add("grant.partner_id", "must be a partner id");
  }
  if (grant.year() < 2000 || grant.year() > 2100) {
    violations->Add("grant.year", "must be between 2000 and 2100");
  }
  if (grant.programme() == v1::GRANT_PROGRAMME_UNSPECIFIED ||
      !v1::GrantProgramme_IsValid(grant.programme())) {
    violations->Add("grant.programme",
                    "is required: INTERPRETATION_FEE, INFRASTRUCTURE or "
                    "MARKETING");
  }
  if (grant.amount_krw() <= 0 || grant.amount_krw() > 1'000'000'000'000) {
    violations->Add("grant.amount_krw",
                    "must be a positive amount in KRW (at most 1 trillion)");
  }
  CheckLocalizedText(grant.purpose(), "grant.purpose", /*korean_required=*/true,
                     kMaxTextChars, violations);
}

}  // namespace smz::registry
