#include "services/stats/aggregate_cache.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace smz::stats {

bool AggregateCache::Cacheable(const v1::AggregateRequest& request) {
  if (request.ByteSizeLong() > kMaxRequestBytes) return false;
  if (request.filter().partner_ids_size() > 0) return false;
  return std::none_of(request.group_by().begin(), request.group_by().end(),
                      [](int dimension) { return dimension == v1::PARTNER; });
}

std::string AggregateCache::KeyOf(const Principal& caller,
                                  const v1::AggregateRequest& request) {
  v1::AggregateRequest known = request;
  known.DiscardUnknownFields();
  return absl::StrCat(auth::v1::Role_Name(caller.role()), "\n",
                      known.SerializeAsString());
}

std::optional<v1::AggregateResponse> AggregateCache::Find(
    const std::string& key, const std::string& stamp) const {
  std::shared_ptr<const v1::AggregateResponse> kept = answers_.Find(key, stamp);
  if (kept == nullptr) return std::nullopt;
  return *kept;
}

void AggregateCache::Insert(const std::string& key, const std::string& stamp,
                            const v1::AggregateResponse& answer) {
  answers_.Insert(key, stamp,
                  std::make_shared<const v1::AggregateResponse>(answer));
}

}  // namespace smz::stats
