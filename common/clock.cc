#include "common/clock.h"

#include <time.h>

namespace smz {

const SystemClock& SystemClock::Get() {
  static const SystemClock* const kClock = new SystemClock();
  return *kClock;
}

const SteadyClock& SteadyClock::Get() {
  static const SteadyClock* const kClock = new SteadyClock();
  return *kClock;
}

absl::Time SteadyClock::Now() const {
  // CLOCK_BOOTTIME rather than steady_clock's CLOCK_MONOTONIC: it goes on
  // while the machine is suspended, so a lease never outlives real time.
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  return absl::UnixEpoch() + absl::DurationFromTimespec(now);
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
