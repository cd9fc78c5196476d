#include "services/registry/registry_store.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/aip/etag.h"
#include "common/aip/idempotency.h"
#include "common/aip/status_macros.h"
#include "common/aip/versioned_row.h"
#include "common/logging.h"
#include "common/mysql/audit.h"
#include "common/mysql/write_stamps.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/registry/account_store.h"
#include "services/registry/partner_rules.h"

namespace smz::registry {
namespace {

using ::google::protobuf::util::TimeUtil;

// The columns PartnerFromRow reads, in order.
constexpr char kPartnerColumns[] =
    "p.id, p.status, p.profile, p.version, p.create_time_us, "
    "p.update_time_us, p.term_ends_on, p.name_ko, p.floor_area_m2";

// The editable profile, stored as serialized protobuf: parsing it costs a few
// microseconds, where protobuf's JSON parser took most of a List call's time
// and serializes concurrent readers on its type caches.
std::string ProfileBytes(const Partner& partner) {
  Partner profile = partner;
  profile.clear_id();
  profile.clear_status();
  profile.clear_designations();
  profile.clear_designation_term_ends_on();
  profile.clear_create_time();
  profile.clear_update_time();
  profile.clear_etag();
  return profile.SerializeAsString();
}

absl::StatusOr<Partner> PartnerFromRow(const Row& row) {
  Partner partner;
  if (!partner.ParseFromString(row.Text(2))) {
    return absl::DataLossError(
        absl::StrCat("partner ", row.Int(0), " has an unreadable profile"));
  }
  partner.set_id(row.Int(0));
  v1::PartnerStatus status = v1::PARTNER_STATUS_UNSPECIFIED;
  v1::PartnerStatus_Parse(row.Text(1), &status);
  partner.set_status(status);
  partner.set_etag(EtagOf(row.Int(3)));
  *partner.mutable_create_time() =
      TimeUtil::MicrosecondsToTimestamp(row.Int(4));
  *partner.mutable_update_time() =
      TimeUtil::MicrosecondsToTimestamp(row.Int(5));
  partner.set_designation_term_ends_on(row.Text(6));
  return partner;
}

void AddHistoryEvent(const Row& row, size_t first, Partner* partner) {
  v1::DesignationEvent* event = partner->add_designations();
  v1::DesignationAction action = v1::DESIGNATION_ACTION_UNSPECIFIED;
  v1::DesignationAction_Parse(row.Text(first), &action);
  event->set_action(action);
  event->set_effective_on(row.Text(first + 1));
  event->set_term_ends_on(row.Text(first + 2));
  event->set_reason(row.Text(first + 3));
  event->set_decision_ref(row.Text(first + 4));
  event->set_recorded_by(row.Text(first + 5));
  *event->mutable_record_time() =
      TimeUtil::MicrosecondsToTimestamp(row.Int(first + 6));
}

// Reads one partner with its history in one statement (one snapshot, so the
// status, etag and history always agree); NOT_FOUND when absent. With
// `for_update` it must be the first read of its transaction: the row lock is
// taken before the snapshot that the plain read then uses.
absl::StatusOr<Partner> ReadPartner(Session& session, int64_t id,
                                    bool for_update) {
  if (for_update) {
    auto locked = session.Query(
        "SELECT id FROM partners WHERE id = ? FOR UPDATE", {SqlInt(id)});
    if (!locked.ok()) return locked.status();
    if (locked->empty()) {
      return absl::NotFoundError(
          absl::StrCat("partner ", id, " does not exist"));
    }
  }
  constexpr size_t kFirstEventColumn = 9;  // after kPartnerColumns
  constexpr size_t kEventIdColumn = kFirstEventColumn + 7;
  // No ORDER BY: with the TEXT column in the row, MariaDB would sort in an
  // on-disk temporary table (5x slower); the few events are sorted below.
  const std::string sql = absl::StrCat(
      "SELECT ", kPartnerColumns,
      ", e.action, e.effective_on, e.term_ends_on, e.reason, e.decision_ref, "
      "e.recorded_by, e.record_time_us, e.id FROM partners p "
      "LEFT JOIN designation_events e ON e.partner_id = p.id "
      "WHERE p.id = ?");
  SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("partner ", id, " does not exist"));
  }
  absl::StatusOr<Partner> partner = PartnerFromRow(rows.front());
  if (!partner.ok()) return partner.status();
  std::vector<const Row*> events;
  for (const Row& row : rows) {
    if (!row.IsNull(kFirstEventColumn)) events.push_back(&row);
  }
  std::sort(events.begin(), events.end(), [&](const Row* a, const Row* b) {
    return a->Int(kEventIdColumn) < b->Int(kEventIdColumn);
  });
  for (const Row* row : events) {
    AddHistoryEvent(*row, kFirstEventColumn, &*partner);
  }
  return partner;
}

// Writes the lookup rows that let List filter by department and language:
// replaces a partner's, or inserts a new one's (`is_new`). A new partner's
// are not deleted first — nothing is there, and a DELETE for an id past the
// end of the index takes a gap lock that concurrent creators then all
// insert into, deadlocking one another (as new events skip theirs).
absl::Status WriteProfileIndexes(Session& session, const Partner& partner,
                                 bool is_new) {
  const SqlValue id = SqlInt(partner.id());
  if (!is_new) {
    for (const char* sql :
         {"DELETE FROM partner_departments WHERE partner_id = ?",
          "DELETE FROM partner_languages WHERE partner_id = ?"}) {
      if (auto s = session.Execute(sql, {id}); !s.ok()) return s.status();
    }
  }
  for (const std::string& code : partner.departments()) {
    auto s = session.Execute(
        "INSERT INTO partner_departments (partner_id, code) VALUES (?, ?)",
        {id, code});
    if (!s.ok()) return s.status();
  }
  for (const std::string& code : partner.languages()) {
    auto s = session.Execute(
        "INSERT INTO partner_languages (partner_id, code) VALUES (?, ?)",
        {id, code});
    if (!s.ok()) return s.status();
  }
  return absl::OkStatus();
}

// `locking`: after a duplicate-key error, a locking read sees the row a
// concurrent transaction committed (a plain read would use our snapshot).
// Before writing, a plain read avoids gap locks that deadlock concurrent
// creates; the unique key is the real guard.
absl::Status CheckRegistrationNumberFree(Session& session,
                                         const Partner& partner,
                                         bool locking = false) {
  if (partner.attraction_registration_number().empty()) {
    return absl::OkStatus();
  }
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          locking ? "SELECT id FROM partners WHERE registration_number = ? AND "
                    "id <> ? LOCK IN SHARE MODE"
                  : "SELECT id FROM partners WHERE registration_number = ? AND "
                    "id <> ?",
          {partner.attraction_registration_number(), SqlInt(partner.id())}));
  if (rows.empty()) return absl::OkStatus();
  return absl::AlreadyExistsError(
      absl::StrCat("attraction registration number ",
                   partner.attraction_registration_number(),
                   " is already registered to partner ", rows.front().Int(0)));
}

// A partner write that failed on the unique registration number (a
// concurrent writer won) becomes ALREADY_EXISTS naming the owner.
absl::Status ExplainWriteFailure(Session& session, const Partner& partner,
                                 const absl::Status& failure) {
  if (!absl::IsAlreadyExists(failure)) return failure;
  absl::Status owner =
      CheckRegistrationNumberFree(session, partner, /*locking=*/true);
  if (!owner.ok()) return owner;
  return absl::AlreadyExistsError(
      absl::StrCat("attraction registration number ",
                   partner.attraction_registration_number(),
                   " is already registered to another partner"));
}

// A partner as the audit trail keeps it: history omitted (it has its own
// table).
std::string PartnerSnapshot(const Partner& partner) {
  Partner snapshot = partner;
  snapshot.clear_designations();
  return snapshot.SerializeAsString();
}

// Partner columns derived from the profile, in UPDATE/INSERT order.
std::vector<SqlValue> ProfileColumns(const Partner& partner) {
  return {
      v1::PartnerKind_Name(partner.kind()),
      v1::ZoneRegion_Name(partner.region()),
      partner.name().at("ko"),
      partner.floor_area_m2(),
      SqlNullIfEmpty(partner.attraction_registration_number()),
      SqlNullIfEmpty(partner.registration_expires_on()),
      ProfileBytes(partner),
  };
}

absl::Status StatusOfPartnerForChild(Session& session, int64_t partner_id,
                                     absl::string_view what) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          "SELECT status FROM partners WHERE id = ? LOCK IN SHARE MODE",
          {SqlInt(partner_id)}));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("partner ", partner_id, " does not exist"));
  }
  if (rows.front().Text(0) == "REVOKED") {
    return absl::FailedPreconditionError(absl::StrCat(
        "partner ", partner_id, " is REVOKED and cannot receive ", what));
  }
  return absl::OkStatus();
}

v1::TokenInfo TokenFromRow(const Row& row) {
  v1::TokenInfo info;
  info.set_id(row.Int(0));
  auth::v1::Role role = auth::v1::ROLE_UNSPECIFIED;
  auth::v1::Role_Parse(row.Text(1), &role);
  info.set_role(role);
  info.set_partner_id(row.Int(2));
  info.set_display_name(row.Text(3));
  info.set_created_by(row.Text(4));
  *info.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.Int(5));
  if (!row.IsNull(6)) {
    *info.mutable_revoke_time() = TimeUtil::MicrosecondsToTimestamp(row.Int(6));
  }
  if (!row.IsNull(7)) {
    *info.mutable_expire_time() = TimeUtil::MicrosecondsToTimestamp(row.Int(7));
  }
  if (!row.IsNull(8)) {
    *info.mutable_last_use_time() =
        TimeUtil::MicrosecondsToTimestamp(row.Int(8));
  }
  return info;
}

constexpr char kTokenColumns[] =
    "id, role, partner_id, display_name, created_by, create_time_us, "
    "revoke_time_us, expire_time_us, last_use_time_us";

// A token counts as active until revoked or expired.
constexpr char kActiveToken[] =
    "revoke_time_us IS NULL AND (expire_time_us IS NULL OR expire_time_us > ?)";

// Last use is written at most this often per token: it costs a write on the
// lookup path, which runs once per credential cache period anyway.
constexpr absl::Duration kLastUseResolution = absl::Minutes(1);

absl::Status AuditToken(Session& session, const v1::TokenInfo& before,
                        const v1::TokenInfo& after, absl::string_view action,
                        absl::string_view actor, absl::Time now) {
  AuditEntry entry;
  entry.entity = "token";
  entry.entity_id = after.id();
  entry.action = std::string(action);
  entry.actor = std::string(actor);
  entry.time = now;
  entry.before = before.id() == 0 ? "" : before.SerializeAsString();
  entry.after = after.SerializeAsString();
  return AppendAudit(session, entry);
}

constexpr char kGrantColumns[] =
    "id, partner_id, year, programme, amount_krw, purpose, create_time_us";

Grant GrantFromRow(const Row& row) {
  Grant grant;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(row.Text(5), &grant,
                                                    options);
  grant.set_id(row.Int(0));
  grant.set_partner_id(row.Int(1));
  grant.set_year(static_cast<int32_t>(row.Int(2)));
  v1::GrantProgramme programme = v1::GRANT_PROGRAMME_UNSPECIFIED;
  v1::GrantProgramme_Parse(row.Text(3), &programme);
  grant.set_programme(programme);
  grant.set_amount_krw(row.Int(4));
  *grant.mutable_create_time() = TimeUtil::MicrosecondsToTimestamp(row.Int(6));
  return grant;
}

absl::StatusOr<Grant> ReadGrant(Session& session, int64_t id) {
  SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       session.Query(absl::StrCat("SELECT ", kGrantColumns,
                                                  " FROM grants WHERE id = ?"),
                                     {SqlInt(id)}));
  if (rows.empty()) return absl::NotFoundError("grant does not exist");
  return GrantFromRow(rows.front());
}

// A key stored before keys carried their caller (registry migration 5 keeps
// those it could not attribute under "*"): it still answers a retry from
// any caller, as it did then. Read on its own, before the write's
// transaction, without locks: only that migration ever wrote such rows (all
// answered), and a locking read of a missing key locks the gap around it —
// with no "*" rows, as on every install since, the gap before the table's
// first key, where concurrent creates then insert their own keys and
// deadlock one another.
absl::StatusOr<std::optional<FirstAnswer>> LookUpLegacyKey(
    Database& database, const RequestKey& key) {
  if (key.request_id.empty()) return std::nullopt;
  RequestKey legacy = key;
  legacy.caller = "*";
  absl::StatusOr<std::optional<FirstAnswer>> first =
      database.RunFor<std::optional<FirstAnswer>>(
          [&](Session& session) { return LookUpRequest(session, legacy); });
  // "Claimed but not answered" would be retried forever: no "*" row can be
  // (the migration copied answered keys only) unless edited by hand.
  if (!first.ok() && IsRetryableAbort(first.status())) {
    return absl::InternalError(
        absl::StrCat("request key '", key.request_id,
                     "' kept from before migration 5 has no answer"));
  }
  return first;
}

// Every write of what GetPartner and ListPartners answer changes the
// directory's stamp in its own transaction: the registries' caches of the
// directory (RegistryStore::DirectoryCache) see it at their next read. A
// change made to the partners tables by hand must do the same.
absl::Status ChangeDirectoryStamp(Session& session) {
  // Registries answering from memory under a lease on the stamp: the write
  // waits them out once committed (write_stamps.h).
  session.MarkStampMoved();
  return session
      .Execute("UPDATE directory_version SET stamp = UUID() WHERE id = 1", {})
      .status();
}

// Partners and grants on the shared versioned-row path.
const VersionedTable<Partner>& Partners() {
  static const auto* const kTable = new VersionedTable<Partner>{
      "partner",
      ReadPartner,
      [](const Partner& p) { return p.etag(); },
      [](Session& session, const Partner& partner,
         absl::Time now) -> absl::StatusOr<int64_t> {
        const int64_t now_us = absl::ToUnixMicros(now);
        std::vector<SqlValue> params = ProfileColumns(partner);
        params.insert(params.begin() + 1, SqlText("PENDING"));
        params.push_back(SqlInt(now_us));
        params.push_back(SqlInt(now_us));
        absl::StatusOr<int64_t> inserted = session.Execute(
            "INSERT INTO partners (kind, status, region, name_ko, "
            "floor_area_m2, registration_number, registration_expires_on, "
            "profile, version, create_time_us, update_time_us) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            params);
        if (!inserted.ok()) {
          return ExplainWriteFailure(session, partner, inserted.status());
        }
        SMZ_ASSIGN_OR_RETURN(const int64_t id, session.LastInsertId());
        Partner stored = partner;
        stored.set_id(id);
        SMZ_RETURN_IF_ERROR(
            WriteProfileIndexes(session, stored, /*is_new=*/true));
        SMZ_RETURN_IF_ERROR(ChangeDirectoryStamp(session));
        return id;
      },
      [](Session& session, const Partner& before, const Partner& after,
         absl::Time now) -> absl::Status {
        SMZ_RETURN_IF_ERROR(CheckRegistrationNumberFree(session, after));
        std::vector<SqlValue> params = ProfileColumns(after);
        params.push_back(v1::PartnerStatus_Name(after.status()));
        params.push_back(SqlNullIfEmpty(after.designation_term_ends_on()));
        params.push_back(SqlInt(absl::ToUnixMicros(now)));
        params.push_back(SqlInt(after.id()));
        absl::StatusOr<int64_t> changed = session.Execute(
            "UPDATE partners SET kind = ?, region = ?, name_ko = ?, "
            "floor_area_m2 = ?, registration_number = ?, "
            "registration_expires_on = ?, profile = ?, status = ?, "
            "term_ends_on = ?, version = version + 1, update_time_us = ? "
            "WHERE id = ?",
            params);
        if (!changed.ok()) {
          return ExplainWriteFailure(session, after, changed.status());
        }
        const bool lookups_changed =
            !std::equal(before.departments().begin(),
                        before.departments().end(), after.departments().begin(),
                        after.departments().end()) ||
            !std::equal(before.languages().begin(), before.languages().end(),
                        after.languages().begin(), after.languages().end());
        if (lookups_changed) {
          SMZ_RETURN_IF_ERROR(
              WriteProfileIndexes(session, after, /*is_new=*/false));
        }
        // Last: the stamp's row is locked until the commit, and every
        // partner write queues for it.
        return ChangeDirectoryStamp(session);
      },
      PartnerSnapshot,
      ChangedPartnerFields};
  return *kTable;
}

const VersionedTable<Grant>& Grants() {
  static const auto* const kTable = new VersionedTable<Grant>{
      "grant",
      [](Session& session, int64_t id, bool) { return ReadGrant(session, id); },
      [](const Grant&) { return std::string(); },  // grants are not edited
      [](Session& session, const Grant& grant,
         absl::Time now) -> absl::StatusOr<int64_t> {
        Grant purpose_only;
        *purpose_only.mutable_purpose() = grant.purpose();
        std::string purpose_json;
        (void)google::protobuf::util::MessageToJsonString(purpose_only,
                                                          &purpose_json);
        SMZ_RETURN_IF_ERROR(
            session
                .Execute("INSERT INTO grants (partner_id, year, programme, "
                         "amount_krw, purpose, create_time_us) VALUES "
                         "(?, ?, ?, ?, ?, ?)",
                         {SqlInt(grant.partner_id()), SqlInt(grant.year()),
                          v1::GrantProgramme_Name(grant.programme()),
                          SqlInt(grant.amount_krw()), purpose_json,
                          SqlInt(absl::ToUnixMicros(now))})
                .status());
        return session.LastInsertId();
      },
      nullptr};
  return *kTable;
}

// What the directory cache holds at most (a district's directory is a few
// hundred partners; the national one would not fit, and then reads go to
// the database as before): partners by id, the rows of list pages, and
// ListPartners' serialized answers.
// Bytes of all three together
// (protobuf sizes and keys, plus a little per entry); a list whose key is
// longer than a query's page needs (a forged page token) is not kept.
constexpr size_t kDirectoryCacheBytes = 32 << 20;
// ListPartners' serialized answers have a budget of their own: one page can
// be asked for in many canonical ways (page sizes beyond the largest, order
// clauses spelled differently), each kept apart, so a caller could otherwise
// fill the whole cache with copies of one page.
constexpr size_t kSerializedListBytes = 8 << 20;
constexpr size_t kDirectoryCacheEntryBytes = 64;
constexpr size_t kDirectoryCacheMaxKey = 1024;

size_t CachedBytes(const PartnerList& list, const std::string& key) {
  size_t bytes = kDirectoryCacheEntryBytes + key.size();
  for (const ListedPartner& row : list.rows) {
    bytes += row.partner.ByteSizeLong() + row.sort_key.size() +
             kDirectoryCacheEntryBytes;
  }
  return bytes;
}

// The entry under `key`, shared (the caller copies it outside the lock);
// null when there is none.
template <typename Map, typename Key>
typename Map::mapped_type FindShared(const Map& map, const Key& key) {
  auto found = map.find(key);
  return found == map.end() ? nullptr : found->second;
}

// Keeps `value` under `key` when the cache's byte budget has room for
// `bytes` more, counting them in `*total`.
template <typename Map, typename Key, typename Value>
void KeepSharedWithinBudget(Map& map, const Key& key,
                            std::shared_ptr<const Value> value, size_t bytes,
                            size_t* total,
                            size_t budget = kDirectoryCacheBytes) {
  if (*total + bytes > budget) return;
  if (map.try_emplace(key, std::move(value)).second) *total += bytes;
}

// KeepSharedWithinBudget for a copy of `value`.
template <typename Map, typename Key, typename Value>
void KeepWithinBudget(Map& map, const Key& key, const Value& value,
                      size_t bytes, size_t* total) {
  if (*total + bytes > kDirectoryCacheBytes) return;
  KeepSharedWithinBudget(map, key, std::make_shared<const Value>(value), bytes,
                         total);
}

// A query parameter in a cache key, self-delimiting (a text holding the
// separator cannot pass for two values).
std::string SqlValueKey(const SqlValue& value) {
  switch (value.index()) {
    case 0:
      return "n";
    case 1:
      return absl::StrCat("i", std::get<int64_t>(value));
    case 2:
      return absl::StrFormat("d%a", std::get<double>(value));
    default: {
      const std::string& text = std::get<std::string>(value);
      return absl::StrCat("s", text.size(), ":", text);
    }
  }
}

}  // namespace

RegistryStore::RegistryStore(Database* database, const Clock* clock)
    : database_(database),
      clock_(clock),
      // With the server's id: a failed-over primary whose stamp went back
      // to an earlier value (a write lost with the old one) is another
      // stamp still.
      directory_fence_(database,
                       "SELECT CONCAT(stamp, '@', @@server_id) FROM "
                       "directory_version WHERE id = 1",
                       kStampLease) {
  database_->WaitOutStampLeases(kStampLease);
}

absl::StatusOr<std::string> RegistryStore::DirectoryStamp() {
  return directory_fence_.Current();
}

void RegistryStore::AdoptStamp(const std::string& stamp) {
  if (directory_.stamp == stamp) return;
  directory_.partners.clear();
  directory_.lists.clear();
  directory_.serialized_lists.clear();
  directory_.bytes = 0;
  directory_.serialized_bytes = 0;
  directory_.stamp = stamp;
}

absl::StatusOr<Partner> RegistryStore::CreatePartner(const Partner& partner,
                                                     const RequestKey& key) {
  SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> legacy,
                       LookUpLegacyKey(*database_, key));
  if (legacy.has_value()) {
    return database_->RunFor<Partner>([&](Session& session) {
      return ReadPartner(session, legacy->result_id, false);
    });
  }
  const WriteContext write{key.caller, clock_->Now()};
  return database_->TransactFor<Partner>(
      [&](Session& session) -> absl::StatusOr<Partner> {
        return CreateVersioned<Partner>(
            session, Partners(), key, write, partner, [&](Session& session) {
              return CheckRegistrationNumberFree(session, partner);
            });
      });
}

absl::StatusOr<Partner> RegistryStore::GetPartner(int64_t id) {
  const absl::StatusOr<std::string> stamp = DirectoryStamp();
  if (stamp.ok()) {
    std::optional<Partner> cached = CachedPartner(id, *stamp);
    if (cached.has_value()) return *std::move(cached);
  }
  // Read after the stamp: as new as it, or newer (never older), so it may
  // be kept under it.
  SMZ_ASSIGN_OR_RETURN(Partner partner,
                       database_->RunFor<Partner>([&](Session& session) {
                         return ReadPartner(session, id, false);
                       }));
  if (stamp.ok()) {
    absl::MutexLock lock(&directory_.mutex);
    if (directory_.stamp == *stamp) {
      KeepWithinBudget(directory_.partners, id, partner,
                       partner.ByteSizeLong() + kDirectoryCacheEntryBytes,
                       &directory_.bytes);
    }
  }
  return partner;
}

// Long by design: one SQL statement from the filters, the order and the keyset
// position, then its page and count.
RegistryStore::PartnerListSql RegistryStore::ListSqlFor(
    const PartnerListQuery& query) {
  std::string where = " WHERE 1 = 1";
  std::vector<SqlValue> params;
  const PartnerFilter& filter = query.filter;
  if (filter.kind != v1::PARTNER_KIND_UNSPECIFIED) {
    where += " AND p.kind = ?";
    params.push_back(v1::PartnerKind_Name(filter.kind));
  }
  if (filter.region != v1::ZONE_REGION_UNSPECIFIED) {
    where += " AND p.region = ?";
    params.push_back(v1::ZoneRegion_Name(filter.region));
  }
  if (filter.status != v1::PARTNER_STATUS_UNSPECIFIED) {
    where += " AND p.status = ?";
    params.push_back(v1::PartnerStatus_Name(filter.status));
  }
  if (!filter.department.empty()) {
    where +=
        " AND EXISTS (SELECT 1 FROM partner_departments d"
        " WHERE d.partner_id = p.id AND d.code = ?)";
    params.push_back(filter.department);
  }
  if (!filter.language.empty()) {
    where +=
        " AND EXISTS (SELECT 1 FROM partner_languages l"
        " WHERE l.partner_id = p.id AND l.code = ?)";
    params.push_back(filter.language);
  }
  const std::string count_sql =
      absl::StrCat("SELECT COUNT(*) FROM partners p", where);
  const std::vector<SqlValue> count_params = params;

  // The sort column is chosen from a fixed list, never from request text.
  const char* column = "p.id";
  switch (query.order) {
    case PartnerOrder::kId:
      column = "p.id";
      break;
    case PartnerOrder::kName:
      column = "p.name_ko";
      break;
    case PartnerOrder::kFloorArea:
      column = "p.floor_area_m2";
      break;
    case PartnerOrder::kUpdateTime:
      column = "p.update_time_us";
      break;
  }
  const char* cmp = query.descending ? "<" : ">";
  const char* direction = query.descending ? " DESC" : "";
  if (query.after.has_position) {
    if (query.order == PartnerOrder::kId) {
      absl::StrAppend(&where, " AND p.id ", cmp, " ?");
      params.push_back(SqlInt(query.after.last_id));
    } else {
      absl::StrAppend(&where, " AND (", column, " ", cmp, " ? OR (", column,
                      " = ? AND p.id ", cmp, " ?))");
      params.push_back(query.after.last_key);
      params.push_back(query.after.last_key);
      params.push_back(SqlInt(query.after.last_id));
    }
  }
  std::string sql =
      absl::StrCat("SELECT ", kPartnerColumns, ", ", column, " FROM partners p",
                   where, " ORDER BY ", column, direction);
  if (query.order != PartnerOrder::kId)
    absl::StrAppend(&sql, ", p.id", direction);
  absl::StrAppend(&sql, " LIMIT ?");
  params.push_back(SqlInt(query.limit));

  // The same query again at the same stamp: the same page.
  std::string cache_key = absl::StrCat(
      sql, "|",
      absl::StrJoin(params, "|", [](std::string* out, const SqlValue& value) {
        absl::StrAppend(out, SqlValueKey(value));
      }));
  return PartnerListSql{std::move(sql), std::move(params), count_sql,
                        count_params, std::move(cache_key)};
}

std::optional<PartnerList> RegistryStore::CachedPartners(
    const PartnerListQuery& query, const std::string& stamp) {
  return CachedList(ListSqlFor(query).cache_key, stamp);
}

std::optional<PartnerList> RegistryStore::CachedList(
    const std::string& cache_key, const std::string& stamp) {
  std::shared_ptr<const PartnerList> cached;
  {
    absl::MutexLock lock(&directory_.mutex);
    AdoptStamp(stamp);
    cached = FindShared(directory_.lists, cache_key);
  }
  // Copied outside the lock: readers hold it only to find.
  if (cached == nullptr) return std::nullopt;
  return *cached;
}

std::shared_ptr<const std::string> RegistryStore::CachedListAnswer(
    absl::string_view request, const std::string& stamp) {
  // Never kept, so not hashed under the lock every read takes.
  if (request.size() > kDirectoryCacheMaxKey) return nullptr;
  absl::MutexLock lock(&directory_.mutex);
  AdoptStamp(stamp);
  return FindShared(directory_.serialized_lists, request);
}

void RegistryStore::KeepListAnswer(absl::string_view request,
                                   std::shared_ptr<const std::string> answer,
                                   const std::string& stamp) {
  if (request.size() > kDirectoryCacheMaxKey) return;
  const size_t bytes =
      kDirectoryCacheEntryBytes + request.size() + answer->size();
  absl::MutexLock lock(&directory_.mutex);
  // An answer built at an earlier stamp is not the directory's any more.
  if (directory_.stamp != stamp) return;
  KeepSharedWithinBudget(directory_.serialized_lists, request,
                         std::move(answer), bytes, &directory_.serialized_bytes,
                         kSerializedListBytes);
}

std::optional<Partner> RegistryStore::CachedPartner(int64_t id,
                                                    const std::string& stamp) {
  std::shared_ptr<const Partner> cached;
  {
    absl::MutexLock lock(&directory_.mutex);
    AdoptStamp(stamp);
    cached = FindShared(directory_.partners, id);
  }
  if (cached == nullptr) return std::nullopt;
  return *cached;
}

absl::StatusOr<PartnerList> RegistryStore::ListPartners(
    const PartnerListQuery& query) {
  const auto& [sql, params, count_sql, count_params, cache_key] =
      ListSqlFor(query);
  const absl::StatusOr<std::string> stamp = DirectoryStamp();
  if (stamp.ok()) {
    std::optional<PartnerList> cached = CachedList(cache_key, *stamp);
    if (cached.has_value()) return *std::move(cached);
  }
  PartnerList list;
  // From the primary, after the stamp (a replica's may be older than it),
  // kept or not: a list is exact.
  const absl::Status status =
      database_->Run([&](Session& session) -> absl::Status {
        list.rows.clear();
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        const size_t sort_key_column = 9;  // after kPartnerColumns
        for (const Row& row : rows) {
          SMZ_ASSIGN_OR_RETURN(Partner partner, PartnerFromRow(row));
          list.rows.push_back({std::move(partner), row.Text(sort_key_column)});
        }
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> count,
                             session.Query(count_sql, count_params));
        list.total_size = count.front().Int(0);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  if (stamp.ok()) {
    absl::MutexLock lock(&directory_.mutex);
    if (directory_.stamp == *stamp &&
        cache_key.size() <= kDirectoryCacheMaxKey) {
      KeepWithinBudget(directory_.lists, cache_key, list,
                       CachedBytes(list, cache_key), &directory_.bytes);
    }
  }
  return list;
}

absl::StatusOr<Partner> RegistryStore::UpdatePartner(
    int64_t id, absl::string_view etag, absl::string_view actor,
    absl::FunctionRef<absl::Status(Partner*)> mutate) {
  const WriteContext write{std::string(actor), clock_->Now()};
  return database_->TransactFor<Partner>([&](Session& session) {
    return ModifyVersioned<Partner>(
        session, Partners(), id, etag, "UPDATE", write,
        [&](Session&, Partner& partner) -> absl::Status {
          SMZ_RETURN_IF_ERROR(mutate(&partner));
          partner.set_id(id);
          return absl::OkStatus();
        });
  });
}

absl::StatusOr<Partner> RegistryStore::ChangeDesignation(
    int64_t id, absl::string_view etag, absl::string_view action,
    absl::string_view actor,
    absl::FunctionRef<absl::StatusOr<DesignationChange>(const Partner&)>
        decide) {
  const WriteContext write{std::string(actor), clock_->Now()};
  return database_->TransactFor<Partner>([&](Session& session) {
    return ModifyVersioned<Partner>(
        session, Partners(), id, etag, action, write,
        [&](Session& session, Partner& partner) -> absl::Status {
          SMZ_ASSIGN_OR_RETURN(DesignationChange change, decide(partner));
          const int64_t now = absl::ToUnixMicros(write.now);
          const v1::DesignationEvent& event = change.event;
          SMZ_RETURN_IF_ERROR(
              session
                  .Execute(
                      "INSERT INTO designation_events (partner_id, "
                      "action, effective_on, term_ends_on, reason, "
                      "decision_ref, recorded_by, record_time_us) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      {SqlInt(id), v1::DesignationAction_Name(event.action()),
                       event.effective_on(),
                       SqlNullIfEmpty(event.term_ends_on()), event.reason(),
                       event.decision_ref(), event.recorded_by(), SqlInt(now)})
                  .status());
          if (change.revoke_tokens) {
            SMZ_RETURN_IF_ERROR(
                session
                    .Execute("UPDATE api_tokens SET revoke_time_us = ? "
                             "WHERE partner_id = ? AND revoke_time_us IS NULL",
                             {SqlInt(now), SqlInt(id)})
                    .status());
          }
          // The partner's designation history is part of it.
          SMZ_RETURN_IF_ERROR(ChangeDirectoryStamp(session));
          partner.set_status(change.next_status);
          if (change.update_term) {
            partner.set_designation_term_ends_on(event.term_ends_on());
          }
          return absl::OkStatus();
        },
        /*record_unchanged=*/true);
  });
}

absl::StatusOr<std::vector<v1::PartnerChange>>
RegistryStore::ListPartnerChanges(int64_t id, int64_t after_id, int limit,
                                  bool* cut) {
  using Changes = std::vector<v1::PartnerChange>;
  return database_->RunFor<Changes>(
      [&](Session& session) -> absl::StatusOr<Changes> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> exists,
            session.Query("SELECT id FROM partners WHERE id = ?",
                          {SqlInt(id)}));
        if (exists.empty()) {
          return absl::NotFoundError(
              absl::StrCat("partner ", id, " does not exist"));
        }
        SMZ_ASSIGN_OR_RETURN(
            AuditPage page, ReadAudit(session, "partner", id, after_id, limit));
        *cut = page.cut;
        Changes changes;
        for (const AuditEntry& entry : page.entries) {
          v1::PartnerChange change;
          change.set_id(entry.id);
          change.set_values_omitted(entry.values_omitted);
          change.set_action(entry.action);
          change.set_actor(entry.actor);
          *change.mutable_time() =
              TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(entry.time));
          if ((!entry.before.empty() &&
               !change.mutable_before()->ParseFromString(entry.before)) ||
              (!entry.after.empty() &&
               !change.mutable_after()->ParseFromString(entry.after))) {
            return absl::DataLossError(absl::StrCat(
                "audit entry ", entry.id, " has an unreadable value"));
          }
          for (const std::string& field : entry.changed_fields) {
            change.add_changed_fields(field);
          }
          changes.push_back(std::move(change));
        }
        return changes;
      });
}

absl::StatusOr<std::vector<v1::DesignationCount>>
RegistryStore::CountDesignations(int year, v1::PartnerKind kind) {
  std::string sql =
      "SELECT YEAR(e.effective_on), p.kind, e.action, COUNT(*) "
      "FROM designation_events e JOIN partners p ON p.id = e.partner_id "
      "WHERE 1 = 1";
  std::vector<SqlValue> params;
  if (year != 0) {
    // A range on the column (not YEAR(column) = ?) can use an index.
    sql += " AND e.effective_on >= ? AND e.effective_on < ?";
    params.push_back(FormatDate(absl::CivilDay(year, 1, 1)));
    params.push_back(FormatDate(absl::CivilDay(year + 1, 1, 1)));
  }
  if (kind != v1::PARTNER_KIND_UNSPECIFIED) {
    sql += " AND p.kind = ?";
    params.push_back(v1::PartnerKind_Name(kind));
  }
  sql += " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
  std::vector<v1::DesignationCount> counts;
  absl::Status status =
      LaggingRun(*database_, replica_, [&](Session& session) -> absl::Status {
        counts.clear();
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        for (const Row& row : rows) {
          v1::DesignationCount count;
          count.set_year(static_cast<int32_t>(row.Int(0)));
          v1::PartnerKind row_kind = v1::PARTNER_KIND_UNSPECIFIED;
          v1::PartnerKind_Parse(row.Text(1), &row_kind);
          count.set_kind(row_kind);
          v1::DesignationAction action = v1::DESIGNATION_ACTION_UNSPECIFIED;
          v1::DesignationAction_Parse(row.Text(2), &action);
          count.set_action(action);
          count.set_count(static_cast<int32_t>(row.Int(3)));
          counts.push_back(std::move(count));
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return counts;
}

absl::StatusOr<std::vector<v1::PartnerCount>> RegistryStore::CountPartners(
    v1::PartnerStatus status) {
  std::string sql = "SELECT kind, region, COUNT(*) FROM partners";
  std::vector<SqlValue> params;
  if (status != v1::PARTNER_STATUS_UNSPECIFIED) {
    sql += " WHERE status = ?";
    params.push_back(v1::PartnerStatus_Name(status));
  }
  sql += " GROUP BY kind, region";
  std::vector<v1::PartnerCount> counts;
  absl::Status result =
      LaggingRun(*database_, replica_, [&](Session& session) -> absl::Status {
        counts.clear();
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        for (const Row& row : rows) {
          v1::PartnerCount count;
          v1::PartnerKind kind = v1::PARTNER_KIND_UNSPECIFIED;
          v1::PartnerKind_Parse(row.Text(0), &kind);
          count.set_kind(kind);
          v1::ZoneRegion region = v1::ZONE_REGION_UNSPECIFIED;
          v1::ZoneRegion_Parse(row.Text(1), &region);
          count.set_region(region);
          count.set_count(static_cast<int32_t>(row.Int(2)));
          counts.push_back(std::move(count));
        }
        return absl::OkStatus();
      });
  if (!result.ok()) return result;
  // Enum order, not the collation's alphabetical order.
  std::sort(counts.begin(), counts.end(),
            [](const v1::PartnerCount& a, const v1::PartnerCount& b) {
              return std::make_pair(a.kind(), a.region()) <
                     std::make_pair(b.kind(), b.region());
            });
  return counts;
}

absl::StatusOr<std::vector<v1::ExpiringItem>> RegistryStore::ListExpiring(
    const ExpiringQuery& query) {
  const std::string until = FormatDate(query.as_of + query.within_days);
  const std::string from = FormatDate(query.as_of);
  const int64_t overdue = query.include_overdue ? 1 : 0;
  std::vector<std::string> parts;
  std::vector<SqlValue> params;
  if (query.kind != v1::ATTRACTION_REGISTRATION) {
    parts.push_back(
        "SELECT p.id, p.profile, 'DESIGNATION_TERM' AS kind, "
        "p.term_ends_on AS ends_on, '' AS number FROM partners p "
        "WHERE p.status IN ('ACTIVE', 'SUSPENDED') AND p.term_ends_on <= ? "
        "AND (? = 1 OR p.term_ends_on >= ?)");
    params.insert(params.end(), {until, SqlInt(overdue), from});
  }
  if (query.kind != v1::DESIGNATION_TERM) {
    parts.push_back(
        "SELECT p.id, p.profile, 'ATTRACTION_REGISTRATION' AS kind, "
        "p.registration_expires_on AS ends_on, p.registration_number AS "
        "number FROM partners p WHERE p.status <> 'REVOKED' AND "
        "p.registration_expires_on <= ? AND (? = 1 OR "
        "p.registration_expires_on >= ?)");
    params.insert(params.end(), {until, SqlInt(overdue), from});
  }
  std::string sql = "SELECT id, profile, kind, ends_on, number FROM (";
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::StrAppend(&sql, i == 0 ? "" : " UNION ALL ", parts[i]);
  }
  absl::StrAppend(&sql, ") x ORDER BY ends_on, id, kind LIMIT ? OFFSET ?");
  params.push_back(SqlInt(query.limit));
  params.push_back(SqlInt(query.offset));

  std::vector<v1::ExpiringItem> items;
  absl::Status status = database_->Run([&](Session& session) -> absl::Status {
    SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
    for (const Row& row : rows) {
      Partner profile;
      (void)profile.ParseFromString(row.Text(1));
      v1::ExpiringItem item;
      item.set_partner_id(row.Int(0));
      *item.mutable_partner_name() = profile.name();
      v1::ExpiryKind kind = v1::EXPIRY_KIND_UNSPECIFIED;
      v1::ExpiryKind_Parse(row.Text(2), &kind);
      item.set_kind(kind);
      item.set_ends_on(row.Text(3));
      if (std::optional<absl::CivilDay> ends = ParseDate(row.Text(3))) {
        item.set_days_left(static_cast<int32_t>(*ends - query.as_of));
      }
      item.set_registration_number(row.Text(4));
      items.push_back(std::move(item));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return items;
}

absl::StatusOr<Grant> RegistryStore::CreateGrant(const Grant& grant,
                                                 const RequestKey& key) {
  SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> legacy,
                       LookUpLegacyKey(*database_, key));
  if (legacy.has_value()) {
    return database_->RunFor<Grant>([&](Session& session) {
      return ReadGrant(session, legacy->result_id);
    });
  }
  const WriteContext write{key.caller, clock_->Now()};
  return database_->TransactFor<Grant>(
      [&](Session& session) -> absl::StatusOr<Grant> {
        return CreateVersioned<Grant>(
            session, Grants(), key, write, grant, [&](Session& session) {
              return StatusOfPartnerForChild(session, grant.partner_id(),
                                             "grants");
            });
      });
}

absl::StatusOr<GrantList> RegistryStore::ListGrants(const GrantQuery& query) {
  std::string where = " WHERE 1 = 1";
  std::vector<SqlValue> params;
  if (query.partner_id != 0) {
    where += " AND partner_id = ?";
    params.push_back(SqlInt(query.partner_id));
  }
  if (query.year != 0) {
    where += " AND year = ?";
    params.push_back(SqlInt(query.year));
  }
  if (query.programme != v1::GRANT_PROGRAMME_UNSPECIFIED) {
    where += " AND programme = ?";
    params.push_back(v1::GrantProgramme_Name(query.programme));
  }
  const std::string total_sql =
      absl::StrCat("SELECT COALESCE(SUM(amount_krw), 0) FROM grants", where);
  const std::vector<SqlValue> total_params = params;
  where += " AND id > ?";
  params.push_back(SqlInt(query.after_id));
  const std::string sql = absl::StrCat("SELECT ", kGrantColumns, " FROM grants",
                                       where, " ORDER BY id LIMIT ?");
  params.push_back(SqlInt(query.limit));
  GrantList list;
  const absl::Status status =
      database_->Run([&](Session& session) -> absl::Status {
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        for (const Row& row : rows) list.grants.push_back(GrantFromRow(row));
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> total,
                             session.Query(total_sql, total_params));
        list.total_amount_krw = total.front().Int(0);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return list;
}

absl::StatusOr<v1::TokenInfo> RegistryStore::InsertToken(
    const v1::TokenInfo& info, absl::string_view token_hash,
    absl::string_view action) {
  return database_->TransactFor<
      v1::TokenInfo>([&](Session& session) -> absl::StatusOr<v1::TokenInfo> {
    if (info.role() == auth::v1::PARTNER) {
      SMZ_RETURN_IF_ERROR(
          StatusOfPartnerForChild(session, info.partner_id(), "tokens"));
    }
    const absl::Time now = clock_->Now();
    auto inserted = session.Execute(
        "INSERT INTO api_tokens (token_hash, role, partner_id, display_name, "
        "created_by, create_time_us, expire_time_us) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        {std::string(token_hash), auth::v1::Role_Name(info.role()),
         info.role() == auth::v1::PARTNER ? SqlInt(info.partner_id())
                                          : SqlValue(nullptr),
         info.display_name(), info.created_by(),
         SqlInt(absl::ToUnixMicros(now)),
         info.has_expire_time()
             ? SqlInt(TimeUtil::TimestampToMicroseconds(info.expire_time()))
             : SqlValue(nullptr)});
    if (!inserted.ok()) return inserted.status();
    SMZ_ASSIGN_OR_RETURN(int64_t id, session.LastInsertId());
    absl::StatusOr<std::vector<Row>> rows = session.Query(
        absl::StrCat("SELECT ", kTokenColumns, " FROM api_tokens WHERE id = ?"),
        {SqlInt(id)});
    if (!rows.ok()) return rows.status();
    v1::TokenInfo stored = TokenFromRow(rows->front());
    SMZ_RETURN_IF_ERROR(AuditToken(session, v1::TokenInfo(), stored, action,
                                   info.created_by(), now));
    return stored;
  });
}

absl::StatusOr<v1::TokenInfo> RegistryStore::RevokeToken(
    int64_t token_id, absl::string_view actor) {
  return database_->TransactFor<v1::TokenInfo>(
      [&](Session& session) -> absl::StatusOr<v1::TokenInfo> {
        const absl::Time now = clock_->Now();
        const int64_t now_us = absl::ToUnixMicros(now);
        // Every active ADMIN token is locked first, in id order, so two
        // administrators revoking each other's tokens at once are
        // serialized and cannot both succeed.
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> admins,
            session.Query(
                absl::StrCat("SELECT id, expire_time_us FROM api_tokens WHERE "
                             "role = 'ADMIN' AND ",
                             kActiveToken, " ORDER BY id FOR UPDATE"),
                {SqlInt(now_us)}));
        const std::string select = absl::StrCat(
            "SELECT ", kTokenColumns, " FROM api_tokens WHERE id = ?");
        absl::StatusOr<std::vector<Row>> rows =
            session.Query(select + " FOR UPDATE", {SqlInt(token_id)});
        if (!rows.ok()) return rows.status();
        if (rows->empty()) {
          return absl::NotFoundError(
              absl::StrCat("token ", token_id, " does not exist"));
        }
        const v1::TokenInfo before = TokenFromRow(rows->front());
        if (before.has_revoke_time()) return before;
        const bool active_admin =
            std::any_of(admins.begin(), admins.end(),
                        [&](const Row& row) { return row.Int(0) == token_id; });
        // Another ADMIN token must remain that does not expire: one that
        // expires would leave nobody, only later.
        const bool another_lasting_admin =
            std::any_of(admins.begin(), admins.end(), [&](const Row& row) {
              return row.Int(0) != token_id && row.IsNull(1);
            });
        if (active_admin && !another_lasting_admin) {
          return absl::FailedPreconditionError(
              "this is the last active ADMIN token that does not expire: "
              "revoking it would leave nobody able to administer the zone; "
              "issue another ADMIN token without an expire_time first");
        }
        auto updated = session.Execute(
            "UPDATE api_tokens SET revoke_time_us = ? WHERE id = ?",
            {SqlInt(now_us), SqlInt(token_id)});
        if (!updated.ok()) return updated.status();
        rows = session.Query(select, {SqlInt(token_id)});
        if (!rows.ok()) return rows.status();
        const v1::TokenInfo after = TokenFromRow(rows->front());
        SMZ_RETURN_IF_ERROR(
            AuditToken(session, before, after, "REVOKE", actor, now));
        return after;
      });
}

absl::StatusOr<std::vector<v1::TokenInfo>> RegistryStore::ListTokens(
    const TokenQuery& query) {
  std::string sql =
      absl::StrCat("SELECT ", kTokenColumns, " FROM api_tokens WHERE id > ?");
  std::vector<SqlValue> params = {SqlInt(query.after_id)};
  if (query.partner_id != 0) {
    sql += " AND partner_id = ?";
    params.push_back(SqlInt(query.partner_id));
  }
  if (!query.include_revoked) sql += " AND revoke_time_us IS NULL";
  sql += " ORDER BY id LIMIT ?";
  params.push_back(SqlInt(query.limit));
  return database_->RunFor<std::vector<v1::TokenInfo>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::TokenInfo>> {
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        std::vector<v1::TokenInfo> tokens;
        for (const Row& row : rows) tokens.push_back(TokenFromRow(row));
        return tokens;
      });
}

absl::StatusOr<bool> RegistryStore::HasActiveAdminToken() {
  return database_->RunFor<bool>([&](Session& session) -> absl::StatusOr<bool> {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        session.Query(
            absl::StrCat("SELECT COUNT(*) FROM api_tokens WHERE role = 'ADMIN' "
                         "AND ",
                         kActiveToken),
            {SqlInt(absl::ToUnixMicros(clock_->Now()))}));
    return rows.front().Int(0) > 0;
  });
}

absl::StatusOr<RegistryStore::RestoreReview> RegistryStore::ReviewAfterRestore(
    const absl::flat_hash_set<std::string>& keep, absl::string_view actor) {
  return database_->TransactFor<RestoreReview>(
      [&](Session& session) -> absl::StatusOr<RestoreReview> {
        RestoreReview review;
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> marks,
            session.Query("SELECT id, backup_label FROM restore_marks WHERE "
                          "review_time_us IS NULL ORDER BY id FOR UPDATE",
                          {}));
        if (marks.empty()) return review;
        // The backup's own mark comes first (restore.sh adds its own after
        // loading it, named after the file).
        review.backup_label = marks.front().Text(1);
        const absl::Time now = clock_->Now();
        const int64_t now_us = absl::ToUnixMicros(now);
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> active,
            session.Query(absl::StrCat("SELECT ", kTokenColumns,
                                       ", token_hash FROM api_tokens WHERE "
                                       "revoke_time_us IS NULL FOR UPDATE"),
                          {}));
        for (const Row& row : active) {
          if (keep.contains(row.Text(row.size() - 1))) continue;
          const v1::TokenInfo before = TokenFromRow(row);
          SMZ_RETURN_IF_ERROR(
              session
                  .Execute(
                      "UPDATE api_tokens SET revoke_time_us = ? WHERE id = ?",
                      {SqlInt(now_us), SqlInt(before.id())})
                  .status());
          v1::TokenInfo after = before;
          *after.mutable_revoke_time() =
              TimeUtil::MicrosecondsToTimestamp(now_us);
          SMZ_RETURN_IF_ERROR(AuditToken(session, before, after,
                                         "REVOKE_AFTER_RESTORE", actor, now));
          ++review.tokens_revoked;
        }
        SMZ_ASSIGN_OR_RETURN(
            int64_t ended,
            session.Execute("UPDATE account_sessions SET end_time_us = ? "
                            "WHERE end_time_us IS NULL",
                            {SqlInt(now_us)}));
        review.sessions_ended = static_cast<int>(ended);
        SMZ_ASSIGN_OR_RETURN(
            int64_t voided,
            session.Execute("UPDATE account_links SET used_time_us = ? "
                            "WHERE used_time_us IS NULL",
                            {SqlInt(now_us)}));
        review.links_voided = static_cast<int>(voided);
        SMZ_RETURN_IF_ERROR(
            session
                .Execute("UPDATE restore_marks SET review_time_us = ? WHERE "
                         "review_time_us IS NULL",
                         {SqlInt(now_us)})
                .status());
        return review;
      });
}

absl::StatusOr<bool> RegistryStore::RestoreUnreviewed() {
  return database_->RunFor<bool>([&](Session& session) -> absl::StatusOr<bool> {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        session.Query(
            "SELECT COUNT(*) FROM restore_marks WHERE review_time_us IS NULL",
            {}));
    return rows.front().Int(0) > 0;
  });
}

absl::StatusOr<std::optional<v1::TokenInfo>> RegistryStore::FindTokenByHash(
    absl::string_view token_hash) {
  using MaybeToken = std::optional<v1::TokenInfo>;
  return database_->RunFor<MaybeToken>(
      [&](Session& session) -> absl::StatusOr<MaybeToken> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(absl::StrCat("SELECT ", kTokenColumns,
                                       " FROM api_tokens WHERE token_hash = ?"),
                          {std::string(token_hash)}));
        if (rows.empty()) return MaybeToken();
        return MaybeToken(TokenFromRow(rows.front()));
      });
}

absl::StatusOr<std::optional<Principal>> RegistryStore::FindByToken(
    absl::string_view token, absl::string_view token_hash) {
  using MaybePrincipal = std::optional<Principal>;
  if (absl::StartsWith(token, kSessionIdPrefix)) {
    // A person's session (accounts.proto): the same credential path.
    return AccountStore(database_, clock_).FindSession(token_hash);
  }
  return database_->RunFor<MaybePrincipal>(
      [&](Session& session) -> absl::StatusOr<MaybePrincipal> {
        const absl::Time now = clock_->Now();
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat("SELECT id, role, partner_id, display_name, "
                             "last_use_time_us FROM api_tokens "
                             "WHERE token_hash = ? AND ",
                             kActiveToken),
                {std::string(token_hash), SqlInt(absl::ToUnixMicros(now))}));
        if (rows.empty()) return MaybePrincipal();
        const Row& row = rows.front();
        if (row.IsNull(4) ||
            absl::FromUnixMicros(row.Int(4)) + kLastUseResolution <= now) {
          // Best effort: a failed write must not refuse a valid token.
          auto touched = session.Execute(
              "UPDATE api_tokens SET last_use_time_us = ? WHERE id = ?",
              {SqlInt(absl::ToUnixMicros(now)), SqlInt(row.Int(0))});
          if (!touched.ok()) {
            Log(LogLevel::kWarning, "token last use not recorded",
                {{"error", touched.status().message()}});
          }
        }
        Principal principal;
        principal.set_token_id(row.Int(0));
        auth::v1::Role role = auth::v1::ROLE_UNSPECIFIED;
        auth::v1::Role_Parse(row.Text(1), &role);
        principal.set_role(role);
        principal.set_partner_id(row.Int(2));
        principal.set_display_name(row.Text(3));
        return MaybePrincipal(principal);
      });
}

}  // namespace smz::registry
