#include "common/mail/mail_api.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/pagination.h"
#include "common/status_util.h"
#include "google/protobuf/util/time_util.h"

namespace smz {
namespace {

google::protobuf::Timestamp Stamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(t));
}

mail::v1::Mail ToProto(const OutboxMessage& m) {
  mail::v1::Mail out;
  out.set_id(m.id);
  out.set_topic(m.topic);
  out.set_recipient(m.recipient);
  out.set_language(m.language);
  out.set_subject(m.subject);
  out.set_state(static_cast<mail::v1::MailState>(static_cast<int>(m.state)));
  out.set_attempts(m.attempts);
  if (m.state == OutboxState::kPending) {
    *out.mutable_next_attempt_time() = Stamp(m.next_attempt);
  }
  out.set_last_error(m.last_error);
  *out.mutable_create_time() = Stamp(m.create_time);
  if (m.state == OutboxState::kSent)
    *out.mutable_sent_time() = Stamp(m.sent_time);
  out.set_message_id(m.message_id);
  return out;
}

}  // namespace

absl::StatusOr<mail::v1::ListMailResponse> ListMail(
    Outbox& outbox, const mail::v1::ListMailRequest& request) {
  FieldViolations violations;
  OutboxQuery query;
  std::string states_key;
  for (int i = 0; i < request.states_size(); ++i) {
    const int state = request.states(i);
    if (state < 1 || state > 3) {
      violations.Add(absl::StrCat("states[", i, "]"),
                     "must be PENDING, SENT or FAILED");
      continue;
    }
    query.states.push_back(static_cast<OutboxState>(state));
    absl::StrAppend(&states_key, state, ",");
  }
  query.limit = ResolvePageSize(request.page_size(), &violations);
  const uint64_t fingerprint = QueryFingerprint({"mail", states_key});
  absl::StatusOr<PageCursor> cursor =
      DecodePageToken(request.page_token(), fingerprint);
  if (!cursor.ok()) {
    violations.Add("page_token", std::string(cursor.status().message()));
  } else if (cursor->has_position) {
    query.before_id = cursor->last_id;
  }
  SMZ_RETURN_IF_ERROR(violations.ToStatus());

  const int page_size = query.limit;
  query.limit = page_size + 1;
  SMZ_ASSIGN_OR_RETURN(std::vector<OutboxMessage> found, outbox.List(query));
  SMZ_ASSIGN_OR_RETURN(OutboxCounts counts, outbox.Count());
  mail::v1::ListMailResponse response;
  const bool more = static_cast<int>(found.size()) > page_size;
  if (more) found.resize(page_size);
  for (const OutboxMessage& m : found) *response.add_mail() = ToProto(m);
  if (more) {
    PageCursor next;
    next.has_position = true;
    next.last_id = found.back().id;
    response.set_next_page_token(EncodePageToken(fingerprint, next));
  }
  response.set_pending_count(counts.pending);
  response.set_sent_count(counts.sent);
  response.set_failed_count(counts.failed);
  if (counts.pending > 0) {
    *response.mutable_oldest_pending_time() = Stamp(counts.oldest_pending);
  }
  response.set_relay_configured(outbox.can_send());
  return response;
}

absl::StatusOr<mail::v1::Mail> RetryMail(
    Outbox& outbox, const mail::v1::RetryMailRequest& request) {
  if (request.id() <= 0) return InvalidField("id", "is required");
  SMZ_ASSIGN_OR_RETURN(OutboxMessage retried, outbox.Retry(request.id()));
  return ToProto(retried);
}

}  // namespace smz
