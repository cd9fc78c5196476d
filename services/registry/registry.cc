#include "services/registry/registry.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/aip/etag.h"
#include "common/aip/field_mask.h"
#include "common/aip/pager.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
#include "common/departments.h"
#include "common/iso_codes.h"
#include "common/logging.h"
#include "common/mysql/audit.h"
#include "common/pagination.h"
#include "google/protobuf/util/time_util.h"

namespace smz::registry {
namespace {

// "name desc" -> (kName, true). Unknown -> violation.
void ParseOrderBy(absl::string_view order_by, PartnerListQuery* query,
                  FieldViolations* violations) {
  std::vector<absl::string_view> words = absl::StrSplit(
      absl::StripAsciiWhitespace(order_by), ' ', absl::SkipEmpty());
  if (words.empty()) return;
  const absl::string_view field = words[0];
  if (field == "id") {
    query->order = PartnerOrder::kId;
  } else if (field == "name") {
    query->order = PartnerOrder::kName;
  } else if (field == "floor_area_m2") {
    query->order = PartnerOrder::kFloorArea;
  } else if (field == "update_time") {
    query->order = PartnerOrder::kUpdateTime;
  } else {
    violations->Add("order_by",
                    "must be id, name, floor_area_m2 or update_time, "
                    "optionally followed by \" desc\"");
    return;
  }
  if (words.size() == 2 && absl::EqualsIgnoreCase(words[1], "desc")) {
    query->descending = true;
  } else if (words.size() > 2 ||
             (words.size() == 2 && !absl::EqualsIgnoreCase(words[1], "asc"))) {
    violations->Add("order_by", "direction must be \"asc\" or \"desc\"");
  }
}

std::optional<absl::CivilDay> LatestDesignationStart(const Partner& partner) {
  std::optional<absl::CivilDay> latest;
  for (const v1::DesignationEvent& event : partner.designations()) {
    if (event.action() == v1::DESIGNATED ||
        event.action() == v1::REDESIGNATED) {
      latest = ParseDate(event.effective_on());
    }
  }
  return latest;
}

}  // namespace

Registry::Registry(RegistryStore* store, Authenticator* authenticator,
                   const Clock* clock, RandomSource* random)
    : store_(store),
      authenticator_(authenticator),
      clock_(clock),
      random_(random) {}

absl::StatusOr<Partner> Registry::CreatePartner(
    const Principal& caller, const v1::CreatePartnerRequest& request) {
  FieldViolations violations;
  ValidatePartner(request.partner(), "partner", &violations);
  ValidateRequestId(request.request_id(), &violations);
  if (!violations.empty()) return violations.ToStatus();
  // The digest covers the partner alone, as it did before request keys were
  // shared: keys stored then still match their retries.
  return store_->CreatePartner(
      request.partner(),
      RequestKey{PrincipalLabel(caller), "CreatePartner", request.request_id(),
                 RequestDigest(request.partner())});
}

namespace {

absl::Status CheckGetPartner(const Principal& caller,
                             const v1::GetPartnerRequest& request) {
  if (request.id() <= 0) return InvalidField("id", "must be a partner id");
  return AuthorizePartnerScope(caller, request.id());
}

}  // namespace

absl::StatusOr<Partner> Registry::GetPartner(
    const Principal& caller, const v1::GetPartnerRequest& request) {
  SMZ_RETURN_IF_ERROR(CheckGetPartner(caller, request));
  return store_->GetPartner(request.id());
}

std::optional<absl::StatusOr<Partner>> Registry::GetPartnerFromMemory(
    const Principal& caller, const v1::GetPartnerRequest& request,
    const std::string& stamp) {
  const absl::Status checked = CheckGetPartner(caller, request);
  if (!checked.ok()) return absl::StatusOr<Partner>(checked);
  std::optional<Partner> cached = store_->CachedPartner(request.id(), stamp);
  if (!cached.has_value()) return std::nullopt;
  return absl::StatusOr<Partner>(*std::move(cached));
}

absl::StatusOr<v1::ListPartnersResponse> Registry::ListPartners(
    const Principal& caller, const v1::ListPartnersRequest& request) {
  std::optional<Pager> pager;
  SMZ_ASSIGN_OR_RETURN(PartnerListQuery query, PlanList(request, &pager));
  SMZ_ASSIGN_OR_RETURN(PartnerList list, store_->ListPartners(query));
  return ListResponse(std::move(list), *pager);
}

std::optional<absl::StatusOr<v1::ListPartnersResponse>>
Registry::ListPartnersFromMemory(const Principal& caller,
                                 const v1::ListPartnersRequest& request,
                                 const std::string& stamp) {
  using Answer = absl::StatusOr<v1::ListPartnersResponse>;
  std::optional<Pager> pager;
  absl::StatusOr<PartnerListQuery> query = PlanList(request, &pager);
  if (!query.ok()) return Answer(query.status());
  std::optional<PartnerList> list = store_->CachedPartners(*query, stamp);
  if (!list.has_value()) return std::nullopt;
  return Answer(ListResponse(*std::move(list), *pager));
}

std::optional<absl::StatusOr<std::shared_ptr<const std::string>>>
Registry::ListPartnersSerializedFromMemory(const Principal& caller,
                                           absl::string_view request,
                                           const std::string& stamp) {
  using Answer = absl::StatusOr<std::shared_ptr<const std::string>>;
  // Shared by every caller: see the header.
  std::shared_ptr<const std::string> kept =
      store_->CachedListAnswer(request, stamp);
  if (kept != nullptr) return Answer(std::move(kept));
  absl::StatusOr<v1::ListPartnersRequest> parsed = ParseListRequest(request);
  if (!parsed.ok()) return Answer(parsed.status());
  std::optional<absl::StatusOr<v1::ListPartnersResponse>> answer =
      ListPartnersFromMemory(caller, *parsed, stamp);
  if (!answer.has_value()) return std::nullopt;
  if (!answer->ok()) return Answer(answer->status());
  auto page =
      std::make_shared<const std::string>(answer->value().SerializeAsString());
  // Kept only under the encoding this server would give the request: without
  // its unknown fields (which parsing keeps, and serializing writes back),
  // so a request carrying any is never kept.
  parsed->DiscardUnknownFields();
  if (parsed->SerializeAsString() == request) {
    store_->KeepListAnswer(request, page, stamp);
  }
  return Answer(std::move(page));
}

absl::StatusOr<std::string> Registry::ListPartnersSerialized(
    const Principal& caller, absl::string_view request) {
  SMZ_ASSIGN_OR_RETURN(v1::ListPartnersRequest parsed,
                       ParseListRequest(request));
  SMZ_ASSIGN_OR_RETURN(v1::ListPartnersResponse answer,
                       ListPartners(caller, parsed));
  return answer.SerializeAsString();
}

absl::StatusOr<v1::ListPartnersRequest> Registry::ParseListRequest(
    absl::string_view request) {
  v1::ListPartnersRequest parsed;
  if (!parsed.ParseFromArray(request.data(),
                             static_cast<int>(request.size()))) {
    return absl::InvalidArgumentError(
        "the request is not a ListPartnersRequest");
  }
  return parsed;
}

absl::StatusOr<PartnerListQuery> Registry::PlanList(
    const v1::ListPartnersRequest& request, std::optional<Pager>* pager_out) {
  FieldViolations violations;
  PartnerListQuery query;
  if (!v1::PartnerKind_IsValid(request.kind())) {
    violations.Add("kind", "is not a partner kind");
  }
  if (!v1::ZoneRegion_IsValid(request.region())) {
    violations.Add("region", "is not a zone region");
  }
  if (!v1::PartnerStatus_IsValid(request.status())) {
    violations.Add("status", "is not a partner status");
  }
  if (!request.department().empty() &&
      !IsDepartmentCode(request.department())) {
    violations.Add("department", "is not a department code");
  }
  if (!request.language().empty() && !IsLanguageCode(request.language())) {
    violations.Add("language", "is not an ISO 639-1 language code");
  }
  ParseOrderBy(request.order_by(), &query, &violations);
  Pager& pager = pager_out->emplace(PagerFor(request, &violations));
  if (!violations.empty()) return violations.ToStatus();
  query.after = pager.cursor();
  query.limit = pager.fetch_limit();
  query.filter.kind = request.kind();
  query.filter.region = request.region();
  query.filter.status = request.status();
  query.filter.department = request.department();
  query.filter.language = request.language();
  return query;
}

v1::ListPartnersResponse Registry::ListResponse(PartnerList list,
                                                Pager& pager) {
  v1::ListPartnersResponse response;
  response.set_next_page_token(pager.FinishWithKey(
      &list.rows, [](const ListedPartner& row) { return row.partner.id(); },
      [](const ListedPartner& row) { return row.sort_key; }));
  for (ListedPartner& row : list.rows) {
    *response.add_partners() = std::move(row.partner);
  }
  response.set_total_size(static_cast<int32_t>(list.total_size));
  return response;
}

absl::StatusOr<Partner> Registry::UpdatePartner(
    const Principal& caller, const v1::UpdatePartnerRequest& request) {
  // Whose record it is first: another partner learns nothing about what
  // else is wrong with the request.
  if (request.partner().id() > 0) {
    SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, request.partner().id()));
  }
  FieldViolations violations;
  if (request.partner().id() <= 0) {
    violations.Add("partner.id", "must be a partner id");
  }
  RequireEtag(request.etag(), "etag", &violations);
  const std::vector<std::string> paths =
      PartnerUpdatableFields().Resolve(request.update_mask(), &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, request.partner().id()));
  if (caller.role() == auth::v1::PARTNER) {
    std::vector<std::string> refused;
    const auto& allowed = PartnerSelfServicePaths();
    for (const std::string& path : paths) {
      if (std::find(allowed.begin(), allowed.end(), path) == allowed.end()) {
        refused.push_back(path);
      }
    }
    if (!refused.empty()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "a partner may update only ", absl::StrJoin(allowed, ", "),
          " of its own record; ask the district to change ",
          absl::StrJoin(refused, ", ")));
    }
  }
  return store_->UpdatePartner(request.partner().id(), request.etag(),
                               PrincipalLabel(caller),
                               [&](Partner* current) -> absl::Status {
                                 CopyPaths(request.partner(), paths, current);
                                 FieldViolations merged;
                                 ValidatePartner(*current, "partner", &merged);
                                 return merged.ToStatus();
                               });
}

absl::StatusOr<Partner> Registry::ChangeDesignation(
    const Principal& caller, const v1::DesignationRequest& request,
    LifecycleAction action) {
  FieldViolations violations;
  ValidateDesignationRequest(request, action, std::nullopt, &violations);
  if (!violations.empty()) return violations.ToStatus();
  absl::StatusOr<Partner> changed = store_->ChangeDesignation(
      request.id(), request.etag(),
      absl::AsciiStrToUpper(LifecycleActionName(action)),
      PrincipalLabel(caller),
      [&](const Partner& current) -> absl::StatusOr<DesignationChange> {
        SMZ_ASSIGN_OR_RETURN(v1::PartnerStatus next,
                             NextStatus(current.status(), action));
        FieldViolations ordering;
        ValidateDesignationRequest(request, action,
                                   LatestDesignationStart(current), &ordering);
        if (!ordering.empty()) return ordering.ToStatus();
        DesignationChange change;
        change.next_status = next;
        change.event.set_action(RecordedAction(action));
        change.event.set_effective_on(request.effective_on());
        change.event.set_term_ends_on(request.term_ends_on());
        change.event.set_reason(request.reason());
        change.event.set_decision_ref(request.decision_ref());
        change.event.set_recorded_by(PrincipalLabel(caller));
        change.update_term = action == LifecycleAction::kDesignate ||
                             action == LifecycleAction::kRedesignate;
        change.revoke_tokens = action == LifecycleAction::kRevoke;
        return change;
      });
  // The partner's tokens were revoked with it: stop honouring cached ones.
  if (changed.ok() && action == LifecycleAction::kRevoke &&
      authenticator_ != nullptr) {
    authenticator_->InvalidateCache();
  }
  return changed;
}

absl::StatusOr<v1::ListPartnerChangesResponse> Registry::ListPartnerChanges(
    const Principal& caller, const v1::ListPartnerChangesRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) {
    violations.Add("partner_id", "must be a partner id");
  }
  Pager pager = PagerFor(request, &violations, "", kAuditMaxChangesPerPage);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, request.partner_id()));
  bool cut = false;
  SMZ_ASSIGN_OR_RETURN(
      std::vector<v1::PartnerChange> changes,
      store_->ListPartnerChanges(request.partner_id(), pager.after_id(),
                                 pager.fetch_limit(), &cut));
  v1::ListPartnerChangesResponse response;
  response.set_next_page_token(
      cut ? pager.TokenAfter(changes.back().id())
          : pager.Finish(&changes,
                         [](const v1::PartnerChange& c) { return c.id(); }));
  for (v1::PartnerChange& change : changes) {
    *response.add_changes() = std::move(change);
  }
  return response;
}

absl::StatusOr<v1::CountDesignationsResponse> Registry::CountDesignations(
    const Principal& caller, const v1::CountDesignationsRequest& request) {
  FieldViolations violations;
  if (request.year() != 0 && (request.year() < 1990 || request.year() > 2200)) {
    violations.Add("year", "must be between 1990 and 2200, or 0 for all");
  }
  if (!v1::PartnerKind_IsValid(request.kind())) {
    violations.Add("kind", "is not a partner kind");
  }
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<v1::DesignationCount> counts,
      store_->CountDesignations(request.year(), request.kind()));
  v1::CountDesignationsResponse response;
  for (v1::DesignationCount& count : counts) {
    *response.add_counts() = std::move(count);
  }
  return response;
}

absl::StatusOr<v1::CountPartnersResponse> Registry::CountPartners(
    const Principal& caller, const v1::CountPartnersRequest& request) {
  if (!v1::PartnerStatus_IsValid(request.status())) {
    return InvalidField("status", "is not a partner status");
  }
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::PartnerCount> counts,
                       store_->CountPartners(request.status()));
  v1::CountPartnersResponse response;
  for (v1::PartnerCount& count : counts) {
    response.set_total(response.total() + count.count());
    *response.add_counts() = std::move(count);
  }
  return response;
}

absl::StatusOr<v1::ListExpiringResponse> Registry::ListExpiring(
    const Principal& caller, const v1::ListExpiringRequest& request) {
  FieldViolations violations;
  ExpiringQuery query;
  if (request.within_days() < 1 || request.within_days() > 3650) {
    violations.Add("within_days", "must be between 1 and 3650");
  }
  query.within_days = request.within_days();
  if (request.as_of().empty()) {
    query.as_of = TodayInSeoul(*clock_);
  } else if (std::optional<absl::CivilDay> day = ParseDate(request.as_of())) {
    query.as_of = *day;
  } else {
    violations.Add("as_of", "must be a date YYYY-MM-DD");
  }
  if (!v1::ExpiryKind_IsValid(request.kind())) {
    violations.Add("kind", "is not an expiry kind");
  }
  query.kind = request.kind();
  query.include_overdue = request.include_overdue();
  // An empty as_of means today: the token keeps the day it resolved to.
  Pager pager = PagerFor(request, &violations, FormatDate(query.as_of));
  if (!violations.empty()) return violations.ToStatus();
  // A small listing of a union of two kinds of date: offset paging, the
  // token's position counts the rows already shown.
  query.offset = pager.after_id();
  query.limit = pager.fetch_limit();
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::ExpiringItem> items,
                       store_->ListExpiring(query));
  v1::ListExpiringResponse response;
  response.set_next_page_token(
      pager.Finish(&items, [&](const v1::ExpiringItem&) {
        return query.offset + pager.page_size();
      }));
  for (v1::ExpiringItem& item : items) *response.add_items() = std::move(item);
  return response;
}

absl::StatusOr<Grant> Registry::CreateGrant(
    const Principal& caller, const v1::CreateGrantRequest& request) {
  FieldViolations violations;
  ValidateGrant(request.grant(), &violations);
  ValidateRequestId(request.request_id(), &violations);
  if (!violations.empty()) return violations.ToStatus();
  return store_->CreateGrant(
      request.grant(),
      RequestKey{PrincipalLabel(caller), "CreateGrant", request.request_id(),
                 RequestDigest(request.grant())});
}

absl::StatusOr<v1::ListGrantsResponse> Registry::ListGrants(
    const Principal& caller, const v1::ListGrantsRequest& request) {
  FieldViolations violations;
  GrantQuery query;
  query.partner_id = request.partner_id();
  if (caller.role() == auth::v1::PARTNER && query.partner_id == 0) {
    query.partner_id = caller.partner_id();  // a partner sees its own grants
  }
  if (query.partner_id < 0)
    violations.Add("partner_id", "must be a partner id");
  if (request.year() != 0 && (request.year() < 2000 || request.year() > 2100)) {
    violations.Add("year", "must be between 2000 and 2100");
  }
  if (!v1::GrantProgramme_IsValid(request.programme())) {
    violations.Add("programme", "is not a grant programme");
  }
  query.year = request.year();
  query.programme = request.programme();
  v1::ListGrantsRequest scoped = request;
  scoped.set_partner_id(query.partner_id);
  Pager pager = PagerFor(scoped, &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(AuthorizePartnerScope(caller, query.partner_id));
  query.after_id = pager.after_id();
  query.limit = pager.fetch_limit();
  SMZ_ASSIGN_OR_RETURN(GrantList list, store_->ListGrants(query));
  v1::ListGrantsResponse response;
  response.set_next_page_token(
      pager.Finish(&list.grants, [](const Grant& g) { return g.id(); }));
  for (Grant& grant : list.grants) *response.add_grants() = std::move(grant);
  response.set_total_amount_krw(list.total_amount_krw);
  return response;
}

absl::StatusOr<v1::IssueTokenResponse> Registry::IssueToken(
    const Principal& caller, const v1::IssueTokenRequest& request) {
  FieldViolations violations;
  if (request.role() == auth::v1::ROLE_UNSPECIFIED ||
      !auth::v1::Role_IsValid(request.role())) {
    violations.Add(
        "role", "is required: ADMIN, ORGANIZER, PARTNER, ANALYST or COUNCIL");
  } else if (request.role() == auth::v1::PARTNER && request.partner_id() <= 0) {
    violations.Add("partner_id", "is required for a PARTNER token");
  } else if (request.role() != auth::v1::PARTNER && request.partner_id() != 0) {
    violations.Add("partner_id", "applies only to PARTNER tokens");
  }
  if (request.display_name().empty() || request.display_name().size() > 200) {
    violations.Add("display_name",
                   "is required (at most 200 bytes): who will use the token");
  }
  if (request.has_expire_time()) {
    using google::protobuf::util::TimeUtil;
    const google::protobuf::Timestamp& t = request.expire_time();
    const bool valid = t.seconds() >= TimeUtil::kTimestampMinSeconds &&
                       t.seconds() <= TimeUtil::kTimestampMaxSeconds &&
                       t.nanos() >= 0 && t.nanos() < 1000000000;
    if (!valid ||
        absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()) <=
            clock_->Now()) {
      violations.Add("expire_time", "must be in the future");
    }
  }
  if (!violations.empty()) return violations.ToStatus();
  const std::string token = GenerateToken(*random_);
  v1::TokenInfo info;
  info.set_role(request.role());
  info.set_partner_id(request.partner_id());
  info.set_display_name(request.display_name());
  info.set_created_by(PrincipalLabel(caller));
  if (request.has_expire_time()) {
    *info.mutable_expire_time() = request.expire_time();
  }
  SMZ_ASSIGN_OR_RETURN(v1::TokenInfo stored,
                       store_->InsertToken(info, HashToken(token), "ISSUE"));
  v1::IssueTokenResponse response;
  response.set_token(token);
  *response.mutable_info() = std::move(stored);
  return response;
}

absl::Status Registry::RevokeToken(const Principal& caller,
                                   const v1::RevokeTokenRequest& request) {
  if (request.token_id() <= 0) {
    return InvalidField("token_id", "must be a token id");
  }
  SMZ_ASSIGN_OR_RETURN(
      v1::TokenInfo revoked,
      store_->RevokeToken(request.token_id(), PrincipalLabel(caller)));
  if (authenticator_ != nullptr) authenticator_->InvalidateCache();
  return absl::OkStatus();
}

absl::StatusOr<v1::ListTokensResponse> Registry::ListTokens(
    const Principal& caller, const v1::ListTokensRequest& request) {
  FieldViolations violations;
  if (request.partner_id() < 0) violations.Add("partner_id", "must be >= 0");
  Pager pager = PagerFor(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  TokenQuery query;
  query.partner_id = request.partner_id();
  query.include_revoked = request.include_revoked();
  query.after_id = pager.after_id();
  query.limit = pager.fetch_limit();
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::TokenInfo> tokens,
                       store_->ListTokens(query));
  v1::ListTokensResponse response;
  response.set_next_page_token(
      pager.Finish(&tokens, [](const v1::TokenInfo& t) { return t.id(); }));
  for (v1::TokenInfo& token : tokens) *response.add_tokens() = std::move(token);
  return response;
}

absl::StatusOr<bool> Registry::EnsureBootstrapAdminToken(
    absl::FunctionRef<absl::Status(const std::string& token)> deliver) {
  SMZ_ASSIGN_OR_RETURN(bool has_admin, store_->HasActiveAdminToken());
  if (has_admin) return false;
  const std::string token = GenerateToken(*random_);
  SMZ_RETURN_IF_ERROR(deliver(token));
  v1::TokenInfo info;
  info.set_role(auth::v1::ADMIN);
  info.set_display_name("bootstrap administrator");
  info.set_created_by("bootstrap");
  absl::StatusOr<v1::TokenInfo> stored =
      store_->InsertToken(info, HashToken(token), "BOOTSTRAP");
  if (!stored.ok()) return stored.status();
  return true;
}

absl::StatusOr<int> Registry::EnsureProvisionedTokens(
    absl::Span<const ProvisionedToken> tokens) {
  // Every one is looked at before any is stored: a start refused for one
  // leaves the others as they were.
  std::vector<const ProvisionedToken*> missing;
  for (const ProvisionedToken& provisioned : tokens) {
    // Checked again here, not only where the file is read: a hash of the
    // wrong shape would never match, and the start would look fine.
    if (!IsTokenHash(provisioned.hash)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "provisioned token \"", provisioned.name, "\" has no valid hash"));
    }
    SMZ_ASSIGN_OR_RETURN(std::optional<v1::TokenInfo> existing,
                         store_->FindTokenByHash(provisioned.hash));
    if (!existing.has_value()) {
      missing.push_back(&provisioned);
    } else if (existing->has_revoke_time()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the provisioned token \"", provisioned.name,
                       "\" (token ", existing->id(),
                       ") was revoked: replace its secret (deploy/secrets/"
                       "make_secrets.sh) and start again"));
    } else if (existing->role() != provisioned.role) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the provisioned token \"", provisioned.name, "\" is stored as ",
          auth::v1::Role_Name(existing->role()), ", not ",
          auth::v1::Role_Name(provisioned.role),
          ": were two secret files swapped?"));
    }
  }
  int stored = 0;
  for (const ProvisionedToken* provisioned : missing) {
    v1::TokenInfo info;
    info.set_role(provisioned->role);
    info.set_display_name(absl::StrCat(provisioned->name, " (provisioned)"));
    info.set_created_by("provisioning");
    absl::StatusOr<v1::TokenInfo> inserted =
        store_->InsertToken(info, provisioned->hash, "PROVISION");
    // Another replica stored it between the lookup and the insert.
    if (inserted.status().code() == absl::StatusCode::kAlreadyExists) continue;
    if (!inserted.ok()) return inserted.status();
    Log(LogLevel::kInfo, "provisioned token registered",
        {{"token", provisioned->name},
         {"token_id", absl::StrCat(inserted->id())},
         {"role", auth::v1::Role_Name(provisioned->role)}});
    ++stored;
  }
  if (stored > 0 && authenticator_ != nullptr) {
    authenticator_->InvalidateCache();
  }
  return stored;
}

absl::StatusOr<RegistryStore::RestoreReview> Registry::ReviewAfterRestore(
    absl::Span<const ProvisionedToken> keep) {
  absl::flat_hash_set<std::string> hashes;
  for (const ProvisionedToken& token : keep) hashes.insert(token.hash);
  SMZ_ASSIGN_OR_RETURN(RegistryStore::RestoreReview review,
                       store_->ReviewAfterRestore(hashes, "restore review"));
  if (review.backup_label.empty()) return review;
  if (authenticator_ != nullptr) authenticator_->InvalidateCache();
  Log(LogLevel::kWarning,
      "restored from a backup: credentials from before it must prove "
      "themselves again (issue new API tokens; people sign in again; "
      "password changes and disabled accounts since the backup are undone: "
      "check the accounts)",
      {{"backup", review.backup_label},
       {"tokens_revoked", absl::StrCat(review.tokens_revoked)},
       {"tokens_kept", absl::StrCat(keep.size())},
       {"sessions_ended", absl::StrCat(review.sessions_ended)},
       {"links_voided", absl::StrCat(review.links_voided)}});
  return review;
}

absl::StatusOr<v1::TokenInfo> Registry::IssueBreakGlassAdminToken(
    absl::string_view actor,
    absl::FunctionRef<absl::Status(const std::string& token)> deliver) {
  const std::string token = GenerateToken(*random_);
  SMZ_RETURN_IF_ERROR(deliver(token));
  v1::TokenInfo info;
  info.set_role(auth::v1::ADMIN);
  info.set_display_name("break-glass administrator");
  info.set_created_by(std::string(actor));
  return store_->InsertToken(info, HashToken(token), "BREAK_GLASS");
}

}  // namespace smz::registry
