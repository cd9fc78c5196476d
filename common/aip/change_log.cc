#include "common/aip/change_log.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aip/pager.h"
#include "common/aip/status_macros.h"
#include "common/mysql/audit.h"
#include "google/protobuf/util/time_util.h"

namespace smz {
namespace {

void SetValue(const std::string& bytes,
              const google::protobuf::Descriptor* type,
              google::protobuf::Any* any) {
  any->set_type_url(absl::StrCat("type.googleapis.com/", type->full_name()));
  any->set_value(bytes);
}

}  // namespace

absl::StatusOr<audit::v1::ListChangesResponse> ListChanges(
    Database& database, const AuditedEntities& entities,
    const audit::v1::ListChangesRequest& request) {
  FieldViolations violations;
  const AuditedEntity* entity = nullptr;
  std::vector<std::string> names;
  for (const AuditedEntity& e : entities) {
    names.push_back(e.entity);
    if (e.entity == request.entity()) entity = &e;
  }
  if (entity == nullptr) {
    violations.Add(
        "entity", absl::StrCat("must be one of: ", absl::StrJoin(names, ", ")));
  }
  if (request.entity_id() <= 0) violations.Add("entity_id", "is required");
  Pager pager = PagerFor(request, &violations, "", kAuditMaxChangesPerPage);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(
      AuditPage page, database.RunFor<AuditPage>([&](Session& session) {
        return ReadAudit(session, entity->entity, request.entity_id(),
                         pager.after_id(), pager.fetch_limit());
      }));
  std::vector<AuditEntry>& entries = page.entries;
  audit::v1::ListChangesResponse response;
  // A page stops short of a client's 4 MiB receive limit (ReadAudit's byte
  // budget); the next page goes on after its last change.
  response.set_next_page_token(
      page.cut
          ? pager.TokenAfter(entries.back().id)
          : pager.Finish(&entries, [](const AuditEntry& e) { return e.id; }));
  for (const AuditEntry& entry : entries) {
    audit::v1::Change* change = response.add_changes();
    change->set_id(entry.id);
    change->set_entity(entry.entity);
    change->set_entity_id(entry.entity_id);
    change->set_action(entry.action);
    change->set_actor(entry.actor);
    *change->mutable_time() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
            absl::ToUnixMicros(entry.time));
    for (const std::string& f : entry.changed_fields) {
      change->add_changed_fields(f);
    }
    change->set_values_omitted(entry.values_omitted);
    if (!entry.before.empty()) {
      SetValue(entry.before, entity->type, change->mutable_before());
    }
    if (!entry.after.empty()) {
      SetValue(entry.after, entity->type, change->mutable_after());
    }
  }
  return response;
}

}  // namespace smz
