#include "services/gateway/gateway_internal.h"

// The KPI table: each indicator's plan and result by year, live figures
// beside the recorded ones.
namespace smz::gateway {

// Long by design: it starts every backend call at once and joins the answers;
// the calls and the join share their futures.
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
  auto all_projects = AsyncInTrace([&] {
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
  auto patients = AsyncInTrace([&] {
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

}  // namespace smz::gateway
