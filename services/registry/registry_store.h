// The registry's storage: partners, designation history, grants, API tokens
// and request keys in the registry's own MySQL database. Every method is one
// transaction; partner and grant writes go through the shared versioned-row
// path (common/aip/versioned_row.h): the row is locked, the etag checked,
// the caller's callback decides on the locked row (so a concurrent writer
// can never slip in between the check and the write), then revision + 1 and
// the audit entry.
//
//   RegistryStore store(&database, &clock);
//   absl::StatusOr<Partner> created = store.CreatePartner(partner, key);
//   absl::StatusOr<Partner> updated = store.UpdatePartner(
//       id, etag, "ADMIN#1", [&](Partner* current) -> absl::Status {
//         current->set_address("new address");
//         return absl::OkStatus();
//       });
#ifndef SMZ_SERVICES_REGISTRY_REGISTRY_STORE_H_
#define SMZ_SERVICES_REGISTRY_REGISTRY_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "common/aip/request_key.h"
#include "common/auth/authenticator.h"
#include "common/clock.h"
#include "common/mysql/database.h"
#include "common/mysql/freshness_fence.h"
#include "common/mysql/replica_reads.h"
#include "common/pagination.h"
#include "smz/registry/v1/registry.pb.h"

namespace smz::registry {

using v1::Grant;
using v1::Partner;

struct PartnerFilter {
  v1::PartnerKind kind = v1::PARTNER_KIND_UNSPECIFIED;
  v1::ZoneRegion region = v1::ZONE_REGION_UNSPECIFIED;
  v1::PartnerStatus status = v1::PARTNER_STATUS_UNSPECIFIED;
  std::string department;
  std::string language;
};

enum class PartnerOrder { kId, kName, kFloorArea, kUpdateTime };

struct PartnerListQuery {
  PartnerFilter filter;
  PartnerOrder order = PartnerOrder::kId;
  bool descending = false;
  PageCursor after;  // the keyset position: (sort key, id)
  int limit = kDefaultPageSize + 1;
};

// A partner in a list, with the value it was sorted by (for the next page's
// keyset position).
struct ListedPartner {
  Partner partner;  // without designation history
  std::string sort_key;
};

struct PartnerList {
  std::vector<ListedPartner> rows;
  int64_t total_size = 0;  // every partner matching the filter
};

// What a lifecycle action does to a partner, decided by the caller from the
// current (locked) partner.
struct DesignationChange {
  v1::PartnerStatus next_status;
  v1::DesignationEvent event;  // appended to the history
  bool update_term = false;    // set term_ends_on from the event
  bool revoke_tokens = false;  // a revoked partner can no longer report
};

struct ExpiringQuery {
  absl::CivilDay as_of;
  int within_days = 0;
  v1::ExpiryKind kind = v1::EXPIRY_KIND_UNSPECIFIED;
  bool include_overdue = false;
  int64_t offset = 0;  // rows already shown: a small listing, offset paging
  int limit = kDefaultPageSize + 1;
};

struct GrantQuery {
  int64_t partner_id = 0;
  int year = 0;
  v1::GrantProgramme programme = v1::GRANT_PROGRAMME_UNSPECIFIED;
  int64_t after_id = 0;
  int limit = kDefaultPageSize + 1;
};

struct GrantList {
  std::vector<Grant> grants;
  int64_t total_amount_krw = 0;  // of every grant matching the filter
};

struct TokenQuery {
  int64_t partner_id = 0;  // 0: every token
  bool include_revoked = false;
  int64_t after_id = 0;
  int limit = kDefaultPageSize + 1;
};

class RegistryStore : public PrincipalLookup {
 public:
  RegistryStore(Database* database, const Clock* clock);
  // Directory lists and counts read from `replica` while it keeps up;
  // null: the primary.
  void UseReplicaForLists(ReplicaReads* replica) { replica_ = replica; }
  // Whether counts come from a replica (then the directory's stamp cannot
  // vouch for them: a replica may be older).
  bool ReadsCountsFromReplica() const { return replica_ != nullptr; }

  // ALREADY_EXISTS when the registration number belongs to another partner.
  // Writes record the key's caller (a principal label) in the audit trail.
  absl::StatusOr<Partner> CreatePartner(const Partner& partner,
                                        const RequestKey& key);
  absl::StatusOr<Partner> GetPartner(int64_t id);
  // At most query.limit partners after query.after, in the query's order.
  absl::StatusOr<PartnerList> ListPartners(const PartnerListQuery& query);

  // GetPartner's and ListPartners' answers from memory, as of the
  // directory's `stamp` (from directory_fence()): nullopt when memory does
  // not hold them. Never wait for the database: for callback-API handlers.
  std::optional<Partner> CachedPartner(int64_t id, const std::string& stamp);
  std::optional<PartnerList> CachedPartners(const PartnerListQuery& query,
                                            const std::string& stamp);
  // ListPartners' whole answer, serialized, kept under the request's bytes
  // as they arrived: an answer asked again is sent as it was, with nothing
  // parsed, built or copied. Null when memory does not hold it at `stamp`.
  // Whether an answer may be shared by every caller is Registry's decision
  // (Registry::ListPartnersSerializedFromMemory).
  std::shared_ptr<const std::string> CachedListAnswer(absl::string_view request,
                                                      const std::string& stamp);
  // Keeps `answer`, the answer to `request` at `stamp`, while the cache is
  // still at `stamp` and its own budget for serialized answers has room
  // (many requests can ask for one page: they must not crowd out the
  // partners and lists); a request longer than a query needs is not kept.
  void KeepListAnswer(absl::string_view request,
                      std::shared_ptr<const std::string> answer,
                      const std::string& stamp);
  // The directory's stamp on the primary, asked for many reads at once.
  FreshnessFence& directory_fence() { return directory_fence_; }

  // Locks partner `id`, checks `etag` (ABORTED when stale), lets `mutate`
  // edit its profile fields (returning an error leaves the partner
  // untouched), and stores it as a new version. Writing the same values
  // again changes nothing: no new version, no audit entry, the same etag.
  absl::StatusOr<Partner> UpdatePartner(
      int64_t id, absl::string_view etag, absl::string_view actor,
      absl::FunctionRef<absl::Status(Partner*)> mutate);

  // Locks partner `id` (with its history), checks `etag` when given, and
  // applies what `decide` returns; audited as `action` ("DESIGNATE").
  absl::StatusOr<Partner> ChangeDesignation(
      int64_t id, absl::string_view etag, absl::string_view action,
      absl::string_view actor,
      absl::FunctionRef<absl::StatusOr<DesignationChange>(const Partner&)>
          decide);

  // The audit trail of one partner, oldest first, entries with id > after_id.
  // NOT_FOUND for an unknown partner.
  // `*cut`: the page ended early, its values having filled it (ReadAudit).
  absl::StatusOr<std::vector<v1::PartnerChange>> ListPartnerChanges(
      int64_t id, int64_t after_id, int limit, bool* cut);

  // Designation events grouped by year, kind and action. `year` 0 and an
  // unspecified `kind` mean all.
  absl::StatusOr<std::vector<v1::DesignationCount>> CountDesignations(
      int year, v1::PartnerKind kind);

  // Partners grouped by kind and region; an unspecified `status` means all.
  absl::StatusOr<std::vector<v1::PartnerCount>> CountPartners(
      v1::PartnerStatus status);

  absl::StatusOr<std::vector<v1::ExpiringItem>> ListExpiring(
      const ExpiringQuery& query);

  // NOT_FOUND for an unknown partner; FAILED_PRECONDITION for a revoked one.
  absl::StatusOr<Grant> CreateGrant(const Grant& grant, const RequestKey& key);
  absl::StatusOr<GrantList> ListGrants(const GrantQuery& query);

  // Stores a token by hash, with an audit entry of `action` by
  // info.created_by(). For PARTNER tokens the partner must exist and not be
  // revoked.
  absl::StatusOr<v1::TokenInfo> InsertToken(const v1::TokenInfo& info,
                                            absl::string_view token_hash,
                                            absl::string_view action);
  // Idempotent, audited; NOT_FOUND for an unknown id, FAILED_PRECONDITION
  // for an active ADMIN token unless another active ADMIN token without an
  // expiry remains.
  absl::StatusOr<v1::TokenInfo> RevokeToken(int64_t token_id,
                                            absl::string_view actor);
  absl::StatusOr<std::vector<v1::TokenInfo>> ListTokens(
      const TokenQuery& query);
  // Whether an unrevoked, unexpired ADMIN token exists.
  absl::StatusOr<bool> HasActiveAdminToken();
  // After a backup is restored (a pending row in restore_marks), in one
  // transaction: every active API token whose hash is not in `keep` is
  // revoked, every session ended and every unused account link voided, each
  // token audited as REVOKE_AFTER_RESTORE by `actor`, and the marks closed.
  // A backup brings back what was revoked, disabled or reset since it was
  // taken; this makes every credential from before the restore prove itself
  // again. Nothing when no mark is pending (every later start).
  struct RestoreReview {
    std::string backup_label;  // empty: no restore was pending
    int tokens_revoked = 0;
    int sessions_ended = 0;
    int links_voided = 0;
  };
  absl::StatusOr<RestoreReview> ReviewAfterRestore(
      const absl::flat_hash_set<std::string>& keep, absl::string_view actor);
  // Whether a restore mark awaits its review.
  absl::StatusOr<bool> RestoreUnreviewed();
  // The token stored under `token_hash`, revoked or not; nullopt if none.
  absl::StatusOr<std::optional<v1::TokenInfo>> FindTokenByHash(
      absl::string_view token_hash);

  // PrincipalLookup: active API tokens (recording their last use), and
  // people's sessions ("smzs_…", AccountStore::FindSession).
  absl::StatusOr<std::optional<Principal>> FindByToken(
      absl::string_view token, absl::string_view token_hash) override;

 private:
  // The directory as GetPartner and ListPartners answer it, from memory
  // while directory_version's stamp (changed by every partner write, in its
  // transaction) is what the primary has: exact, in every replica of the
  // registry, a change is in the next read (FreshnessFence).
  struct DirectoryCache {
    absl::Mutex mutex;
    std::string stamp ABSL_GUARDED_BY(mutex);
    absl::flat_hash_map<int64_t, std::shared_ptr<const Partner>> partners
        ABSL_GUARDED_BY(mutex);
    absl::flat_hash_map<std::string, std::shared_ptr<const PartnerList>> lists
        ABSL_GUARDED_BY(mutex);
    // Whole ListPartners answers, serialized, by the request's bytes.
    absl::flat_hash_map<std::string, std::shared_ptr<const std::string>>
        serialized_lists ABSL_GUARDED_BY(mutex);
    size_t bytes ABSL_GUARDED_BY(mutex) = 0;  // of partners and lists
    size_t serialized_bytes ABSL_GUARDED_BY(mutex) = 0;
  };
  // A list query's statements, and its key in the cache.
  struct PartnerListSql {
    std::string sql;
    std::vector<SqlValue> params;
    std::string count_sql;
    std::vector<SqlValue> count_params;
    std::string cache_key;
  };
  static PartnerListSql ListSqlFor(const PartnerListQuery& query);
  // CachedPartners by the list's cache key.
  std::optional<PartnerList> CachedList(const std::string& cache_key,
                                        const std::string& stamp);
  // The primary's stamp now; an error (the database down) means no cache.
  absl::StatusOr<std::string> DirectoryStamp();
  // Forgets everything when `stamp` is not the cache's.
  void AdoptStamp(const std::string& stamp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(directory_.mutex);

  Database* const database_;
  ReplicaReads* replica_ = nullptr;
  const Clock* const clock_;
  FreshnessFence directory_fence_;
  DirectoryCache directory_;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_REGISTRY_STORE_H_
