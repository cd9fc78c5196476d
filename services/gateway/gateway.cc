#include "services/gateway/gateway.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/util/json_util.h"
#include "services/gateway/council_report.h"
#include "services/gateway/kpi_table.h"
#include "services/programme/programme_rules.h"

namespace smz::gateway {
namespace {

namespace pv1 = ::smz::programme::v1;
namespace ev1 = ::smz::events::v1;
namespace sv1 = ::smz::stats::v1;
namespace rv1 = ::smz::registry::v1;

constexpr int kPageSize = 200;
// Lists are paged; a zone has dozens of partners and projects, so this bound
// only stops a runaway loop.
constexpr int kMaxPages = 50;

// One backend call with the caller's credentials and its own deadline, e.g.
//   Call("stats", authorization, deadline, *stats_,
//        &sv1::StatsService::Stub::QueryAggregate, request);
// Errors name the backend: "stats: UNAVAILABLE: …".
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Call(absl::string_view backend,
                              const std::string& authorization,
                              absl::Duration deadline, Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                           const Request&,
                                                           Response*),
                              const Request& request) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", authorization);
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMicroseconds(deadline));
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) {
    const absl::Status error = FromGrpcStatus(status);
    return absl::Status(
        error.code(),
        absl::StrCat(backend, ": ", absl::StatusCodeToString(error.code()),
                     ": ", error.message()));
  }
  return response;
}

// Every page of a List call, merged by `append(into, page)`.
template <typename Stub, typename Request, typename Response, typename Append>
absl::StatusOr<Response> ListAll(
    absl::string_view backend, const std::string& authorization,
    absl::Duration deadline, Stub& stub,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                 Response*),
    Request request, Append append) {
  Response all;
  for (int page = 0; page < kMaxPages; ++page) {
    absl::StatusOr<Response> response =
        Call(backend, authorization, deadline, stub, method, request);
    if (!response.ok()) return response.status();
    append(&all, &*response);
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  return all;
}

// A backend that could not answer in time (or at all) leaves its section
// unavailable; other errors are the caller's to see.
bool IsOutage(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status) || absl::IsCancelled(status);
}

v1::Section Available(absl::string_view name) {
  v1::Section section;
  section.set_name(std::string(name));
  section.set_available(true);
  return section;
}

v1::Section Unavailable(absl::string_view name, const absl::Status& status) {
  v1::Section section;
  section.set_name(std::string(name));
  section.set_available(false);
  section.set_reason(std::string(status.message()));
  return section;
}

void AddCount(std::vector<v1::CountByName>* counts, const std::string& name,
              int64_t n) {
  for (v1::CountByName& c : *counts) {
    if (c.name() == name) {
      c.set_count(c.count() + n);
      return;
    }
  }
  v1::CountByName c;
  c.set_name(name);
  c.set_count(n);
  counts->push_back(std::move(c));
}

template <typename Field>
void CopyCounts(std::vector<v1::CountByName> counts, Field* out) {
  std::stable_sort(counts.begin(), counts.end(),
                   [](const v1::CountByName& a, const v1::CountByName& b) {
                     return a.count() > b.count();
                   });
  for (v1::CountByName& c : counts) *out->Add() = std::move(c);
}

v1::Activity ActivityOf(const ev1::Event& e) {
  v1::Activity a;
  a.set_event_id(e.id());
  a.set_type(ev1::EventType_Name(e.type()));
  *a.mutable_title() = e.title();
  a.set_local_start(e.local_start());
  a.set_local_end(e.local_end());
  a.set_city(e.city());
  a.set_country(e.country());
  a.set_online(e.online());
  a.set_attendees(e.outcome().attendees() > 0 ? e.outcome().attendees()
                                              : e.attended_count());
  a.set_mous_signed(e.outcome().mous_signed());
  a.set_state(ev1::EventState_Name(e.state()));
  return a;
}

absl::StatusOr<absl::CivilDay> AsOf(const std::string& text, const Clock& clock,
                                    const char* field) {
  if (text.empty()) {
    absl::TimeZone seoul;
    if (!absl::LoadTimeZone("Asia/Seoul", &seoul)) {
      return absl::InternalError("time zone Asia/Seoul is not installed");
    }
    return absl::ToCivilDay(clock.Now(), seoul);
  }
  std::optional<absl::CivilDay> day = ParseDate(text);
  if (!day) return InvalidField(field, "is not a date (YYYY-MM-DD)");
  return *day;
}

}  // namespace

Gateway::Gateway(const BackendChannels& backends, const Clock* clock,
                 GatewayOptions options)
    : registry_(rv1::RegistryService::NewStub(backends.registry)),
      stats_(sv1::StatsService::NewStub(backends.stats)),
      events_(ev1::EventsService::NewStub(backends.events)),
      programme_(pv1::ProgrammeService::NewStub(backends.programme)),
      clock_(clock),
      options_(options) {}

absl::StatusOr<v1::KpiTable> Gateway::GetKpiTable(
    const std::string& authorization, const v1::GetKpiTableRequest& request) {
  FieldViolations violations;
  if (request.programme_code().empty()) {
    violations.Add("programme_code", "is required (e.g. \"smz-2018\")");
  }
  absl::StatusOr<absl::CivilDay> as_of =
      AsOf(request.as_of(), *clock_, "as_of");
  if (!as_of.ok()) {
    for (const FieldViolation& v : GetFieldViolations(as_of.status())) {
      violations.Add(v.field, v.description);
    }
  }
  if (!violations.empty()) return violations.ToStatus();
  const absl::Duration deadline = options_.backend_deadline;
  v1::KpiTable unavailable_table;
  unavailable_table.set_programme_code(request.programme_code());
  unavailable_table.set_as_of(FormatDate(*as_of));

  // Every project and every indicator at once (a zone has dozens), then
  // the programme's part of them: one round trip instead of three in a row.
  auto all_projects = std::async(std::launch::async, [&] {
    pv1::ListProjectsRequest list;
    list.set_page_size(kPageSize);
    return ListAll(
        "programme", authorization, deadline, *programme_,
        &pv1::ProgrammeService::Stub::ListProjects, list,
        [](pv1::ListProjectsResponse* into, pv1::ListProjectsResponse* page) {
          into->mutable_projects()->MergeFrom(page->projects());
        });
  });
  pv1::ListIndicatorsRequest list_indicators;
  list_indicators.set_page_size(kPageSize);
  absl::StatusOr<pv1::ListIndicatorsResponse> indicators = ListAll(
      "programme", authorization, deadline, *programme_,
      &pv1::ProgrammeService::Stub::ListIndicators, list_indicators,
      [](pv1::ListIndicatorsResponse* into, pv1::ListIndicatorsResponse* page) {
        into->mutable_indicators()->MergeFrom(page->indicators());
      });
  absl::StatusOr<pv1::ListProjectsResponse> listed = all_projects.get();
  for (const absl::Status& s : {listed.status(), indicators.status()}) {
    if (s.ok()) continue;
    if (!IsOutage(s)) return s;
    *unavailable_table.add_sections() = Unavailable("programme", s);
    return unavailable_table;
  }
  std::optional<pv1::Project> programme;
  for (const pv1::Project& p : listed->projects()) {
    if (p.kind() == pv1::PROGRAMME && p.code() == request.programme_code()) {
      programme = p;
    }
  }
  if (!programme) {
    return absl::NotFoundError(absl::StrCat("programme_code: no programme '",
                                            request.programme_code(), "'"));
  }
  // The programme and its descendants, parents before children.
  std::vector<pv1::Project> projects = {*programme};
  std::set<int64_t> in_programme = {programme->id()};
  for (size_t i = 0; i < projects.size(); ++i) {
    for (const pv1::Project& p : listed->projects()) {
      if (p.parent_id() == projects[i].id() &&
          in_programme.insert(p.id()).second) {
        projects.push_back(p);
      }
    }
  }
  std::vector<pv1::Indicator> all;
  for (const pv1::Indicator& indicator : indicators->indicators()) {
    if (in_programme.count(indicator.project_id())) all.push_back(indicator);
  }

  // Live figures: one call per source for every indicator and year.
  std::set<int32_t> patient_years, event_years;
  std::set<ev1::EventType> event_types;
  for (const pv1::Indicator& indicator : all) {
    auto [first, last] = IndicatorYears(indicator, *programme);
    last = std::min<int32_t>(last, as_of->year());
    for (int32_t y = first; y <= last; ++y) {
      if (indicator.source() == pv1::FOREIGN_PATIENTS) patient_years.insert(y);
      if (indicator.source() == pv1::COMPLETED_EVENTS) event_years.insert(y);
    }
    ev1::EventType type;
    if (indicator.source() == pv1::COMPLETED_EVENTS &&
        ev1::EventType_Parse(indicator.event_type(), &type)) {
      event_types.insert(type);
    }
  }
  auto patients = std::async(std::launch::async, [&] {
    std::map<int32_t, sv1::AggregateRow> by_year;
    if (patient_years.empty())
      return absl::StatusOr<decltype(by_year)>(by_year);
    sv1::AggregateRequest aggregate;
    aggregate.set_start_period(absl::StrCat(*patient_years.begin(), "-01"));
    const int32_t last = *patient_years.rbegin();
    aggregate.set_end_period(last == as_of->year()
                                 ? FormatMonth(absl::CivilMonth(*as_of))
                                 : absl::StrCat(last, "-12"));
    aggregate.set_bucket(sv1::YEAR);
    absl::StatusOr<sv1::AggregateResponse> response =
        Call("stats", authorization, deadline, *stats_,
             &sv1::StatsService::Stub::QueryAggregate, aggregate);
    if (!response.ok())
      return absl::StatusOr<decltype(by_year)>(response.status());
    for (const sv1::AggregateRow& row : response->rows()) {
      int32_t year = 0;
      if (absl::SimpleAtoi(row.bucket(), &year)) by_year[year] = row;
    }
    return absl::StatusOr<decltype(by_year)>(std::move(by_year));
  });
  absl::StatusOr<ev1::CountCompletedEventsResponse> counted =
      ev1::CountCompletedEventsResponse();
  if (!event_years.empty()) {
    ev1::CountCompletedEventsRequest count;
    count.set_year_from(*event_years.begin());
    count.set_year_to(*event_years.rbegin());
    // An indicator without a known type counts every event.
    bool any_type = false;
    for (const pv1::Indicator& indicator : all) {
      ev1::EventType type;
      any_type =
          any_type || (indicator.source() == pv1::COMPLETED_EVENTS &&
                       !ev1::EventType_Parse(indicator.event_type(), &type));
    }
    if (!any_type) {
      for (ev1::EventType type : event_types) count.add_types(type);
    }
    counted = Call("events", authorization, deadline, *events_,
                   &ev1::EventsService::Stub::CountCompletedEvents, count);
  }
  absl::StatusOr<std::map<int32_t, sv1::AggregateRow>> patient_rows =
      patients.get();

  LiveFigures live;
  for (const pv1::Indicator& indicator : all) {
    auto [first, last] = IndicatorYears(indicator, *programme);
    last = std::min<int32_t>(last, as_of->year());
    if (last < first) continue;
    if (indicator.source() == pv1::COMPLETED_EVENTS) {
      if (!counted.ok()) {
        live.unavailable[indicator.id()] =
            std::string(counted.status().message());
        continue;
      }
      ev1::EventType type = ev1::EVENT_TYPE_UNSPECIFIED;
      const bool typed = ev1::EventType_Parse(indicator.event_type(), &type);
      std::map<int32_t, int64_t>& values = live.values[indicator.id()];
      for (int32_t y = first; y <= last; ++y) values[y] = 0;
      for (const ev1::EventCount& c : counted->counts()) {
        if ((typed && c.type() != type) || c.year() < first ||
            c.year() > last) {
          continue;
        }
        values[c.year()] += c.completed();
      }
    } else if (indicator.source() == pv1::FOREIGN_PATIENTS) {
      if (!patient_rows.ok()) {
        live.unavailable[indicator.id()] =
            std::string(patient_rows.status().message());
        continue;
      }
      std::map<int32_t, int64_t>& values = live.values[indicator.id()];
      for (int32_t y = first; y <= last; ++y) {
        auto row = patient_rows->find(y);
        // No counted report that year: no live figure (not zero patients);
        // a recorded one, if any, stands.
        if (row == patient_rows->end()) {
          continue;
        } else if (row->second.new_patients().suppressed()) {
          live.unavailable[indicator.id()] =
              absl::StrCat("stats: ", y, " is suppressed for this caller");
        } else {
          values[y] = row->second.new_patients().value();
        }
      }
    }
  }
  // A source that failed for one year is not trusted for the others.
  for (auto& [id, reason] : live.unavailable) live.values.erase(id);
  const bool stats_down = !patient_rows.ok();
  const bool events_down = !counted.ok();
  const absl::Status stats_error = patient_rows.status();
  const absl::Status events_error = counted.status();

  v1::KpiTable table = BuildKpiTable(*programme, projects, all, live, *as_of);
  *table.add_sections() = Available("programme");
  *table.add_sections() =
      stats_down ? Unavailable("stats", stats_error) : Available("stats");
  *table.add_sections() =
      events_down ? Unavailable("events", events_error) : Available("events");
  return table;
}

absl::StatusOr<v1::ZoneOverview> Gateway::GetZoneOverview(
    const std::string& authorization,
    const v1::GetZoneOverviewRequest& request) {
  return BuildZoneOverview(authorization, request, nullptr);
}

absl::StatusOr<v1::ZoneOverview> Gateway::BuildZoneOverview(
    const std::string& authorization, const v1::GetZoneOverviewRequest& request,
    std::shared_future<absl::StatusOr<pv1::BudgetTable>>* budget_table) {
  FieldViolations violations;
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  absl::StatusOr<absl::CivilDay> as_of =
      AsOf(request.as_of(), *clock_, "as_of");
  if (!as_of.ok()) violations.Add("as_of", "is not a date (YYYY-MM-DD)");
  if (!violations.empty()) return violations.ToStatus();
  const absl::Duration deadline = options_.backend_deadline;
  const int32_t year = request.year();
  const absl::CivilDay measured =
      std::min(*as_of, absl::CivilDay(year, 12, 31));
  v1::ZoneOverview overview;
  overview.set_year(year);
  overview.set_as_of(FormatDate(measured));

  // Each section fills its own part of a copy; merged after all returned.
  auto registry_part = std::async(std::launch::async, [&] {
    v1::ZoneOverview part;
    std::vector<v1::CountByName> kinds, regions;
    rv1::CountPartnersRequest count;
    count.set_status(rv1::ACTIVE);
    absl::StatusOr<rv1::CountPartnersResponse> partners =
        Call("registry", authorization, deadline, *registry_,
             &rv1::RegistryService::Stub::CountPartners, count);
    if (!partners.ok()) {
      *part.add_sections() = Unavailable("registry", partners.status());
      return part;
    }
    for (const rv1::PartnerCount& c : partners->counts()) {
      AddCount(&kinds, rv1::PartnerKind_Name(c.kind()), c.count());
      AddCount(&regions, rv1::ZoneRegion_Name(c.region()), c.count());
    }
    CopyCounts(kinds, part.mutable_partners_by_kind());
    CopyCounts(regions, part.mutable_partners_by_region());
    *part.add_sections() = Available("registry");
    return part;
  });
  auto events_part = std::async(std::launch::async, [&] {
    v1::ZoneOverview part;
    ev1::CountCompletedEventsRequest count;
    count.set_year_from(year);
    count.set_year_to(year);
    absl::StatusOr<ev1::CountCompletedEventsResponse> counted =
        Call("events", authorization, deadline, *events_,
             &ev1::EventsService::Stub::CountCompletedEvents, count);
    if (!counted.ok()) {
      *part.add_sections() = Unavailable("events", counted.status());
      return part;
    }
    std::vector<v1::CountByName> types;
    for (const ev1::EventCount& c : counted->counts()) {
      AddCount(&types, ev1::EventType_Name(c.type()), c.completed());
    }
    CopyCounts(types, part.mutable_events_held_by_type());
    *part.add_sections() = Available("events");
    return part;
  });
  auto stats_part = std::async(std::launch::async, [&] {
    v1::ZoneOverview part;
    sv1::GetKpiProgressRequest progress;
    progress.set_year(year);
    progress.set_as_of(FormatDate(measured));
    sv1::AggregateRequest top;
    top.set_start_period(absl::StrCat(year, "-01"));
    top.set_end_period(FormatMonth(absl::CivilMonth(measured)));
    top.set_bucket(sv1::WHOLE_RANGE);
    top.add_group_by(sv1::NATIONALITY);
    top.set_top_n(5);
    top.set_order_by(sv1::NEW_PATIENTS);
    auto nationalities = std::async(std::launch::async, [&] {
      return Call("stats", authorization, deadline, *stats_,
                  &sv1::StatsService::Stub::QueryAggregate, top);
    });
    absl::StatusOr<sv1::KpiProgress> kpi =
        Call("stats", authorization, deadline, *stats_,
             &sv1::StatsService::Stub::GetKpiProgress, progress);
    absl::StatusOr<sv1::AggregateResponse> aggregate = nationalities.get();
    if (!kpi.ok() || !aggregate.ok()) {
      *part.add_sections() =
          Unavailable("stats", !kpi.ok() ? kpi.status() : aggregate.status());
      return part;
    }
    part.set_patients_ytd(kpi->new_patients_ytd());
    part.set_patients_target(kpi->target());
    part.set_patients_achievement_percent(kpi->achievement_percent());
    part.set_patients_pacing_percent(kpi->pacing_percent());
    for (const sv1::AggregateRow& row : aggregate->rows()) {
      if (row.new_patients().suppressed()) continue;
      v1::CountByName* c = part.add_top_nationalities();
      c->set_name(row.nationality());
      c->set_count(row.new_patients().value());
    }
    *part.add_sections() = Available("stats");
    return part;
  });
  auto programme_part = std::async(std::launch::async, [&] {
    v1::ZoneOverview part;
    absl::StatusOr<pv1::BudgetTable> table;
    if (budget_table != nullptr) {  // the caller asked for it already
      table = budget_table->get();
    } else {
      pv1::GetBudgetTableRequest budget;
      budget.set_year(year);
      budget.set_as_of_date(FormatDate(measured));
      table = GetBudgetTable(authorization, budget);
    }
    if (absl::IsNotFound(table.status())) {  // no budget for the year
      *part.add_sections() = Available("programme");
      return part;
    }
    if (!table.ok()) {
      *part.add_sections() = Unavailable("programme", table.status());
      return part;
    }
    // The division's budget when there is one (what the council votes),
    // else the programme's public plan.
    for (pv1::ProjectKind kind : {pv1::DIVISION, pv1::PROGRAMME}) {
      for (const pv1::BudgetRow& row : table->rows()) {
        if (row.depth() != 0 || row.kind() != kind ||
            row.funding_source() != pv1::ALL_SOURCES) {
          continue;
        }
        part.set_budget_krw(part.budget_krw() + row.budget_krw());
        part.set_executed_krw(part.executed_krw() + row.executed_krw());
      }
      if (part.budget_krw() > 0) break;
    }
    if (std::optional<double> rate = programme::ExecutionRatePercent(
            part.executed_krw(), part.budget_krw())) {
      part.set_execution_rate_percent(*rate);
    }
    *part.add_sections() = Available("programme");
    return part;
  });
  for (auto* part :
       {&registry_part, &events_part, &stats_part, &programme_part}) {
    overview.MergeFrom(part->get());
  }
  return overview;
}

absl::StatusOr<v1::ActivityLog> Gateway::GetActivityLog(
    const std::string& authorization,
    const v1::GetActivityLogRequest& request) {
  if (request.year() < 2000 || request.year() > 2100) {
    return InvalidField("year", "must be 2000..2100");
  }
  v1::ActivityLog log;
  log.set_year(request.year());
  ev1::ListEventsRequest list;
  list.add_states(ev1::COMPLETED);
  list.set_local_date_from(absl::StrCat(request.year(), "-01-01"));
  list.set_local_date_to(absl::StrCat(request.year(), "-12-31"));
  list.set_page_size(kPageSize);
  for (int page = 0; page < kMaxPages; ++page) {
    absl::StatusOr<ev1::ListEventsResponse> events =
        Call("events", authorization, options_.backend_deadline, *events_,
             &ev1::EventsService::Stub::ListEvents, list);
    if (!events.ok()) {
      if (!IsOutage(events.status())) return events.status();
      log.clear_activities();
      *log.add_sections() = Unavailable("events", events.status());
      return log;
    }
    for (const ev1::Event& e : events->events()) {
      // An event running into the year from the last one belongs there.
      if (e.local_start().substr(0, 4) != absl::StrCat(request.year())) {
        continue;
      }
      *log.add_activities() = ActivityOf(e);
    }
    if (events->next_page_token().empty()) break;
    list.set_page_token(events->next_page_token());
  }
  std::stable_sort(log.mutable_activities()->begin(),
                   log.mutable_activities()->end(),
                   [](const v1::Activity& a, const v1::Activity& b) {
                     return a.local_start() < b.local_start();
                   });
  *log.add_sections() = Available("events");
  return log;
}

absl::StatusOr<v1::UpcomingEvents> Gateway::ListUpcomingEvents(
    const std::string& authorization,
    const v1::ListUpcomingEventsRequest& request) {
  FieldViolations violations;
  if (request.days() < 0 || request.days() > 366) {
    violations.Add("days", "must be 1..366 (0: 90)");
  }
  if (request.limit() < 0 || request.limit() > 100) {
    violations.Add("limit", "must be 1..100 (0: 10)");
  }
  if (!violations.empty()) return violations.ToStatus();
  const int days = request.days() == 0 ? 90 : request.days();
  const int limit = request.limit() == 0 ? 10 : request.limit();
  absl::StatusOr<absl::CivilDay> today = AsOf("", *clock_, "");
  if (!today.ok()) return today.status();
  v1::UpcomingEvents upcoming;
  upcoming.set_from_date(FormatDate(*today));
  upcoming.set_to_date(FormatDate(*today + days));
  ev1::ListEventsRequest list;
  list.add_states(ev1::PUBLISHED);
  list.add_states(ev1::POSTPONED);
  list.set_local_date_from(upcoming.from_date());
  list.set_local_date_to(upcoming.to_date());
  list.set_page_size(limit);
  // One page: the events service lists by start time, soonest first.
  absl::StatusOr<ev1::ListEventsResponse> events =
      Call("events", authorization, options_.backend_deadline, *events_,
           &ev1::EventsService::Stub::ListEvents, list);
  if (!events.ok()) {
    if (!IsOutage(events.status())) return events.status();
    *upcoming.add_sections() = Unavailable("events", events.status());
    return upcoming;
  }
  for (const ev1::Event& e : events->events()) {
    *upcoming.add_events() = ActivityOf(e);
  }
  *upcoming.add_sections() = Available("events");
  return upcoming;
}

absl::StatusOr<v1::PartnerProfile> Gateway::GetPartnerProfile(
    const std::string& authorization, bool hospital_figures,
    const v1::GetPartnerProfileRequest& request) {
  FieldViolations violations;
  if (request.partner_id() <= 0) violations.Add("partner_id", "is required");
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  if (!violations.empty()) return violations.ToStatus();
  const absl::Duration deadline = options_.backend_deadline;
  v1::PartnerProfile profile;
  profile.set_year(request.year());

  auto months = std::async(std::launch::async, [&] {
    if (!hospital_figures) {
      return absl::StatusOr<sv1::AggregateResponse>(absl::PermissionDeniedError(
          "one hospital's figures are shown to ADMIN and to the hospital "
          "itself; other roles see hospitals in groups (GetZoneOverview, "
          "the statistics by kind and region)"));
    }
    sv1::AggregateRequest aggregate;
    aggregate.set_start_period(absl::StrCat(request.year(), "-01"));
    aggregate.set_end_period(absl::StrCat(request.year(), "-12"));
    aggregate.set_bucket(sv1::MONTH);
    aggregate.mutable_filter()->add_partner_ids(request.partner_id());
    return Call("stats", authorization, deadline, *stats_,
                &sv1::StatsService::Stub::QueryAggregate, aggregate);
  });
  auto hosted = std::async(std::launch::async, [&] {
    ev1::ListEventsRequest list;
    list.set_host_partner_id(request.partner_id());
    list.set_local_date_from(absl::StrCat(request.year(), "-01-01"));
    list.set_local_date_to(absl::StrCat(request.year(), "-12-31"));
    list.set_page_size(kPageSize);
    return Call("events", authorization, deadline, *events_,
                &ev1::EventsService::Stub::ListEvents, list);
  });
  auto registrations = std::async(std::launch::async, [&] {
    ev1::ListRegistrationsRequest list;
    list.set_partner_id(request.partner_id());
    list.set_page_size(kPageSize);
    return Call("events", authorization, deadline, *events_,
                &ev1::EventsService::Stub::ListRegistrations, list);
  });
  rv1::GetPartnerRequest get;
  get.set_id(request.partner_id());
  absl::StatusOr<rv1::Partner> partner =
      Call("registry", authorization, deadline, *registry_,
           &rv1::RegistryService::Stub::GetPartner, get);
  absl::StatusOr<sv1::AggregateResponse> figures = months.get();
  absl::StatusOr<ev1::ListEventsResponse> hosted_events = hosted.get();
  absl::StatusOr<ev1::ListRegistrationsResponse> joined = registrations.get();
  if (!partner.ok() && !IsOutage(partner.status())) return partner.status();
  *profile.add_sections() = partner.ok()
                                ? Available("registry")
                                : Unavailable("registry", partner.status());
  if (partner.ok()) *profile.mutable_partner() = *partner;

  if (figures.ok()) {
    for (const sv1::AggregateRow& row : figures->rows()) {
      v1::MonthFigure* m = profile.add_months();
      m->set_period(row.bucket());
      m->set_new_patients(row.new_patients().value());
      m->set_visits(row.visits().value());
      m->set_suppressed(row.new_patients().suppressed() ||
                        row.visits().suppressed());
    }
    *profile.add_sections() = Available("stats");
  } else {
    *profile.add_sections() = Unavailable("stats", figures.status());
  }

  absl::Status events_error =
      !hosted_events.ok() ? hosted_events.status() : joined.status();
  if (events_error.ok()) {
    for (const ev1::Event& e : hosted_events->events()) {
      *profile.add_hosted() = ActivityOf(e);
    }
    // The events its people registered for, once each, in the year.
    std::set<int64_t> seen;
    for (const ev1::Registration& r : joined->registrations()) {
      if (!seen.insert(r.event_id()).second) continue;
      ev1::GetEventRequest event_request;
      event_request.set_id(r.event_id());
      absl::StatusOr<ev1::Event> event =
          Call("events", authorization, deadline, *events_,
               &ev1::EventsService::Stub::GetEvent, event_request);
      if (!event.ok()) continue;  // e.g. a draft this caller cannot see
      if (event->local_start().substr(0, 4) != absl::StrCat(request.year())) {
        continue;
      }
      *profile.add_joined() = ActivityOf(*event);
    }
    *profile.add_sections() = Available("events");
  } else {
    *profile.add_sections() = Unavailable("events", events_error);
  }
  return profile;
}

absl::StatusOr<v1::Document> Gateway::GetCouncilReport(
    const std::string& authorization,
    const v1::GetCouncilReportRequest& request) {
  FieldViolations violations;
  if (request.year() < 2000 || request.year() > 2100) {
    violations.Add("year", "must be 2000..2100");
  }
  if (request.programme_code().empty()) {
    violations.Add("programme_code", "is required (e.g. \"smz-2018\")");
  }
  const std::string language =
      request.language().empty() ? "ko" : request.language();
  if (language != "ko" && language != "en") {
    violations.Add("language", "must be \"ko\" or \"en\"");
  }
  std::optional<absl::CivilDay> as_of;
  if (!request.as_of().empty()) {
    as_of = ParseDate(request.as_of());
    if (!as_of) violations.Add("as_of", "is not a date (YYYY-MM-DD)");
  }
  if (!v1::GetCouncilReportRequest::Format_IsValid(request.format())) {
    violations.Add("format", "is not HTML, CSV or JSON");
  }
  if (!v1::GetCouncilReportRequest::Table_IsValid(request.table())) {
    violations.Add("table", "is not KPI, BUDGET or ACTIVITIES");
  }
  if (!violations.empty()) return violations.ToStatus();
  const std::string day =
      FormatDate(as_of.value_or(absl::CivilDay(request.year(), 12, 31)));

  // The four parts at once; each already degrades by section.
  v1::GetKpiTableRequest kpi_request;
  kpi_request.set_programme_code(request.programme_code());
  kpi_request.set_as_of(day);
  v1::GetZoneOverviewRequest overview_request;
  overview_request.set_year(request.year());
  overview_request.set_as_of(day);
  v1::GetActivityLogRequest log_request;
  log_request.set_year(request.year());
  auto budget_of = [&](int32_t year, const std::string& date) {
    pv1::GetBudgetTableRequest budget;
    budget.set_year(year);
    budget.set_as_of_date(date);
    return GetBudgetTable(authorization, budget);
  };
  // The year's budget table serves the overview's figure and the report's
  // table: asked for once.
  std::shared_future<absl::StatusOr<pv1::BudgetTable>> budget =
      std::async(std::launch::async, [&] {
        return budget_of(request.year(), day);
      }).share();
  auto kpi = std::async(std::launch::async, [&] {
    return GetKpiTable(authorization, kpi_request);
  });
  auto overview = std::async(std::launch::async, [&] {
    return BuildZoneOverview(authorization, overview_request, &budget);
  });
  auto log = std::async(std::launch::async, [&] {
    return GetActivityLog(authorization, log_request);
  });
  absl::StatusOr<pv1::BudgetTable> next_budget =
      budget_of(request.year() + 1, "");
  absl::StatusOr<v1::KpiTable> kpi_table = kpi.get();
  absl::StatusOr<v1::ZoneOverview> overview_table = overview.get();
  absl::StatusOr<v1::ActivityLog> activity_log = log.get();
  absl::StatusOr<pv1::BudgetTable> budget_table = budget.get();
  for (const absl::Status& s :
       {kpi_table.status(), overview_table.status(), activity_log.status()}) {
    if (!s.ok()) return s;
  }

  v1::CouncilReportData data;
  data.set_year(request.year());
  data.set_as_of(day);
  *data.mutable_overview() = *std::move(overview_table);
  *data.mutable_kpi() = *std::move(kpi_table);
  *data.mutable_activities() = *std::move(activity_log);
  if (budget_table.ok()) {
    *data.mutable_budget() = *std::move(budget_table);
    *data.add_sections() = Available("budget");
  } else if (absl::IsNotFound(budget_table.status())) {
    *data.add_sections() = Available("budget");  // none recorded
  } else if (IsOutage(budget_table.status())) {
    *data.add_sections() = Unavailable("budget", budget_table.status());
  } else {
    return budget_table.status();
  }
  if (next_budget.ok()) *data.mutable_next_year_budget() = *next_budget;

  v1::Document document;
  const std::string base =
      absl::StrCat("council-report-", request.year(), "-", language);
  switch (request.format()) {
    case v1::GetCouncilReportRequest::CSV: {
      const std::string table =
          request.table() == v1::GetCouncilReportRequest::TABLE_UNSPECIFIED
              ? "KPI"
              : v1::GetCouncilReportRequest::Table_Name(request.table());
      document.set_content_type("text/csv; charset=utf-8");
      document.set_filename(absl::StrCat(base, "-", table, ".csv"));
      document.set_content(
          RenderCouncilReportCsv(data, request.table(), language));
      break;
    }
    case v1::GetCouncilReportRequest::JSON: {
      google::protobuf::util::JsonPrintOptions print;
      print.preserve_proto_field_names = true;
      print.always_print_primitive_fields = true;
      std::string json;
      if (auto s =
              google::protobuf::util::MessageToJsonString(data, &json, print);
          !s.ok()) {
        return absl::InternalError(s.ToString());
      }
      document.set_content_type("application/json; charset=utf-8");
      document.set_filename(base + ".json");
      document.set_content(std::move(json));
      break;
    }
    default:
      document.set_content_type("text/html; charset=utf-8");
      document.set_filename(base + ".html");
      document.set_content(RenderCouncilReportHtml(data, language));
  }
  return document;
}

absl::StatusOr<programme::v1::BudgetTable> Gateway::GetBudgetTable(
    const std::string& authorization,
    const programme::v1::GetBudgetTableRequest& request) {
  return Call("programme", authorization, options_.backend_deadline,
              *programme_, &pv1::ProgrammeService::Stub::GetBudgetTable,
              request);
}

}  // namespace smz::gateway
