#include "common/clock.h"

namespace smz {

const SystemClock& SystemClock::Get() {
  static const SystemClock* const kClock = new SystemClock();
  return *kClock;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Set(absl::Time now) {
  absl::MutexLock lock(&mu_);
  now_ = now;
}

void FakeClock::Advance(absl::Duration by) {
  absl::MutexLock lock(&mu_);
  now_ += by;
}

absl::TimeZone SeoulTimeZone() {
  static const absl::TimeZone kZone = [] {
    absl::TimeZone zone;
    if (absl::LoadTimeZone("Asia/Seoul", &zone)) return zone;
    return absl::FixedTimeZone(9 * 60 * 60);
  }();
  return kZone;
}

absl::CivilDay TodayInSeoul(const Clock& clock) {
  return absl::ToCivilDay(clock.Now(), SeoulTimeZone());
}

}  // namespace smz
