#include "services/events/event_rules.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/token.h"
#include "common/iso_codes.h"
#include "common/mail/mail_message.h"
#include "common/request_fields.h"
#include "common/text_checks.h"

namespace smz::events {
namespace {

constexpr int kMaxTextLength = 300;
// The supported subset needs about 60 bytes; 200 leaves room for spacing.
constexpr size_t kMaxRuleLength = 200;
constexpr int kMaxDescriptionLength = 10000;
constexpr absl::Duration kMaxEventSpan = absl::Hours(24 * 400);

// Lower-cased with runs of whitespace collapsed to one space.
std::string Canonical(absl::string_view text) {
  std::string out;
  bool space = false;
  for (char c : absl::StripAsciiWhitespace(text)) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void ValidateLength(absl::string_view value, const std::string& field,
                    size_t max_length, FieldViolations* violations) {
  if (value.size() > max_length) {
    violations->Add(field,
                    absl::StrCat("is longer than ", max_length, " bytes"));
  }
}

bool HasTime(const google::protobuf::Timestamp& t) {
  return t.seconds() != 0 || t.nanos() != 0;
}

// Start and end of something: both present, end after start.
bool ValidateSpan(const google::protobuf::Timestamp& start,
                  const google::protobuf::Timestamp& end,
                  const std::string& start_field, const std::string& end_field,
                  FieldViolations* violations) {
  bool ok = true;
  if (!HasTime(start)) {
    violations->Add(start_field, "is required");
    ok = false;
  }
  if (!HasTime(end)) {
    violations->Add(end_field, "is required");
    ok = false;
  }
  if (ok && ToTime(end) <= ToTime(start)) {
    violations->Add(end_field, absl::StrCat("must be after ", start_field));
    ok = false;
  }
  return ok;
}

std::string Describe(const Slot& slot, absl::TimeZone zone) {
  return absl::StrCat(slot.field, " (", LocalDateTime(slot.start, zone), "–",
                      LocalDateTime(slot.end, zone), ")");
}

std::optional<absl::Weekday> ParseWeekday(absl::string_view text) {
  static constexpr std::pair<const char*, absl::Weekday> kDays[] = {
      {"MO", absl::Weekday::monday},    {"TU", absl::Weekday::tuesday},
      {"WE", absl::Weekday::wednesday}, {"TH", absl::Weekday::thursday},
      {"FR", absl::Weekday::friday},    {"SA", absl::Weekday::saturday},
      {"SU", absl::Weekday::sunday}};
  for (const auto& [name, day] : kDays) {
    if (text == name) return day;
  }
  return std::nullopt;
}

int MondayIndex(absl::Weekday day) {
  switch (day) {
    case absl::Weekday::monday:
      return 0;
    case absl::Weekday::tuesday:
      return 1;
    case absl::Weekday::wednesday:
      return 2;
    case absl::Weekday::thursday:
      return 3;
    case absl::Weekday::friday:
      return 4;
    case absl::Weekday::saturday:
      return 5;
    case absl::Weekday::sunday:
      return 6;
  }
  return 0;
}

// "MO".."SU", as in BYDAY.
absl::string_view WeekdayCode(absl::Weekday day) {
  static constexpr absl::string_view kCodes[] = {"MO", "TU", "WE", "TH",
                                                 "FR", "SA", "SU"};
  return kCodes[MondayIndex(day)];
}

// Whether the time-zone database has a file for `name` (already checked to
// be a zone name's shape, so it cannot leave the database's folder).
bool ZoneFileExists(absl::string_view name) {
  if (name == "UTC") return true;  // Abseil knows it without a file
  const char* tzdir = std::getenv("TZDIR");
  const std::string path = absl::StrCat(
      tzdir != nullptr && *tzdir != '\0' ? tzdir : "/usr/share/zoneinfo", "/",
      name);
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

}  // namespace

absl::StatusOr<absl::TimeZone> LoadZone(absl::string_view name) {
  absl::TimeZone zone;
  // Abseil keeps every name it was asked for in a process-wide map, found or
  // not, so only names of zone files that exist are passed on: made-up names
  // would otherwise grow the map without bound.
  if (!IsTimeZoneName(name) || !ZoneFileExists(name) ||
      !absl::LoadTimeZone(name, &zone)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown IANA time zone '", Abbreviate(name, 64),
                     "' (e.g. Asia/Seoul, Asia/Ulaanbaatar, "
                     "Asia/Ho_Chi_Minh)"));
  }
  return zone;
}

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp out;
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(rest * 1000));
  return out;
}

std::string LocalDateTime(absl::Time t, absl::TimeZone zone) {
  return absl::FormatTime("%Y-%m-%dT%H:%M", t, zone);
}

absl::CivilDay LocalStartDay(const Event& event, absl::TimeZone zone) {
  return absl::ToCivilDay(ToTime(event.start_time()), zone);
}

absl::CivilDay LocalEndDay(const Event& event, absl::TimeZone zone) {
  // An event ending at midnight ends on the previous day.
  const absl::Time last = ToTime(event.end_time()) - absl::Microseconds(1);
  return std::max(absl::ToCivilDay(last, zone), LocalStartDay(event, zone));
}

void NormalizeEvent(Event* event) {
  if (event->time_zone().empty()) {
    event->set_time_zone(std::string(kDefaultTimeZone));
  }
  if (event->country().empty()) event->set_country("KR");
  event->set_country(absl::AsciiStrToUpper(event->country()));
  for (std::string& code : *event->mutable_target_countries()) {
    absl::AsciiStrToUpper(&code);
  }
  for (std::string& code : *event->mutable_target_languages()) {
    absl::AsciiStrToLower(&code);
  }
  for (v1::Session& session : *event->mutable_sessions()) {
    if (session.kind() == v1::SESSION_KIND_UNSPECIFIED) {
      session.set_kind(v1::SESSION);
    }
    session.set_occurrence(0);
  }
}

// Long by design: one check per field, in field order, so that every bad field
// is named at once.
void ValidateEvent(const Event& event, FieldViolations* violations) {
  if (event.type() == v1::EVENT_TYPE_UNSPECIFIED ||
      !v1::EventType_IsValid(event.type())) {
    violations->Add("event.type",
                    "is required (BRIEFING_SESSION, FAM_TOUR, "
                    "TRAINING, ...)");
  }
  ValidateLocalizedTexts(event.title(), "event.title", kMaxTextLength, true,
                         violations);
  ValidateLocalizedTexts(event.description(), "event.description",
                         kMaxDescriptionLength, false, violations);
  ValidateLength(event.organizer(), "event.organizer", 200, violations);
  ValidateLength(event.venue(), "event.venue", 200, violations);
  ValidateLength(event.room(), "event.room", 200, violations);
  ValidateLength(event.city(), "event.city", 200, violations);

  absl::flat_hash_set<int64_t> hosts;
  for (int i = 0; i < event.host_partner_ids_size(); ++i) {
    const int64_t id = event.host_partner_ids(i);
    const std::string field = absl::StrCat("event.host_partner_ids[", i, "]");
    if (id <= 0) {
      violations->Add(field, "must be a registry partner id (> 0)");
    } else if (!hosts.insert(id).second) {
      violations->Add(field, absl::StrCat("partner ", id, " is listed twice"));
    }
  }
  if (!IsCountryCode(event.country())) {
    violations->Add("event.country", absl::StrCat("'", event.country(),
                                                  "' is not an ISO 3166-1 "
                                                  "alpha-2 code"));
  }
  for (int i = 0; i < event.target_countries_size(); ++i) {
    if (!IsCountryCode(event.target_countries(i))) {
      violations->Add(absl::StrCat("event.target_countries[", i, "]"),
                      absl::StrCat("'", event.target_countries(i),
                                   "' is not an ISO 3166-1 alpha-2 code"));
    }
  }
  for (int i = 0; i < event.target_languages_size(); ++i) {
    if (!IsLanguageCode(event.target_languages(i))) {
      violations->Add(absl::StrCat("event.target_languages[", i, "]"),
                      absl::StrCat("'", event.target_languages(i),
                                   "' is not an ISO 639-1 code"));
    }
  }
  if (event.capacity() < 0 || event.capacity() > kMaxCapacity) {
    violations->Add("event.capacity",
                    absl::StrCat("must be 0 (no limit) to ", kMaxCapacity));
  }

  absl::StatusOr<absl::TimeZone> zone = LoadZone(event.time_zone());
  if (!zone.ok()) {
    violations->Add("event.time_zone", std::string(zone.status().message()));
  }
  const bool span_ok =
      ValidateSpan(event.start_time(), event.end_time(), "event.start_time",
                   "event.end_time", violations);
  const absl::Time start = ToTime(event.start_time());
  const absl::Time end = ToTime(event.end_time());
  if (span_ok && end - start > kMaxEventSpan) {
    violations->Add("event.end_time", "the event spans more than 400 days");
  }
  if (HasTime(event.registration_opens()) &&
      HasTime(event.registration_closes()) &&
      ToTime(event.registration_closes()) <=
          ToTime(event.registration_opens())) {
    violations->Add("event.registration_closes",
                    "must be after registration_opens");
  }
  if (span_ok && HasTime(event.registration_closes()) &&
      ToTime(event.registration_closes()) > end) {
    violations->Add("event.registration_closes",
                    "must not be after the event's end_time");
  }

  if (event.sessions_size() > kMaxSessions) {
    violations->Add("event.sessions",
                    absl::StrCat("at most ", kMaxSessions, " sessions"));
  }
  absl::flat_hash_set<int64_t> session_ids;
  for (int i = 0; i < event.sessions_size(); ++i) {
    const v1::Session& s = event.sessions(i);
    const std::string field = absl::StrCat("event.sessions[", i, "]");
    if (s.id() < 0 || (s.id() > 0 && !session_ids.insert(s.id()).second)) {
      violations->Add(field + ".id", "is negative or repeated");
    }
    if (!v1::SessionKind_IsValid(s.kind())) {
      violations->Add(field + ".kind", "is not a session kind");
    }
    ValidateLocalizedTexts(s.title(), field + ".title", kMaxTextLength, false,
                           violations);
    ValidateLength(s.venue(), field + ".venue", 200, violations);
    ValidateLength(s.room(), field + ".room", 200, violations);
    if (s.host_partner_id() < 0) {
      violations->Add(field + ".host_partner_id", "must be >= 0");
    }
    if (ValidateSpan(s.start_time(), s.end_time(), field + ".start_time",
                     field + ".end_time", violations) &&
        span_ok &&
        (ToTime(s.start_time()) < start || ToTime(s.end_time()) > end)) {
      violations->Add(field, "lies outside the event's start and end");
    }
  }

  std::vector<v1::Session> occurrences;
  if (event.has_recurrence()) {
    const v1::Recurrence& r = event.recurrence();
    ValidateLocalizedTexts(r.title(), "event.recurrence.title", kMaxTextLength,
                           false, violations);
    ValidateLength(r.room(), "event.recurrence.room", 200, violations);
    if (ValidateSpan(r.first_start_time(), r.first_end_time(),
                     "event.recurrence.first_start_time",
                     "event.recurrence.first_end_time", violations) &&
        zone.ok()) {
      absl::StatusOr<std::vector<v1::Session>> expanded =
          ExpandRecurrence(r, *zone);
      if (!expanded.ok()) {
        for (const FieldViolation& v : GetFieldViolations(expanded.status())) {
          violations->Add(v.field, v.description);
        }
      } else if (span_ok) {
        for (const v1::Session& o : *expanded) {
          if (ToTime(o.start_time()) < start || ToTime(o.end_time()) > end) {
            violations->Add(
                "event.recurrence",
                absl::StrCat("occurrence ", o.occurrence(), " (",
                             LocalDateTime(ToTime(o.start_time()), *zone),
                             ") lies outside the event's start and end"));
            break;
          }
        }
      }
    }
  }

  if (violations->empty() && zone.ok()) {
    Event expanded = event;
    if (event.has_recurrence()) {
      absl::StatusOr<std::vector<v1::Session>> o =
          ExpandRecurrence(event.recurrence(), *zone);
      if (o.ok()) {
        for (v1::Session& s : *o) *expanded.add_occurrences() = std::move(s);
      }
    }
    CheckInternalConflicts(SlotsOf(expanded), violations);
  }
}

bool TransitionAllowed(v1::EventState from, v1::EventState to) {
  switch (to) {
    case v1::PUBLISHED:
      return from == v1::DRAFT || from == v1::POSTPONED;
    case v1::COMPLETED:
      return from == v1::PUBLISHED || from == v1::POSTPONED;
    case v1::CANCELLED:
      return from == v1::DRAFT || from == v1::PUBLISHED ||
             from == v1::POSTPONED;
    case v1::POSTPONED:
      return from == v1::PUBLISHED || from == v1::POSTPONED;
    default:
      return false;
  }
}

bool AcceptsRegistrations(v1::EventState state) {
  return state == v1::PUBLISHED || state == v1::POSTPONED;
}

absl::Status CheckRegistrationWindow(const v1::Event& event, absl::Time now) {
  if (!AcceptsRegistrations(event.state())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "registration.event_id: event ", event.id(), " is ",
        v1::EventState_Name(event.state()),
        "; registrations are taken while it is PUBLISHED or POSTPONED"));
  }
  absl::StatusOr<absl::TimeZone> zone = LoadZone(event.time_zone());
  if (!zone.ok()) return zone.status();
  const absl::Time closes = event.has_registration_closes()
                                ? ToTime(event.registration_closes())
                                : ToTime(event.start_time());
  if (event.has_registration_opens() &&
      now < ToTime(event.registration_opens())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event.registration_opens: registration for event ", event.id(),
        " opens at ", LocalDateTime(ToTime(event.registration_opens()), *zone),
        " ", event.time_zone()));
  }
  if (now >= closes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event.registration_closes: registration for event ", event.id(),
        " closed at ", LocalDateTime(closes, *zone), " ", event.time_zone()));
  }
  return absl::OkStatus();
}

bool Editable(v1::EventState state) {
  return state == v1::DRAFT || state == v1::PUBLISHED || state == v1::POSTPONED;
}

// Long by design: one branch per RRULE part.
absl::StatusOr<RecurrenceRule> ParseRecurrenceRule(absl::string_view rule) {
  RecurrenceRule out;
  bool has_frequency = false;
  if (absl::StripAsciiWhitespace(rule).empty()) {
    return absl::InvalidArgumentError("is required, e.g. FREQ=WEEKLY;COUNT=10");
  }
  if (rule.size() > kMaxRuleLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("is longer than ", kMaxRuleLength, " bytes"));
  }
  for (absl::string_view part : absl::StrSplit(rule, ';', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    const std::string key = absl::AsciiStrToUpper(kv.first);
    const std::string value = absl::AsciiStrToUpper(kv.second);
    if (key == "FREQ") {
      has_frequency = true;
      if (value == "DAILY") {
        out.frequency = RecurrenceRule::Frequency::kDaily;
      } else if (value == "WEEKLY") {
        out.frequency = RecurrenceRule::Frequency::kWeekly;
      } else if (value == "MONTHLY") {
        out.frequency = RecurrenceRule::Frequency::kMonthly;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("FREQ=", value,
                         " is not supported (DAILY, WEEKLY, "
                         "MONTHLY)"));
      }
    } else if (key == "INTERVAL") {
      if (!absl::SimpleAtoi(value, &out.interval) || out.interval < 1 ||
          out.interval > 52) {
        return absl::InvalidArgumentError("INTERVAL must be 1 to 52");
      }
    } else if (key == "COUNT") {
      if (!absl::SimpleAtoi(value, &out.count) || out.count < 1 ||
          out.count > kMaxOccurrences) {
        return absl::InvalidArgumentError(
            absl::StrCat("COUNT must be 1 to ", kMaxOccurrences));
      }
    } else if (key == "UNTIL") {
      // YYYYMMDD or YYYYMMDDTHHMMSS[Z]: the date part bounds local dates.
      const std::string date = value.substr(0, 8);
      std::optional<absl::CivilDay> day;
      if (date.size() == 8) {
        day = ParseDate(absl::StrCat(date.substr(0, 4), "-", date.substr(4, 2),
                                     "-", date.substr(6, 2)));
      }
      if (!day) {
        return absl::InvalidArgumentError(
            absl::StrCat("UNTIL=", value, " is not a date (YYYYMMDD)"));
      }
      out.until = *day;
    } else if (key == "BYDAY") {
      for (absl::string_view name : absl::StrSplit(value, ',')) {
        std::optional<absl::Weekday> day = ParseWeekday(name);
        if (!day) {
          return absl::InvalidArgumentError(
              absl::StrCat("BYDAY value '", name, "' is not MO..SU"));
        }
        if (std::find(out.by_day.begin(), out.by_day.end(), *day) !=
            out.by_day.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("BYDAY names ", name, " twice"));
        }
        out.by_day.push_back(*day);
      }
    } else if (key == "WKST") {
      if (value != "MO") {
        return absl::InvalidArgumentError("only WKST=MO is supported");
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(key,
                       " is not supported (FREQ, INTERVAL, COUNT, UNTIL, "
                       "BYDAY)"));
    }
  }
  if (!has_frequency) return absl::InvalidArgumentError("FREQ is required");
  if ((out.count > 0) == out.until.has_value()) {
    return absl::InvalidArgumentError(
        "exactly one of COUNT and UNTIL is "
        "required");
  }
  if (!out.by_day.empty() &&
      out.frequency != RecurrenceRule::Frequency::kWeekly) {
    return absl::InvalidArgumentError("BYDAY is supported with FREQ=WEEKLY");
  }
  return out;
}

// Long by design: RFC 5545 expansion: one loop over candidate dates with each
// rule part as a filter.
absl::StatusOr<std::vector<v1::Session>> ExpandRecurrence(
    const v1::Recurrence& recurrence, absl::TimeZone zone) {
  absl::StatusOr<RecurrenceRule> rule = ParseRecurrenceRule(recurrence.rule());
  if (!rule.ok()) {
    return InvalidField("event.recurrence.rule",
                        std::string(rule.status().message()));
  }
  const absl::Time first = ToTime(recurrence.first_start_time());
  const absl::Duration length = ToTime(recurrence.first_end_time()) - first;
  const absl::CivilSecond first_local = absl::ToCivilSecond(first, zone);
  const absl::CivilDay first_day(first_local);

  FieldViolations violations;
  std::set<absl::CivilDay> exceptions;
  for (int i = 0; i < recurrence.exception_dates_size(); ++i) {
    std::optional<absl::CivilDay> day =
        ParseDate(recurrence.exception_dates(i));
    if (!day) {
      violations.Add(absl::StrCat("event.recurrence.exception_dates[", i, "]"),
                     "is not a date (YYYY-MM-DD)");
    } else {
      exceptions.insert(*day);
    }
  }
  if (!violations.empty()) return violations.ToStatus();

  // Candidate days in order; COUNT counts them before exceptions are removed
  // (RFC 5545: EXDATE removes from the set the RRULE generates).
  std::vector<absl::CivilDay> days;
  auto accept = [&](absl::CivilDay day) {
    if (day < first_day) return true;
    if (rule->until && day > *rule->until) return false;
    if (rule->count > 0 && static_cast<int>(days.size()) >= rule->count) {
      return false;
    }
    days.push_back(day);
    return static_cast<int>(days.size()) <= kMaxOccurrences;
  };
  switch (rule->frequency) {
    case RecurrenceRule::Frequency::kDaily:
      for (absl::CivilDay d = first_day; accept(d); d += rule->interval) {
      }
      break;
    case RecurrenceRule::Frequency::kWeekly: {
      std::vector<int> weekdays;
      for (absl::Weekday w : rule->by_day) weekdays.push_back(MondayIndex(w));
      if (weekdays.empty()) {
        weekdays.push_back(MondayIndex(absl::GetWeekday(first_day)));
      }
      std::sort(weekdays.begin(), weekdays.end());
      weekdays.erase(std::unique(weekdays.begin(), weekdays.end()),
                     weekdays.end());
      // In iCalendar the DTSTART is always an occurrence; a first start on
      // a day the rule does not name would export differently from what is
      // stored here, so it is refused.
      if (!std::binary_search(weekdays.begin(), weekdays.end(),
                              MondayIndex(absl::GetWeekday(first_day)))) {
        return InvalidField(
            "event.recurrence.first_start_time",
            absl::StrCat("falls on a ",
                         WeekdayCode(absl::GetWeekday(first_day)),
                         ", which the rule's BYDAY does not include"));
      }
      const absl::CivilDay monday =
          first_day - MondayIndex(absl::GetWeekday(first_day));
      bool more = true;
      for (int week = 0; more; week += rule->interval) {
        for (int w : weekdays) {
          if (!(more = accept(monday + week * 7 + w))) break;
        }
      }
      break;
    }
    case RecurrenceRule::Frequency::kMonthly:
      for (int k = 0;; k += rule->interval) {
        const absl::CivilMonth month = absl::CivilMonth(first_day) + k;
        const absl::CivilDay day(month.year(), month.month(), first_day.day());
        // Months without that day (the 31st) are skipped, per RFC 5545.
        if (day.day() != first_day.day()) continue;
        if (!accept(day)) break;
        if (k > 12 * 40) break;
      }
      break;
  }
  if (static_cast<int>(days.size()) > kMaxOccurrences) {
    return InvalidField(
        "event.recurrence.rule",
        absl::StrCat("gives more than ", kMaxOccurrences, " occurrences"));
  }
  std::set<absl::CivilDay> unused = exceptions;
  std::vector<v1::Session> out;
  for (size_t i = 0; i < days.size(); ++i) {
    if (exceptions.count(days[i]) > 0) {
      unused.erase(days[i]);
      continue;
    }
    const absl::CivilSecond local(days[i].year(), days[i].month(),
                                  days[i].day(), first_local.hour(),
                                  first_local.minute(), first_local.second());
    const absl::Time start = absl::FromCivil(local, zone);
    v1::Session session;
    session.set_kind(v1::SESSION);
    *session.mutable_title() = recurrence.title();
    *session.mutable_start_time() = ToTimestamp(start);
    *session.mutable_end_time() = ToTimestamp(start + length);
    session.set_room(recurrence.room());
    session.set_occurrence(static_cast<int32_t>(i + 1));
    out.push_back(std::move(session));
  }
  if (!unused.empty()) {
    return InvalidField("event.recurrence.exception_dates",
                        absl::StrCat(FormatDate(*unused.begin()),
                                     " is not a date of the rule"));
  }
  if (out.empty()) {
    return InvalidField("event.recurrence.rule", "gives no occurrences");
  }
  return out;
}

std::string VenueKey(absl::string_view venue, absl::string_view room) {
  const std::string r = Canonical(room);
  if (r.empty()) return "";
  return HashToken(absl::StrCat(Canonical(venue), "\n", r));
}

std::vector<Slot> SlotsOf(const Event& event) {
  std::vector<Slot> slots;
  auto add = [&](const v1::Session& s, const std::string& field) {
    Slot slot;
    slot.start = ToTime(s.start_time());
    slot.end = ToTime(s.end_time());
    const bool own_venue = !s.venue().empty();
    const std::string& venue = own_venue ? s.venue() : event.venue();
    const std::string& room =
        own_venue || !s.room().empty() ? s.room() : event.room();
    if (!event.online() || own_venue) {
      slot.venue_key = VenueKey(venue, room);
      slot.venue_label = absl::StrCat(venue, room.empty() ? "" : " / ", room);
    }
    slot.host_partner_id = s.host_partner_id();
    slot.field = field;
    slots.push_back(std::move(slot));
  };
  for (int i = 0; i < event.sessions_size(); ++i) {
    add(event.sessions(i), absl::StrCat("event.sessions[", i, "]"));
  }
  for (int i = 0; i < event.occurrences_size(); ++i) {
    add(event.occurrences(i),
        absl::StrCat("event.recurrence (occurrence ",
                     event.occurrences(i).occurrence(), ")"));
  }
  if (slots.empty()) {
    v1::Session whole;
    *whole.mutable_start_time() = event.start_time();
    *whole.mutable_end_time() = event.end_time();
    add(whole, "event");
  }
  return slots;
}

void CheckInternalConflicts(const std::vector<Slot>& slots,
                            FieldViolations* violations) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  for (size_t i = 0; i < slots.size(); ++i) {
    for (size_t j = i + 1; j < slots.size(); ++j) {
      const Slot& a = slots[i];
      const Slot& b = slots[j];
      if (!(a.start < b.end && b.start < a.end)) continue;
      if (!a.venue_key.empty() && a.venue_key == b.venue_key) {
        violations->Add(b.field, absl::StrCat("room '", b.venue_label,
                                              "' is already used by ",
                                              Describe(a, utc), " (UTC)"));
      } else if (a.host_partner_id != 0 &&
                 a.host_partner_id == b.host_partner_id) {
        violations->Add(b.field, absl::StrCat("partner ", b.host_partner_id,
                                              " already hosts ",
                                              Describe(a, utc), " (UTC)"));
      }
    }
  }
}

void ValidateRegistration(const Registration& registration, const Event& event,
                          FieldViolations* violations) {
  if (registration.event_id() <= 0) {
    violations->Add("registration.event_id", "is required");
  }
  if (absl::StripAsciiWhitespace(registration.name()).empty()) {
    violations->Add("registration.name", "is required");
  }
  ValidateLength(registration.name(), "registration.name", 200, violations);
  ValidateLength(registration.organization(), "registration.organization", 200,
                 violations);
  ValidateLength(registration.note(), "registration.note", 2000, violations);
  if (registration.partner_id() < 0) {
    violations->Add("registration.partner_id", "must be >= 0");
  }
  if (!registration.country().empty() &&
      !IsCountryCode(registration.country())) {
    violations->Add("registration.country",
                    absl::StrCat("'", registration.country(),
                                 "' is not an ISO 3166-1 alpha-2 code"));
  }
  for (int i = 0; i < registration.languages_size(); ++i) {
    if (!IsLanguageCode(registration.languages(i))) {
      violations->Add(absl::StrCat("registration.languages[", i, "]"),
                      absl::StrCat("'", registration.languages(i),
                                   "' is not an ISO 639-1 code"));
    }
  }
  // Mail to the person must be writable: a plain ASCII address.
  if (!registration.email().empty() && !IsMailAddress(registration.email())) {
    violations->Add("registration.email",
                    "is not an e-mail address mail can be sent to "
                    "(name@example.com, ASCII)");
  }
  if (!registration.phone().empty() && !IsPhoneNumber(registration.phone())) {
    violations->Add("registration.phone",
                    "is not a phone number (6-30 of 0-9 + ( ) space . -)");
  }
  if (!registration.language().empty() &&
      !IsMailLanguage(registration.language())) {
    violations->Add("registration.language",
                    absl::StrCat("'", registration.language(),
                                 "' is not one of ko, en, zh, mn, ru, vi"));
  }
  std::vector<const v1::Session*> chosen;
  absl::flat_hash_set<int64_t> seen;
  for (int i = 0; i < registration.session_ids_size(); ++i) {
    const int64_t id = registration.session_ids(i);
    const std::string field = absl::StrCat("registration.session_ids[", i, "]");
    if (!seen.insert(id).second) {
      violations->Add(field, absl::StrCat("session ", id, " is listed twice"));
      continue;
    }
    const v1::Session* found = nullptr;
    for (const v1::Session& s : event.sessions()) {
      if (s.id() == id) found = &s;
    }
    if (found == nullptr) {
      violations->Add(
          field, absl::StrCat("event ", event.id(), " has no session ", id));
      continue;
    }
    for (const v1::Session* other : chosen) {
      if (ToTime(other->start_time()) < ToTime(found->end_time()) &&
          ToTime(found->start_time()) < ToTime(other->end_time())) {
        violations->Add(field, absl::StrCat("session ", id,
                                            " overlaps session ", other->id(),
                                            ": one person cannot attend both"));
      }
    }
    chosen.push_back(found);
  }
}

bool IsMailLanguage(absl::string_view language) {
  for (absl::string_view known : {"ko", "en", "zh", "mn", "ru", "vi"}) {
    if (language == known) return true;
  }
  return false;
}

std::string PersonKey(const Registration& registration) {
  if (!registration.email().empty()) {
    return HashToken(absl::StrCat("email\n", Canonical(registration.email())));
  }
  return HashToken(absl::StrCat("person\n", Canonical(registration.name()),
                                "\n", Canonical(registration.organization()),
                                "\n",
                                absl::AsciiStrToUpper(registration.country())));
}

std::string PrimaryText(
    const google::protobuf::Map<std::string, std::string>& texts) {
  for (const char* locale : {"ko", "en"}) {
    auto it = texts.find(locale);
    if (it != texts.end() && !it->second.empty()) return it->second;
  }
  std::set<std::string> locales;
  for (const auto& [locale, text] : texts) locales.insert(locale);
  return locales.empty() ? "" : texts.at(*locales.begin());
}

}  // namespace smz::events
