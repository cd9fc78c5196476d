#include "services/events/icalendar.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/iso_codes.h"
#include "services/events/event_rules.h"

namespace smz::events {
namespace {

constexpr absl::string_view kUidDomain = "events.smz.ydp";

std::string Utc(absl::Time t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone());
}

std::string Local(absl::CivilSecond t) {
  return absl::StrFormat("%04d%02d%02dT%02d%02d%02d", t.year(), t.month(),
                         t.day(), t.hour(), t.minute(), t.second());
}

std::string Offset(int seconds) {
  const char sign = seconds < 0 ? '-' : '+';
  seconds = std::abs(seconds);
  std::string out =
      absl::StrFormat("%c%02d%02d", sign, seconds / 3600, seconds / 60 % 60);
  if (seconds % 60 != 0) absl::StrAppendFormat(&out, "%02d", seconds % 60);
  return out;
}

void Line(std::string* out, absl::string_view name, absl::string_view value) {
  AppendFolded(absl::StrCat(name, ":", value), out);
}

// The zone's rules over [from, to]: the offset in force at `from`, then
// every transition up to `to`.
void AppendTimeZone(const std::string& name, absl::Time from, absl::Time to,
                    std::string* out) {
  absl::TimeZone zone = *LoadZone(name);
  Line(out, "BEGIN", "VTIMEZONE");
  Line(out, "TZID", name);
  auto component = [&](absl::CivilSecond onset, int offset_from,
                       const absl::TimeZone::CivilInfo& after) {
    const char* kind = after.is_dst ? "DAYLIGHT" : "STANDARD";
    Line(out, "BEGIN", kind);
    Line(out, "DTSTART", Local(onset));
    Line(out, "TZOFFSETFROM", Offset(offset_from));
    Line(out, "TZOFFSETTO", Offset(after.offset));
    Line(out, "TZNAME", EscapeText(after.zone_abbr));
    Line(out, "END", kind);
  };
  const absl::TimeZone::CivilInfo initial = zone.At(from);
  component(initial.cs, initial.offset, initial);
  absl::Time t = from;
  absl::TimeZone::CivilTransition transition;
  for (int guard = 0; guard < 1000 && zone.NextTransition(t, &transition);
       ++guard) {
    const absl::Time at = zone.At(transition.to).trans;
    if (at > to || at <= t) break;
    const absl::TimeZone::CivilInfo before = zone.At(at - absl::Seconds(1));
    component(transition.from, before.offset, zone.At(at));
    t = at;
  }
  Line(out, "END", "VTIMEZONE");
}

std::string Status(v1::EventState state) {
  switch (state) {
    case v1::CANCELLED:
      return "CANCELLED";
    case v1::DRAFT:
      return "TENTATIVE";
    default:
      return "CONFIRMED";
  }
}

std::string Location(const v1::Event& event, const std::string& venue,
                     const std::string& room) {
  std::vector<std::string> parts;
  if (event.online() && venue.empty()) parts.push_back("Online");
  for (const std::string* p : {&venue, &room, &event.city()}) {
    if (!p->empty()) parts.push_back(*p);
  }
  if (const IsoCode* country = FindCountry(event.country())) {
    parts.push_back(std::string(country->name_en));
  }
  return absl::StrJoin(parts, ", ");
}

std::string Description(const v1::Event& event) {
  std::vector<std::string> parts;
  std::map<std::string, std::string> titles(event.title().begin(),
                                            event.title().end());
  std::map<std::string, std::string> texts(event.description().begin(),
                                           event.description().end());
  for (const auto& [locale, title] : titles) {
    if (title != PrimaryText(event.title())) {
      parts.push_back(absl::StrCat("[", locale, "] ", title));
    }
  }
  for (const auto& [locale, text] : texts) {
    parts.push_back(absl::StrCat("[", locale, "] ", text));
  }
  if (!event.organizer().empty()) {
    parts.push_back(absl::StrCat("Organizer: ", event.organizer()));
  }
  if (event.state() == v1::POSTPONED && event.has_original_start_time()) {
    parts.push_back(absl::StrCat(
        "Postponed from ",
        LocalDateTime(ToTime(event.original_start_time()),
                      *LoadZone(event.time_zone())),
        event.state_reason().empty() ? "" : ": ", event.state_reason()));
  }
  if (event.state() == v1::CANCELLED && !event.state_reason().empty()) {
    parts.push_back(absl::StrCat("Cancelled: ", event.state_reason()));
  }
  return absl::StrJoin(parts, "\n");
}

void AppendLocalTime(std::string* out, absl::string_view property, absl::Time t,
                     const std::string& zone_name, absl::TimeZone zone) {
  Line(out, absl::StrCat(property, ";TZID=", zone_name),
       Local(absl::ToCivilSecond(t, zone)));
}

void AppendCommon(const v1::Event& event, absl::Time now, std::string* out) {
  Line(out, "DTSTAMP", Utc(now));
  if (event.has_create_time()) {
    Line(out, "CREATED", Utc(ToTime(event.create_time())));
  }
  if (event.has_update_time()) {
    Line(out, "LAST-MODIFIED", Utc(ToTime(event.update_time())));
  }
  Line(out, "SEQUENCE", absl::StrCat(std::max<int64_t>(0, event.revision())));
  Line(out, "STATUS", Status(event.state()));
  Line(out, "CATEGORIES", v1::EventType_Name(event.type()));
}

std::string SummaryOf(
    const google::protobuf::Map<std::string, std::string>& own,
    const v1::Event& event) {
  const std::string text = PrimaryText(own);
  return EscapeText(text.empty() ? PrimaryText(event.title()) : text);
}

// The rule as RFC 5545 wants it with a zoned DTSTART: UNTIL as the UTC
// instant ending the local date.
std::string FormatRule(const RecurrenceRule& rule, absl::TimeZone zone) {
  std::vector<std::string> parts;
  switch (rule.frequency) {
    case RecurrenceRule::Frequency::kDaily:
      parts.push_back("FREQ=DAILY");
      break;
    case RecurrenceRule::Frequency::kWeekly:
      parts.push_back("FREQ=WEEKLY");
      break;
    case RecurrenceRule::Frequency::kMonthly:
      parts.push_back("FREQ=MONTHLY");
      break;
  }
  if (rule.interval != 1)
    parts.push_back(absl::StrCat("INTERVAL=", rule.interval));
  if (rule.count > 0) parts.push_back(absl::StrCat("COUNT=", rule.count));
  if (rule.until) {
    const absl::Time end_of_day =
        absl::FromCivil(*rule.until + 1, zone) - absl::Seconds(1);
    parts.push_back(absl::StrCat("UNTIL=", Utc(end_of_day)));
  }
  if (!rule.by_day.empty()) {
    static constexpr const char* kNames[] = {"MO", "TU", "WE", "TH",
                                             "FR", "SA", "SU"};
    std::vector<std::string> days;
    for (absl::Weekday day : rule.by_day) {
      const absl::CivilDay monday(2024, 1, 1);  // a Monday
      int index = 0;
      while (absl::GetWeekday(monday + index) != day) ++index;
      days.push_back(kNames[index]);
    }
    parts.push_back(absl::StrCat("BYDAY=", absl::StrJoin(days, ",")));
  }
  return absl::StrJoin(parts, ";");
}

void AppendEvent(const v1::Event& event, absl::Time now, std::string* out) {
  const absl::TimeZone zone = *LoadZone(event.time_zone());
  const std::string uid = absl::StrCat("event-", event.id(), "@", kUidDomain);
  Line(out, "BEGIN", "VEVENT");
  Line(out, "UID", uid);
  AppendCommon(event, now, out);
  AppendLocalTime(out, "DTSTART", ToTime(event.start_time()), event.time_zone(),
                  zone);
  AppendLocalTime(out, "DTEND", ToTime(event.end_time()), event.time_zone(),
                  zone);
  Line(out, "SUMMARY", SummaryOf(event.title(), event));
  const std::string description = Description(event);
  if (!description.empty()) Line(out, "DESCRIPTION", EscapeText(description));
  const std::string location = Location(event, event.venue(), event.room());
  if (!location.empty()) Line(out, "LOCATION", EscapeText(location));
  Line(out, "END", "VEVENT");

  for (const v1::Session& session : event.sessions()) {
    Line(out, "BEGIN", "VEVENT");
    Line(out, "UID",
         absl::StrCat("event-", event.id(), "-session-", session.id(), "@",
                      kUidDomain));
    AppendCommon(event, now, out);
    AppendLocalTime(out, "DTSTART", ToTime(session.start_time()),
                    event.time_zone(), zone);
    AppendLocalTime(out, "DTEND", ToTime(session.end_time()), event.time_zone(),
                    zone);
    Line(out, "SUMMARY", SummaryOf(session.title(), event));
    const std::string where =
        session.venue().empty()
            ? Location(event, event.venue(),
                       session.room().empty() ? event.room() : session.room())
            : Location(event, session.venue(), session.room());
    if (!where.empty()) Line(out, "LOCATION", EscapeText(where));
    Line(out, "RELATED-TO", uid);
    Line(out, "END", "VEVENT");
  }

  if (event.has_recurrence()) {
    const v1::Recurrence& r = event.recurrence();
    const absl::Time first = ToTime(r.first_start_time());
    const absl::CivilSecond first_local = absl::ToCivilSecond(first, zone);
    Line(out, "BEGIN", "VEVENT");
    Line(out, "UID",
         absl::StrCat("event-", event.id(), "-series@", kUidDomain));
    AppendCommon(event, now, out);
    AppendLocalTime(out, "DTSTART", first, event.time_zone(), zone);
    AppendLocalTime(out, "DTEND", ToTime(r.first_end_time()), event.time_zone(),
                    zone);
    Line(out, "RRULE", FormatRule(*ParseRecurrenceRule(r.rule()), zone));
    for (const std::string& date : r.exception_dates()) {
      // The local date at the series' local start time.
      const std::string compact =
          absl::StrCat(date.substr(0, 4), date.substr(5, 2), date.substr(8, 2));
      Line(out, absl::StrCat("EXDATE;TZID=", event.time_zone()),
           absl::StrFormat("%sT%02d%02d%02d", compact, first_local.hour(),
                           first_local.minute(), first_local.second()));
    }
    Line(out, "SUMMARY", SummaryOf(r.title(), event));
    const std::string where = Location(
        event, event.venue(), r.room().empty() ? event.room() : r.room());
    if (!where.empty()) Line(out, "LOCATION", EscapeText(where));
    Line(out, "RELATED-TO", uid);
    Line(out, "END", "VEVENT");
  }
}

}  // namespace

std::string EscapeText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        break;
      case '\t':
        out.push_back(c);
        break;
      default:
        // RFC 5545 TEXT admits no other control characters; one stored in
        // a description must not break the calendar line structure.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) break;
        out.push_back(c);
    }
  }
  return out;
}

void AppendFolded(absl::string_view line, std::string* out) {
  size_t width = 0;  // octets on the current physical line
  for (size_t i = 0; i < line.size();) {
    // The length of the UTF-8 character starting at i.
    const unsigned char lead = static_cast<unsigned char>(line[i]);
    size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    length = std::min(length, line.size() - i);
    if (width + length > 75) {
      out->append("\r\n ");
      width = 1;
    }
    out->append(line.data() + i, length);
    width += length;
    i += length;
  }
  out->append("\r\n");
}

std::string RenderCalendar(const std::vector<v1::Event>& events, absl::Time now,
                           absl::string_view calendar_name) {
  std::string out;
  Line(&out, "BEGIN", "VCALENDAR");
  Line(&out, "VERSION", "2.0");
  Line(&out, "PRODID", "-//Yeongdeungpo-gu Smart Medical Zone//smz events//EN");
  Line(&out, "CALSCALE", "GREGORIAN");
  Line(&out, "METHOD", "PUBLISH");
  if (!calendar_name.empty()) {
    Line(&out, "X-WR-CALNAME", EscapeText(calendar_name));
  }
  // Each zone once, covering every event in it.
  std::map<std::string, std::pair<absl::Time, absl::Time>> zones;
  for (const v1::Event& event : events) {
    const absl::Time start = ToTime(event.start_time()) - absl::Hours(24);
    absl::Time end = ToTime(event.end_time()) + absl::Hours(24);
    if (event.has_recurrence()) {
      end = std::max(end, ToTime(event.recurrence().first_end_time()));
    }
    auto [it, inserted] =
        zones.emplace(event.time_zone(), std::make_pair(start, end));
    if (!inserted) {
      it->second.first = std::min(it->second.first, start);
      it->second.second = std::max(it->second.second, end);
    }
  }
  for (const auto& [name, span] : zones) {
    AppendTimeZone(name, span.first, span.second, &out);
  }
  for (const v1::Event& event : events) AppendEvent(event, now, &out);
  Line(&out, "END", "VCALENDAR");
  return out;
}

}  // namespace smz::events
