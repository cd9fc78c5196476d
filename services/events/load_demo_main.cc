// events_load_demo: loads the zone's recorded activities (the district's
// 추진실적 2018-2022, deploy/demo/activities_2018_2022.csv) into a running
// events service as COMPLETED events, plus a few upcoming ones with
// registrations: a briefing session in Ulaanbaatar, a fam tour visiting
// partner hospitals, and a weekly training course. Everything goes through
// the public API with fixed request_ids, so running it again creates
// nothing. Records that are not events (ordinances, designations,
// milestones) are skipped. Times of day are not in the source: activities
// are entered as 10:00-17:00 local time on their dates.
//
//   events_load_demo --registry=127.0.0.1:50051 --events=127.0.0.1:50053
//     --token_file=.smz/secrets/admin.token
//     --csv=deploy/demo/activities_2018_2022.csv
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/clients/bearer_context.h"
#include "common/csv.h"
#include "common/request_fields.h"
#include "common/tls/tls_options.h"
#include "common/version.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/events/event_rules.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"

ABSL_FLAG(std::string, registry, "127.0.0.1:50051", "registry address");
ABSL_FLAG(std::string, events, "127.0.0.1:50053", "events address");
ABSL_FLAG(std::string, token_file, "", "file holding an ADMIN token");
ABSL_FLAG(std::string, csv, "deploy/demo/activities_2018_2022.csv",
          "activities CSV (start,end,title_ko,suggested_type,place_note)");

namespace {

namespace reg = ::smz::registry::v1;
namespace v1 = ::smz::events::v1;
using ::smz::events::LoadZone;
using ::smz::events::ToTimestamp;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Place {
  std::string time_zone = "Asia/Seoul";
  std::string country = "KR";
  std::string city = "Seoul";
  bool online = false;
};

// The place note of the seed ("Ulaanbaatar, MN", "online", "Yeouido", ...).
Place PlaceOf(const std::string& note) {
  Place place;
  if (note == "online") {
    place.online = true;
    return place;
  }
  if (note.empty()) return place;
  std::vector<std::string> parts =
      absl::StrSplit(note, ", ", absl::SkipWhitespace());
  if (parts.size() >= 2 && parts.back().size() == 2) {
    place.country = parts.back();
    place.city = parts[parts.size() - 2];
    if (place.country == "MN") place.time_zone = "Asia/Ulaanbaatar";
    if (place.country == "VN") place.time_zone = "Asia/Ho_Chi_Minh";
    if (place.country == "CN") place.time_zone = "Asia/Shanghai";
    return place;
  }
  place.city = note;
  return place;
}

std::optional<v1::EventType> TypeOf(const std::string& name) {
  if (name == "AWARD") return v1::OTHER;
  v1::EventType type;
  if (v1::EventType_Parse(name, &type)) return type;
  return std::nullopt;  // ORDINANCE, DESIGNATION, MILESTONE: not events
}

class Loader {
 public:
  Loader(std::string token, std::shared_ptr<grpc::Channel> events)
      : token_(std::move(token)), stub_(v1::EventsService::NewStub(events)) {}

  // Creates (or finds, on a rerun) an event and moves it to `target`.
  std::optional<v1::Event> Ensure(const v1::Event& event,
                                  const std::string& request_id,
                                  v1::EventState target) {
    v1::CreateEventRequest create;
    *create.mutable_event() = event;
    create.set_request_id(request_id);
    v1::EventResponse response;
    grpc::Status s = stub_->CreateEvent(
        smz::BearerContext(token_, smz::kBulkCallDeadline).get(), create,
        &response);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", request_id.c_str(),
                   s.error_message().c_str());
      return std::nullopt;
    }
    v1::Event current = response.event();
    if (current.state() == v1::DRAFT) {
      if (!Step("publish", current, &current)) return std::nullopt;
      ++created_;
    }
    if (target == v1::COMPLETED && current.state() == v1::PUBLISHED) {
      if (!Step("complete", current, &current)) return std::nullopt;
    }
    return current;
  }

  bool Register(const v1::Registration& registration,
                const std::string& request_id) {
    v1::CreateRegistrationRequest request;
    *request.mutable_registration() = registration;
    request.set_request_id(request_id);
    v1::RegistrationResponse response;
    grpc::Status s = stub_->CreateRegistration(
        smz::BearerContext(token_, smz::kBulkCallDeadline).get(), request,
        &response);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", request_id.c_str(),
                   s.error_message().c_str());
    }
    return s.ok();
  }

  v1::EventsService::Stub& stub() { return *stub_; }
  int created() const { return created_; }

 private:
  bool Step(const std::string& what, const v1::Event& event, v1::Event* out) {
    v1::TransitionRequest request;
    request.set_id(event.id());
    v1::EventResponse response;
    grpc::Status s =
        what == "publish"
            ? stub_->PublishEvent(
                  smz::BearerContext(token_, smz::kBulkCallDeadline).get(),
                  request, &response)
            : stub_->CompleteEvent(
                  smz::BearerContext(token_, smz::kBulkCallDeadline).get(),
                  request, &response);
    if (!s.ok()) {
      std::fprintf(stderr, "%s event %lld: %s\n", what.c_str(),
                   static_cast<long long>(event.id()),
                   s.error_message().c_str());
      return false;
    }
    *out = response.event();
    return true;
  }

  const std::string token_;
  std::unique_ptr<v1::EventsService::Stub> stub_;
  int created_ = 0;
};

absl::Time LocalTime(const std::string& zone, absl::CivilDay day, int hour,
                     int minute = 0) {
  return absl::FromCivil(
      absl::CivilSecond(day.year(), day.month(), day.day(), hour, minute, 0),
      *LoadZone(zone));
}

}  // namespace

// Long by design: a script: it loads the demo data set step by step, in the
// order a reader follows it.
int main(int argc, char** argv) {
  smz::InstallVersionFlag();
  absl::ParseCommandLine(argc, argv);
  // TLS when the services use it (SMZ_TLS_* or the --tls_* flags).
  absl::StatusOr<smz::TlsOptions> tls = smz::LoadTlsOptions();
  if (!tls.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tls.status().message()).c_str());
    return 2;
  }
  const std::string token(
      absl::StripAsciiWhitespace(ReadFile(absl::GetFlag(FLAGS_token_file))));
  if (token.empty()) {
    std::fprintf(stderr, "no token in --token_file\n");
    return 2;
  }
  absl::StatusOr<smz::CsvTable> table =
      smz::ParseCsv(ReadFile(absl::GetFlag(FLAGS_csv)));
  if (!table.ok()) {
    std::fprintf(stderr, "%s: %s\n", absl::GetFlag(FLAGS_csv).c_str(),
                 std::string(table.status().message()).c_str());
    return 2;
  }
  Loader loader(token, grpc::CreateChannel(absl::GetFlag(FLAGS_events),
                                           smz::ChannelCredentialsFor(*tls)));

  // The record: completed events, counted per type and year as expected.
  std::map<std::pair<int, int>, int> expected;  // (year, type) -> count
  int failures = 0;
  int skipped = 0;
  for (size_t i = 0; i < table->rows.size(); ++i) {
    const smz::CsvRow& row = table->rows[i];
    std::optional<v1::EventType> type =
        TypeOf(std::string(table->Get(row, "suggested_type")));
    std::optional<absl::CivilDay> start =
        smz::ParseDate(table->Get(row, "start"));
    std::optional<absl::CivilDay> end = smz::ParseDate(table->Get(row, "end"));
    if (!type || !start || !end) {
      ++skipped;
      continue;
    }
    const Place place = PlaceOf(std::string(table->Get(row, "place_note")));
    v1::Event event;
    event.set_type(*type);
    (*event.mutable_title())["ko"] = std::string(table->Get(row, "title_ko"));
    event.set_organizer(
        "영등포구 보건소 (Yeongdeungpo-gu Public Health Center)");
    event.set_time_zone(place.time_zone);
    event.set_country(place.country);
    event.set_city(place.city);
    event.set_online(place.online);
    *event.mutable_start_time() =
        ToTimestamp(LocalTime(place.time_zone, *start, 10));
    *event.mutable_end_time() =
        ToTimestamp(LocalTime(place.time_zone, *end, 17));
    if (!loader.Ensure(event, absl::StrCat("demo-activity-", i + 1),
                       v1::COMPLETED)) {
      ++failures;
      continue;
    }
    ++expected[{start->year(), *type}];
  }

  // Upcoming: anchored on the first Monday of next month, so reruns within
  // a month find the same events.
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), *LoadZone("Asia/Seoul"));
  absl::CivilDay anchor(absl::CivilMonth(today) + 1);
  while (absl::GetWeekday(anchor) != absl::Weekday::monday) ++anchor;
  const std::string tag = absl::FormatCivilTime(absl::CivilMonth(anchor));

  auto registry = reg::RegistryService::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_registry), smz::ChannelCredentialsFor(*tls)));
  reg::ListPartnersRequest list;
  list.set_kind(reg::SPECIALIZED_OPERATOR);
  list.set_status(reg::ACTIVE);
  list.set_page_size(3);
  reg::ListPartnersResponse partners;
  grpc::Status s = registry->ListPartners(
      smz::BearerContext(token, smz::kBulkCallDeadline).get(), list, &partners);
  if (!s.ok()) {
    std::fprintf(stderr, "registry: %s\n", s.error_message().c_str());
    return 1;
  }

  v1::Event briefing;
  briefing.set_type(v1::BRIEFING_SESSION);
  (*briefing.mutable_title())["ko"] = "몽골 울란바토르 영등포 의료관광 설명회";
  (*briefing.mutable_title())["en"] =
      "Yeongdeungpo medical tourism briefing, Ulaanbaatar";
  (*briefing.mutable_title())["mn"] =
      "Ёондынпо эрүүл мэндийн аялал жуулчлалын танилцуулга";
  briefing.set_organizer("영등포구 보건소");
  briefing.set_venue("Shangri-La Ulaanbaatar");
  briefing.set_room("Grand Ballroom");
  briefing.set_city("Ulaanbaatar");
  briefing.set_country("MN");
  briefing.set_time_zone("Asia/Ulaanbaatar");
  briefing.add_target_countries("MN");
  briefing.add_target_languages("mn");
  briefing.add_target_languages("ru");
  briefing.set_capacity(8);
  // On the public pages (/public/events), where anyone signs up.
  briefing.set_open_to_public(true);
  *briefing.mutable_start_time() =
      ToTimestamp(LocalTime("Asia/Ulaanbaatar", anchor + 3, 14));
  *briefing.mutable_end_time() =
      ToTimestamp(LocalTime("Asia/Ulaanbaatar", anchor + 3, 18));
  for (const reg::Partner& p : partners.partners()) {
    briefing.add_host_partner_ids(p.id());
  }
  std::optional<v1::Event> ub =
      loader.Ensure(briefing, absl::StrCat("demo-upcoming-", tag, "-briefing"),
                    v1::PUBLISHED);
  if (!ub) ++failures;

  v1::Event tour;
  tour.set_type(v1::FAM_TOUR);
  (*tour.mutable_title())["ko"] = "해외 유치업체 초청 영등포 의료관광 팸투어";
  (*tour.mutable_title())["en"] = "Fam tour for overseas agencies";
  tour.set_organizer("영등포구 보건소");
  tour.set_city("Yeongdeungpo");
  tour.set_capacity(12);
  tour.add_target_countries("MN");
  tour.add_target_countries("VN");
  tour.add_target_countries("RU");
  *tour.mutable_start_time() =
      ToTimestamp(LocalTime("Asia/Seoul", anchor + 14, 9));
  *tour.mutable_end_time() =
      ToTimestamp(LocalTime("Asia/Seoul", anchor + 14, 18));
  for (int i = 0; i < partners.partners_size(); ++i) {
    const reg::Partner& p = partners.partners(i);
    v1::Session* stop = tour.add_sessions();
    stop->set_kind(v1::VISIT);
    stop->set_host_partner_id(p.id());
    auto name = p.name().find("ko");
    stop->set_venue(name != p.name().end() ? name->second : "partner");
    (*stop->mutable_title())["ko"] = "병원 시설 견학 및 상담";
    *stop->mutable_start_time() =
        ToTimestamp(LocalTime("Asia/Seoul", anchor + 14, 10 + 2 * i));
    *stop->mutable_end_time() =
        ToTimestamp(LocalTime("Asia/Seoul", anchor + 14, 11 + 2 * i, 30));
  }
  std::optional<v1::Event> fam = loader.Ensure(
      tour, absl::StrCat("demo-upcoming-", tag, "-famtour"), v1::PUBLISHED);
  if (!fam) ++failures;

  v1::Event course;
  course.set_type(v1::TRAINING);
  (*course.mutable_title())["ko"] = "의료관광 코디네이터 전문인력 양성과정";
  (*course.mutable_title())["en"] = "Medical tourism coordinator course";
  course.set_organizer("영등포구 보건소");
  course.set_venue("영등포구 의료관광 안내센터");
  course.set_room("교육장");
  course.set_capacity(20);
  *course.mutable_start_time() =
      ToTimestamp(LocalTime("Asia/Seoul", anchor + 1, 0));
  *course.mutable_end_time() =
      ToTimestamp(LocalTime("Asia/Seoul", anchor + 1 + 7 * 6, 0));
  v1::Recurrence* weekly = course.mutable_recurrence();
  weekly->set_rule("FREQ=WEEKLY;BYDAY=TU;COUNT=6");
  *weekly->mutable_first_start_time() =
      ToTimestamp(LocalTime("Asia/Seoul", anchor + 1, 19));
  *weekly->mutable_first_end_time() =
      ToTimestamp(LocalTime("Asia/Seoul", anchor + 1, 21));
  weekly->add_exception_dates(smz::FormatDate(anchor + 1 + 7 * 3));
  std::optional<v1::Event> training = loader.Ensure(
      course, absl::StrCat("demo-upcoming-", tag, "-course"), v1::PUBLISHED);
  if (!training) ++failures;

  // Registrations: agencies from the target countries, and partners' staff.
  // The briefing has 8 seats for 10 people, so two wait.
  if (ub) {
    const char* kPeople[][3] = {{"Bat-Erdene", "Mongol Medical Travel", "MN"},
                                {"Oyunchimeg", "Khan Tour", "MN"},
                                {"Tuvshin", "Altai Health Agency", "MN"},
                                {"Sarnai", "Blue Sky Travel", "MN"},
                                {"Enkhjin", "UB Care Link", "MN"},
                                {"Munkh-Orgil", "Gobi Medical", "MN"},
                                {"Nomin", "Steppe Wellness", "MN"},
                                {"Ganbold", "Eternal Sky Tours", "MN"},
                                {"Anar", "Orkhon Travel", "MN"},
                                {"Dulguun", "Silk Road Health", "MN"}};
    for (int i = 0; i < 10; ++i) {
      v1::Registration r;
      r.set_event_id(ub->id());
      r.set_name(kPeople[i][0]);
      r.set_organization(kPeople[i][1]);
      r.set_country(kPeople[i][2]);
      r.add_languages("mn");
      r.set_email(absl::StrCat("agent", i + 1, "@example.mn"));
      if (!loader.Register(r, absl::StrCat("demo-", tag, "-ub-", i + 1))) {
        ++failures;
      }
    }
  }
  if (fam) {
    const char* kAgents[][3] = {{"Nguyen Van An", "Saigon Health Travel", "VN"},
                                {"Tran Thi Mai", "Mekong Care", "VN"},
                                {"Olga Ivanova", "Vladivostok MedTour", "RU"}};
    for (int i = 0; i < 3; ++i) {
      v1::Registration r;
      r.set_event_id(fam->id());
      r.set_name(kAgents[i][0]);
      r.set_organization(kAgents[i][1]);
      r.set_country(kAgents[i][2]);
      r.add_languages(std::string(kAgents[i][2]) == "VN" ? "vi" : "ru");
      r.set_email(absl::StrCat("famtour", i + 1, "@example.com"));
      if (!loader.Register(r, absl::StrCat("demo-", tag, "-fam-", i + 1))) {
        ++failures;
      }
    }
  }
  if (training) {
    for (int i = 0; i < partners.partners_size(); ++i) {
      v1::Registration r;
      r.set_event_id(training->id());
      r.set_partner_id(partners.partners(i).id());
      r.set_name(absl::StrCat("국제진료센터 코디네이터 ", i + 1));
      r.set_organization(partners.partners(i).name().count("ko")
                             ? partners.partners(i).name().at("ko")
                             : "");
      r.set_country("KR");
      if (!loader.Register(r, absl::StrCat("demo-", tag, "-course-", i + 1))) {
        ++failures;
      }
    }
  }

  // The service's KPI counts must match the record.
  v1::CountCompletedEventsRequest count;
  count.set_year_from(2018);
  count.set_year_to(2022);
  v1::CountCompletedEventsResponse counts;
  s = loader.stub().CountCompletedEvents(
      smz::BearerContext(token, smz::kBulkCallDeadline).get(), count, &counts);
  if (!s.ok()) {
    std::fprintf(stderr, "count: %s\n", s.error_message().c_str());
    return 1;
  }
  std::map<std::pair<int, int>, int> actual;
  for (const v1::EventCount& c : counts.counts()) {
    actual[{c.year(), c.type()}] += c.completed();
  }
  int briefings_2019 = actual[{2019, v1::BRIEFING_SESSION}];
  int trainings_2019 = actual[{2019, v1::TRAINING}];
  std::printf(
      "events demo: %d new events (%zu activities, %d not events); 2019: %d "
      "briefing sessions, %d training courses held\n",
      loader.created(), table->rows.size(), skipped, briefings_2019,
      trainings_2019);
  if (actual != expected) {
    std::fprintf(stderr, "completed-event counts differ from the record\n");
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
