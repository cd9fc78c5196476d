#include "services/gateway/kpi_table.h"

#include <algorithm>
#include <optional>

#include "common/request_fields.h"
#include "services/programme/programme_rules.h"

namespace smz::gateway {

std::pair<int32_t, int32_t> IndicatorYears(const pv1::Indicator& indicator,
                                           const pv1::Project& programme) {
  int32_t first = indicator.first_year() != 0 ? indicator.first_year()
                                              : programme.first_year();
  int32_t last = indicator.last_year() != 0 ? indicator.last_year()
                                            : programme.last_year();
  if (last < first) last = first;
  return {first, last};
}

// Long by design: the rows of each indicator source, in the table's order.
v1::KpiTable BuildKpiTable(const pv1::Project& programme,
                           const std::vector<pv1::Project>& projects,
                           const std::vector<pv1::Indicator>& indicators,
                           const LiveFigures& live, absl::CivilDay as_of) {
  v1::KpiTable table;
  table.set_programme_code(programme.code());
  *table.mutable_programme_name() = programme.name();
  table.set_first_year(programme.first_year());
  table.set_last_year(programme.last_year());
  table.set_as_of(FormatDate(as_of));
  std::map<int64_t, const pv1::Project*> project_of;
  for (const pv1::Project& p : projects) project_of[p.id()] = &p;

  std::vector<const pv1::Indicator*> ordered;
  for (const pv1::Indicator& i : indicators) ordered.push_back(&i);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [&](const pv1::Indicator* a, const pv1::Indicator* b) {
                     auto order = [&](const pv1::Indicator* i) {
                       auto p = project_of.find(i->project_id());
                       return std::make_tuple(
                           p == project_of.end() ? 0 : p->second->sort_order(),
                           i->sort_order(), i->code());
                     };
                     return order(a) < order(b);
                   });

  for (const pv1::Indicator* indicator : ordered) {
    v1::KpiRow* row = table.add_rows();
    *row->mutable_indicator() = *indicator;
    if (auto p = project_of.find(indicator->project_id());
        p != project_of.end()) {
      row->set_project_code(p->second->code());
      *row->mutable_project_name() = p->second->name();
    }
    const bool is_live = indicator->source() == pv1::FOREIGN_PATIENTS ||
                         indicator->source() == pv1::COMPLETED_EVENTS;
    const auto unavailable = live.unavailable.find(indicator->id());
    if (is_live && unavailable != live.unavailable.end()) {
      row->set_live_unavailable_reason(unavailable->second);
    }
    const auto live_values = live.values.find(indicator->id());
    const bool counts = indicator->unit() == pv1::TIMES;
    std::optional<int64_t> total;
    const auto [first, last] = IndicatorYears(*indicator, programme);
    for (int32_t year = first; year <= last; ++year) {
      v1::KpiYear* y = row->add_years();
      y->set_year(year);
      if (auto plan = indicator->yearly_plans().find(year);
          plan != indicator->yearly_plans().end()) {
        y->set_plan(plan->second);
      }
      if (auto recorded = indicator->recorded_results().find(year);
          recorded != indicator->recorded_results().end()) {
        y->set_recorded(recorded->second);
      }
      if (is_live && live_values != live.values.end()) {
        if (auto v = live_values->second.find(year);
            v != live_values->second.end()) {
          y->set_live(v->second);
        }
      }
      if (y->has_live()) {
        y->set_result(y->live());
        y->set_origin(v1::KpiYear::LIVE);
      } else if (auto manual = indicator->manual_results().find(year);
                 indicator->source() == pv1::MANUAL &&
                 manual != indicator->manual_results().end()) {
        y->set_result(manual->second.value());
        y->set_origin(v1::KpiYear::MANUAL);
      } else if (y->has_recorded()) {
        y->set_result(y->recorded());
        y->set_origin(v1::KpiYear::RECORDED);
      }
      y->set_differs(y->has_live() && y->has_recorded() &&
                     y->live() != y->recorded());
      if (y->has_result() && y->has_plan()) {
        if (auto capped = programme::AchievementPercent(y->result(), y->plan(),
                                                        /*capped=*/true)) {
          y->set_achievement_percent_capped(*capped);
        }
        if (auto uncapped = programme::AchievementPercent(
                y->result(), y->plan(), /*capped=*/false)) {
          y->set_achievement_percent(*uncapped);
        }
      }
      if (y->has_result()) {
        total = counts ? total.value_or(0) + y->result()
                       : std::max(total.value_or(0), y->result());
      }
    }
    if (total) {
      row->set_total_result(*total);
      if (auto capped = programme::AchievementPercent(
              *total, indicator->target_total(), /*capped=*/true)) {
        row->set_achievement_percent_capped(*capped);
      }
      if (auto uncapped = programme::AchievementPercent(
              *total, indicator->target_total(), /*capped=*/false)) {
        row->set_achievement_percent(*uncapped);
      }
    }
    if (indicator->has_recorded_total()) {
      row->set_recorded_total(indicator->recorded_total());
      row->set_total_differs(total.has_value() &&
                             *total != indicator->recorded_total());
    }
  }
  return table;
}

}  // namespace smz::gateway
