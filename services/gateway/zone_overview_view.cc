#include "services/gateway/gateway_internal.h"

// The zone overview: partners, patients, events and budget in one answer,
// with a section per backend.
namespace smz::gateway {

absl::StatusOr<v1::ZoneOverview> Gateway::GetZoneOverview(
    const std::string& authorization,
    const v1::GetZoneOverviewRequest& request) {
  return BuildZoneOverview(authorization, request, nullptr);
}

// Long by design: it calls every backend at once and assembles one section per
// backend from the answers.
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
  auto registry_part = AsyncInTrace([&] {
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
  auto events_part = AsyncInTrace([&] {
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
  auto stats_part = AsyncInTrace([&] {
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
    auto nationalities = AsyncInTrace([&] {
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
  auto programme_part = AsyncInTrace([&] {
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

}  // namespace smz::gateway
