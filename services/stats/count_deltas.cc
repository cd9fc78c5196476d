#include "services/stats/count_deltas.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "services/stats/stats_store_rows.h"

namespace smz::stats {
namespace {

constexpr char kRollupUpsertTail[] =
    " ON DUPLICATE KEY UPDATE value = value + VALUES(value),"
    " contributors = contributors + VALUES(contributors),"
    " partner_sum = partner_sum + VALUES(partner_sum),"
    " partner_square_sum = partner_square_sum + VALUES(partner_square_sum)";

std::vector<SqlValue> DeltaParams(const RollupDelta& delta) {
  return {SqlInt(delta.value), SqlInt(delta.contributors),
          SqlInt(delta.partner_sum), SqlInt(delta.partner_square_sum)};
}

bool ValidPeriod(int period) {
  const int month = period % 100;
  return period >= 190001 && period <= 999912 && month >= 1 && month <= 12;
}

bool ValidShard(int shard) { return shard >= 0 && shard < kReportCountShards; }

// The rollup tables' TINYINT columns (codes of the API and the registry).
bool ValidCode(int code) { return code >= 0 && code <= 127; }

// What the shared rows' columns hold: a row the fold cannot write is
// refused here, as DATA_LOSS, not by the server halfway through the fold.
bool ValidCell(const storage::CountDeltas::Cell& cell) {
  return ValidPeriod(cell.period()) && cell.measure() >= 1 &&
         cell.measure() <= 3 && cell.nationality().size() <= 2 &&
         cell.department().size() <= 40 && ValidCode(cell.care_type()) &&
         ValidCode(cell.sex()) && ValidCode(cell.age_band()) &&
         ValidCode(cell.partner_kind()) && ValidCode(cell.region());
}

}  // namespace

void SharedCounts::AddCell(const RollupCellKey& key, const RollupDelta& delta) {
  const auto& [period, measure, nationality, department, care_type, sex,
               age_band, kind, region] = key;
  cells[key].Add(delta);
  this->nationality[{period, measure, nationality}].Add(delta);
  this->department[{period, measure, department, care_type}].Add(delta);
}

void SharedCounts::Add(const SharedCounts& other) {
  for (const auto& [key, n] : other.reports) reports[key] += n;
  for (const auto& [key, n] : other.reporters) {
    reporters[key].first += n.first;
    reporters[key].second += n.second;
  }
  for (const auto& [key, delta] : other.cells) cells[key].Add(delta);
  for (const auto& [key, delta] : other.nationality) {
    nationality[key].Add(delta);
  }
  for (const auto& [key, delta] : other.department) {
    department[key].Add(delta);
  }
  version_shards.insert(other.version_shards.begin(),
                        other.version_shards.end());
}

bool SharedCounts::Empty() const {
  for (const auto& [key, n] : reports) {
    if (n != 0) return false;
  }
  for (const auto& [key, n] : reporters) {
    if (n.first != 0 || n.second != 0) return false;
  }
  for (const auto& [key, delta] : cells) {
    if (!delta.Empty()) return false;
  }
  return true;
}

storage::CountDeltas ToCountDeltas(const SharedCounts& counts) {
  storage::CountDeltas out;
  for (const auto& [key, n] : counts.reports) {
    if (n == 0) continue;
    storage::CountDeltas::ReportCount* row = out.add_reports();
    row->set_period(key.first);
    row->set_shard(key.second);
    row->set_counted(n);
  }
  for (const auto& [key, n] : counts.reporters) {
    if (n.first == 0 && n.second == 0) continue;
    const auto& [period, kind, region, shard] = key;
    storage::CountDeltas::ReporterCount* row = out.add_reporters();
    row->set_period(period);
    row->set_partner_kind(kind);
    row->set_region(region);
    row->set_shard(shard);
    row->set_active(n.first);
    row->set_with_revenue(n.second);
  }
  for (const auto& [key, delta] : counts.cells) {
    if (delta.Empty()) continue;
    const auto& [period, measure, nationality, department, care_type, sex,
                 age_band, kind, region] = key;
    storage::CountDeltas::Cell* row = out.add_cells();
    row->set_period(period);
    row->set_measure(measure);
    row->set_nationality(nationality);
    row->set_department(department);
    row->set_care_type(care_type);
    row->set_sex(sex);
    row->set_age_band(age_band);
    row->set_partner_kind(kind);
    row->set_region(region);
    row->set_value(delta.value);
    row->set_contributors(delta.contributors);
    row->set_partner_sum(delta.partner_sum);
    row->set_partner_square_sum(delta.partner_square_sum);
  }
  return out;
}

std::vector<storage::CountDeltas> ToCountDeltaRows(const SharedCounts& counts,
                                                   size_t max_bytes) {
  storage::CountDeltas whole = ToCountDeltas(counts);
  if (whole.ByteSizeLong() <= max_bytes) return {std::move(whole)};
  // Counters first (a few per period), then the cells in as many rows as
  // they need.
  std::vector<storage::CountDeltas> rows(1);
  *rows[0].mutable_reports() = whole.reports();
  *rows[0].mutable_reporters() = whole.reporters();
  size_t bytes = rows[0].ByteSizeLong();
  for (storage::CountDeltas::Cell& cell : *whole.mutable_cells()) {
    // The cell's own bytes, its field tag and its length.
    const size_t cell_bytes = cell.ByteSizeLong() + 6;
    if (bytes + cell_bytes > max_bytes && bytes > 0) {
      rows.emplace_back();
      bytes = 0;
    }
    bytes += cell_bytes;
    *rows.back().add_cells() = std::move(cell);
  }
  return rows;
}

absl::Status AddCountDeltas(const storage::CountDeltas& deltas,
                            SharedCounts* counts) {
  // Checked whole first: a row read back is ours, but a damaged one must
  // not be half added.
  for (const auto& row : deltas.reports()) {
    if (!ValidPeriod(row.period()) || !ValidShard(row.shard())) {
      return absl::DataLossError("a count delta names no report counter");
    }
  }
  for (const auto& row : deltas.reporters()) {
    if (!ValidPeriod(row.period()) || !ValidShard(row.shard()) ||
        !ValidCode(row.partner_kind()) || !ValidCode(row.region())) {
      return absl::DataLossError("a count delta names no reporting group");
    }
  }
  for (const auto& row : deltas.cells()) {
    if (!ValidCell(row)) {
      return absl::DataLossError("a count delta names no rollup row");
    }
  }
  for (const auto& row : deltas.reports()) {
    counts->reports[{row.period(), row.shard()}] += row.counted();
  }
  for (const auto& row : deltas.reporters()) {
    auto& n = counts->reporters[{row.period(), row.partner_kind(), row.region(),
                                 row.shard()}];
    n.first += row.active();
    n.second += row.with_revenue();
  }
  for (const auto& row : deltas.cells()) {
    counts->AddCell({row.period(), row.measure(), row.nationality(),
                     row.department(), row.care_type(), row.sex(),
                     row.age_band(), row.partner_kind(), row.region()},
                    {row.value(), row.contributors(), row.partner_sum(),
                     row.partner_square_sum()});
  }
  return absl::OkStatus();
}

absl::Status WriteSharedRows(Session& session, const SharedCounts& counts) {
  // Each table in as few statements as InsertBatched makes.
  std::vector<std::vector<SqlValue>> report_rows;
  for (const auto& [key, n] : counts.reports) {
    if (n == 0) continue;
    report_rows.push_back({SqlInt(key.first), SqlInt(key.second), SqlInt(n)});
  }
  SMZ_RETURN_IF_ERROR(InsertBatched(
      session, "INSERT INTO report_counts (period, shard, counted) VALUES ",
      "(?,?,?)", " ON DUPLICATE KEY UPDATE counted = counted + VALUES(counted)",
      report_rows));
  std::vector<std::vector<SqlValue>> reporter_rows;
  for (const auto& [key, n] : counts.reporters) {
    if (n.first == 0 && n.second == 0) continue;
    const auto& [period, kind, region, shard] = key;
    reporter_rows.push_back({SqlInt(period), SqlInt(kind), SqlInt(region),
                             SqlInt(shard), SqlInt(n.first), SqlInt(n.second)});
  }
  SMZ_RETURN_IF_ERROR(InsertBatched(
      session,
      "INSERT INTO group_reporters (period, partner_kind, region, shard, "
      "active, with_revenue) VALUES ",
      "(?,?,?,?,?,?)",
      " ON DUPLICATE KEY UPDATE active = active + VALUES(active), "
      "with_revenue = with_revenue + VALUES(with_revenue)",
      reporter_rows));
  std::vector<std::vector<SqlValue>> cell_rows;
  for (const auto& [key, delta] : counts.cells) {
    if (delta.Empty()) continue;
    const auto& [period, measure, nationality, department, care_type, sex,
                 age_band, kind, region] = key;
    std::vector<SqlValue> row = {
        SqlInt(period),   SqlInt(measure),   nationality,
        department,       SqlInt(care_type), SqlInt(sex),
        SqlInt(age_band), SqlInt(kind),      SqlInt(region)};
    std::vector<SqlValue> figures = DeltaParams(delta);
    row.insert(row.end(), figures.begin(), figures.end());
    cell_rows.push_back(std::move(row));
  }
  SMZ_RETURN_IF_ERROR(InsertBatched(
      session,
      "INSERT INTO rollup_cells (period, measure, nationality, department, "
      "care_type, sex, age_band, partner_kind, region, value, contributors, "
      "partner_sum, partner_square_sum) VALUES ",
      "(?,?,?,?,?,?,?,?,?,?,?,?,?)", kRollupUpsertTail, cell_rows));

  std::vector<std::vector<SqlValue>> nationality_rows;
  for (const auto& [key, delta] : counts.nationality) {
    if (delta.Empty()) continue;
    std::vector<SqlValue> row = {SqlInt(std::get<0>(key)),
                                 SqlInt(std::get<1>(key)), std::get<2>(key)};
    std::vector<SqlValue> figures = DeltaParams(delta);
    row.insert(row.end(), figures.begin(), figures.end());
    nationality_rows.push_back(std::move(row));
  }
  SMZ_RETURN_IF_ERROR(InsertBatched(
      session,
      "INSERT INTO rollup_nationality (period, measure, nationality, value, "
      "contributors, partner_sum, partner_square_sum) VALUES ",
      "(?,?,?,?,?,?,?)", kRollupUpsertTail, nationality_rows));

  std::vector<std::vector<SqlValue>> department_rows;
  for (const auto& [key, delta] : counts.department) {
    if (delta.Empty()) continue;
    std::vector<SqlValue> row = {SqlInt(std::get<0>(key)),
                                 SqlInt(std::get<1>(key)), std::get<2>(key),
                                 SqlInt(std::get<3>(key))};
    std::vector<SqlValue> figures = DeltaParams(delta);
    row.insert(row.end(), figures.begin(), figures.end());
    department_rows.push_back(std::move(row));
  }
  return InsertBatched(
      session,
      "INSERT INTO rollup_department (period, measure, department, "
      "care_type, value, contributors, partner_sum, partner_square_sum) "
      "VALUES ",
      "(?,?,?,?,?,?,?,?)", kRollupUpsertTail, department_rows);
}

absl::Status MoveRollupStamps(Session& session, const SharedCounts& counts) {
  // Aggregates kept in memory are current while the stamp stands still.
  // (UUID_SHORT() is evaluated per row: every shard gets a value of its own.)
  std::vector<std::vector<SqlValue>> version_rows;
  for (const int shard : counts.version_shards) {
    version_rows.push_back({SqlInt(shard)});
  }
  if (version_rows.empty()) return absl::OkStatus();
  // Readers' leases on it are waited out after COMMIT (write_stamps.h).
  session.MarkStampMoved();
  return InsertBatched(
      session, "INSERT INTO rollup_version (shard, version) VALUES ",
      "(?, UUID_SHORT())", " ON DUPLICATE KEY UPDATE version = UUID_SHORT()",
      version_rows);
}

}  // namespace smz::stats
