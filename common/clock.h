// Time for smz code, injected so that logic depending on "now" (designation
// terms, token caches, deadlines) is testable.
//
//   void Renew(const smz::Clock& clock) {
//     absl::CivilDay today = smz::TodayInSeoul(clock);
//     ...
//   }
//   smz::FakeClock clock(absl::FromCivil(absl::CivilDay(2022, 12, 31),
//                                        smz::SeoulTimeZone()));
//   Renew(clock);
#ifndef SMZ_COMMON_CLOCK_H_
#define SMZ_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace smz {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock : public Clock {
 public:
  static const SystemClock& Get();
  absl::Time Now() const override { return absl::Now(); }
};

// Time that never steps (CLOCK_BOOTTIME: monotonic, and counting while the
// machine is suspended), for durations that must not stretch or shrink
// when the wall clock is set: leases (FreshnessFence). Its Now() is an
// arbitrary origin plus the time since.
class SteadyClock : public Clock {
 public:
  static const SteadyClock& Get();
  absl::Time Now() const override;
};

// A clock that moves only when told to.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override;
  void Set(absl::Time now);
  void Advance(absl::Duration by);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// The zone's civil time zone (Asia/Seoul; a fixed UTC+9 if tzdata is absent,
// which is exact since Korea has no daylight saving time).
absl::TimeZone SeoulTimeZone();
absl::CivilDay TodayInSeoul(const Clock& clock);

}  // namespace smz

#endif  // SMZ_COMMON_CLOCK_H_
