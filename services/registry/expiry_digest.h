// The district's weekly reminder of what is running out: designation terms
// and attraction registrations that end within 90 days or have ended while
// the partner is still listed (RegistryStore::ListExpiring), mailed to the
// district's own addresses (--district_mail) on Mondays from 09:00 Seoul,
// once a week each (the key names the ISO week), and only when there is
// something to say. The registry's mail worker runs QueueExpiryDigest
// hourly.
//
//   absl::StatusOr<int> queued = QueueExpiryDigest(
//       store, database, clock.Now(), {"partners@ydp.example"},
//       "https://smz.example.org");
#ifndef SMZ_SERVICES_REGISTRY_EXPIRY_DIGEST_H_
#define SMZ_SERVICES_REGISTRY_EXPIRY_DIGEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/mail/outbox.h"
#include "common/mysql/database.h"
#include "services/registry/registry_store.h"
#include "smz/registry/v1/registry.pb.h"

namespace smz::registry {

// How far ahead the digest looks.
inline constexpr int kExpiryDigestDays = 90;

// The digest for `recipient` (Korean: the district's officers), the items
// soonest first, each with its date and days left (or past), and a link to
// the partners page under `public_url`. `week_monday`: the week it is for.
OutgoingMail RenderExpiryDigest(const std::vector<v1::ExpiringItem>& items,
                                absl::CivilDay week_monday,
                                absl::string_view recipient,
                                absl::string_view public_url);

// Queues this week's digest for each of `recipients` once it is Monday
// 09:00 in Seoul or later in the week; nothing when nothing ends. The
// number of mails newly queued.
absl::StatusOr<int> QueueExpiryDigest(
    RegistryStore& store, Database& database, absl::Time now,
    const std::vector<std::string>& recipients, absl::string_view public_url);

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_EXPIRY_DIGEST_H_
