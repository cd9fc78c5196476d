#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aip/etag.h"
#include "common/aip/idempotency.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/mysql/audit.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/stats/stats_store.h"
#include "services/stats/stats_store_rows.h"

// Aggregates: figures summed from the rollups (or the cells, for a partner's
// own view) by the dimensions asked for.
namespace smz::stats {

// Long by design: one SQL statement assembled from the query's dimensions and
// filters, then its rows read; split, the statement would be scattered.
absl::StatusOr<AggregateResult> StatsStore::Aggregate(
    const AggregateQuery& query) {
  const v1::AggregateFilter& f = query.filter;
  std::vector<v1::Dimension> used = query.group_by;
  if (f.nationalities_size()) used.push_back(v1::NATIONALITY);
  if (f.departments_size()) used.push_back(v1::DEPARTMENT);
  if (f.care_types_size()) used.push_back(v1::CARE_TYPE);
  if (f.partner_ids_size()) used.push_back(v1::PARTNER);
  if (f.partner_kinds_size()) used.push_back(v1::PARTNER_KIND);
  if (f.regions_size()) used.push_back(v1::REGION);
  auto only = [&](std::initializer_list<v1::Dimension> allowed) {
    for (v1::Dimension d : used) {
      if (std::find(allowed.begin(), allowed.end(), d) == allowed.end()) {
        return false;
      }
    }
    return true;
  };

  AggregateResult result;
  // Column expressions per dimension for the chosen table; "" when the table
  // does not have the dimension (it is then constant).
  std::map<v1::Dimension, std::string> column;
  std::string from;
  std::string figures;
  std::string where;
  // The month's column: the rollups have their own, a report's cells
  // their report's.
  std::string period = "t.period";
  if (Has(used, v1::PARTNER)) {
    // The counted reports' cells, driven by the reports' own indexes
    // (period, or partner and period).
    result.source = "reports.cells_json";
    from = "reports r CROSS JOIN " REPORT_CELLS_OF_R("t");
    period = "r.period";
    where = " AND r.status IN " COUNTED_STATUS_SQL;
    figures =
        "SUM(t.value), COUNT(*), SUM(r.partner_id), "
        "SUM(CAST(r.partner_id AS DECIMAL(38,0)) * r.partner_id)";
    column = {{v1::NATIONALITY, "t.nationality"},
              {v1::DEPARTMENT, "t.department"},
              {v1::CARE_TYPE, "t.care_type"},
              {v1::PARTNER, "r.partner_id"},
              {v1::PARTNER_KIND, "r.partner_kind"},
              {v1::REGION, "r.region"},
              {v1::SEX, "t.sex"},
              {v1::AGE_BAND, "t.age_band"}};
  } else {
    figures =
        "SUM(t.value), SUM(t.contributors), SUM(t.partner_sum), "
        "SUM(t.partner_square_sum)";
    where = " AND t.contributors > 0";
    if (only({v1::NATIONALITY})) {
      result.source = "rollup_nationality";
      column = {{v1::NATIONALITY, "t.nationality"}};
    } else if (only({v1::DEPARTMENT, v1::CARE_TYPE})) {
      result.source = "rollup_department";
      column = {{v1::DEPARTMENT, "t.department"},
                {v1::CARE_TYPE, "t.care_type"}};
    } else {
      result.source = "rollup_cells";
      column = {{v1::NATIONALITY, "t.nationality"},
                {v1::DEPARTMENT, "t.department"},
                {v1::CARE_TYPE, "t.care_type"},
                {v1::PARTNER_KIND, "t.partner_kind"},
                {v1::REGION, "t.region"},
                {v1::SEX, "t.sex"},
                {v1::AGE_BAND, "t.age_band"}};
    }
    from = absl::StrCat(result.source, " t");
  }

  std::string bucket;
  switch (query.bucket) {
    case v1::QUARTER:
      bucket = absl::StrCat("(", period, " DIV 100) * 10 + ((", period,
                            " MOD 100) + 2) DIV 3");
      break;
    case v1::YEAR:
      bucket = absl::StrCat(period, " DIV 100");
      break;
    case v1::WHOLE_RANGE:
      bucket = "0";
      break;
    default:
      bucket = period;
  }
  static constexpr v1::Dimension kAll[] = {
      v1::NATIONALITY,  v1::DEPARTMENT, v1::CARE_TYPE, v1::PARTNER,
      v1::PARTNER_KIND, v1::REGION,     v1::SEX,       v1::AGE_BAND};
  std::vector<v1::Dimension> grouped;
  std::string select = absl::StrCat(bucket, " AS b");
  std::string group = "b";
  for (v1::Dimension d : kAll) {
    if (!Has(query.group_by, d)) continue;
    grouped.push_back(d);
    absl::StrAppend(&select, ", ", column[d]);
    absl::StrAppend(&group, ", ", column[d]);
  }
  absl::StrAppend(&select, ", t.measure, ", figures);
  absl::StrAppend(&group, ", t.measure");

  std::vector<SqlValue> params = {SqlInt(query.start_period),
                                  SqlInt(query.end_period)};
  std::string filters;
  auto add_text_filter = [&](v1::Dimension d, const auto& values) {
    if (values.empty()) return;
    absl::StrAppend(&filters, " AND ", column[d], " IN ",
                    InList(values.size()));
    for (const auto& v : values) params.push_back(std::string(v));
  };
  auto add_int_filter = [&](v1::Dimension d, const auto& values) {
    if (values.empty()) return;
    absl::StrAppend(&filters, " AND ", column[d], " IN ",
                    InList(values.size()));
    for (const auto& v : values) params.push_back(SqlInt(v));
  };
  if (!query.measures.empty()) {
    absl::StrAppend(&filters, " AND t.measure IN ",
                    InList(query.measures.size()));
    for (int m : query.measures) params.push_back(SqlInt(m));
  }
  add_text_filter(v1::NATIONALITY, f.nationalities());
  add_text_filter(v1::DEPARTMENT, f.departments());
  add_int_filter(v1::CARE_TYPE, f.care_types());
  add_int_filter(v1::PARTNER, f.partner_ids());
  add_int_filter(v1::PARTNER_KIND, f.partner_kinds());
  add_int_filter(v1::REGION, f.regions());

  const std::string sql =
      absl::StrCat("SELECT ", select, " FROM ", from, " WHERE ", period,
                   " BETWEEN ? AND ?", where, filters, " GROUP BY ", group);
  // Fold first, on the primary, so that every acknowledged report is in
  // the rollups (the figures by partner come from the reports themselves).
  // A replica then lags by its replication alone, as it did before.
  if (!Has(used, v1::PARTNER)) SMZ_RETURN_IF_ERROR(FoldCountDeltas());
  SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       LaggingReadFor<std::vector<Row>>(
                           *database_, replica_, [&](Session& session) {
                             return session.Query(sql, params);
                           }));

  // One AggregateGroup per (bucket, dims); measures arrive as rows.
  std::map<std::string, size_t> index;
  for (const Row& row : rows) {
    size_t c = 0;
    AggregateGroup group_row;
    group_row.bucket = static_cast<int>(row.Int(c++));
    std::string key = absl::StrCat(group_row.bucket);
    for (v1::Dimension d : grouped) {
      const std::string& text = row.Text(c++);
      absl::StrAppend(&key, "|", text);
      switch (d) {
        case v1::NATIONALITY:
          group_row.nationality = text;
          break;
        case v1::DEPARTMENT:
          group_row.department = text;
          break;
        case v1::CARE_TYPE:
          group_row.care_type = std::atoi(text.c_str());
          break;
        case v1::PARTNER:
          group_row.partner_id = std::atoll(text.c_str());
          break;
        case v1::PARTNER_KIND:
          group_row.partner_kind = std::atoi(text.c_str());
          break;
        case v1::REGION:
          group_row.region = std::atoi(text.c_str());
          break;
        case v1::SEX:
          group_row.sex = std::atoi(text.c_str());
          break;
        case v1::AGE_BAND:
          group_row.age_band = std::atoi(text.c_str());
          break;
        default:
          break;
      }
    }
    const int measure = static_cast<int>(row.Int(c++));
    GroupFigures figures_row;
    figures_row.present = true;
    const std::optional<int64_t> sum = row.CheckedInt(c++);
    figures_row.value = sum.value_or(0);
    figures_row.overflow = !sum.has_value();
    figures_row.contributors = row.Int(c++);
    if (!ParseInt128(row.Text(c++), &figures_row.partner_sum) ||
        !ParseInt128(row.Text(c++), &figures_row.partner_square_sum)) {
      return absl::InternalError("unreadable rollup sums");
    }
    auto [it, inserted] = index.emplace(key, result.groups.size());
    if (inserted) result.groups.push_back(std::move(group_row));
    AggregateGroup& target = result.groups[it->second];
    switch (static_cast<Measure>(measure)) {
      case Measure::kNewPatients:
        target.new_patients.Add(figures_row);
        break;
      case Measure::kVisits:
        target.visits.Add(figures_row);
        break;
      case Measure::kRevenueKrw:
        target.revenue.Add(figures_row);
        break;
    }
  }
  return result;
}

}  // namespace smz::stats
