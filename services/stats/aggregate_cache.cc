#include "services/stats/aggregate_cache.h"

#include <algorithm>

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
  std::shared_ptr<const v1::AggregateResponse> kept;
  {
    absl::MutexLock lock(&mutex_);
    if (stamp.empty() || stamp != stamp_) return std::nullopt;
    auto it = answers_.find(key);
    if (it == answers_.end()) return std::nullopt;
    kept = it->second;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  return *kept;
}

void AggregateCache::Insert(const std::string& key, const std::string& stamp,
                            const v1::AggregateResponse& answer) {
  const size_t size = key.size() + answer.ByteSizeLong();
  if (stamp.empty() || size > max_bytes_ / 16) return;
  auto kept = std::make_shared<const v1::AggregateResponse>(answer);
  absl::MutexLock lock(&mutex_);
  if (stamp != stamp_) {
    answers_.clear();
    bytes_ = 0;
    stamp_ = stamp;
  }
  // Room by dropping others, not all: one caller's many answers cost the
  // others only what they displace.
  while (bytes_ + size > max_bytes_ && !answers_.empty()) {
    auto victim = answers_.begin();
    bytes_ -= victim->first.size() + victim->second->ByteSizeLong();
    answers_.erase(victim);
  }
  auto [it, inserted] = answers_.try_emplace(key, std::move(kept));
  if (inserted) bytes_ += size;
}

size_t AggregateCache::entries() const {
  absl::MutexLock lock(&mutex_);
  return answers_.size();
}

}  // namespace smz::stats
