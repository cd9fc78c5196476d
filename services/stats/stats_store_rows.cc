#include "services/stats/stats_store_rows.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>
#include <variant>

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
#include "common/logging.h"
#include "common/mysql/audit.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/util/time_util.h"

namespace smz::stats {

using ::google::protobuf::util::TimeUtil;

bool Counted(int status) {
  return status == v1::SUBMITTED || status == v1::ACCEPTED;
}

bool HasRevenue(const std::vector<Cell>& cells) {
  return std::any_of(cells.begin(), cells.end(), [](const Cell& c) {
    return c.measure == Measure::kRevenueKrw && c.value > 0;
  });
}

std::vector<Cell> CellsOfReport(const Report& report) {
  std::vector<Cell> cells;
  cells.reserve(report.new_patients_size() + report.visits_size() + 1);
  for (const v1::NewPatientCell& c : report.new_patients()) {
    cells.push_back(Cell{Measure::kNewPatients, c.nationality(), "", 0, c.sex(),
                         c.age_band(), c.count()});
  }
  for (const v1::VisitCell& c : report.visits()) {
    cells.push_back(Cell{Measure::kVisits, c.nationality(), c.department(),
                         c.care_type(), 0, 0, c.count()});
  }
  if (report.has_revenue_krw()) {
    cells.push_back(
        Cell{Measure::kRevenueKrw, "", "", 0, 0, 0, report.revenue_krw()});
  }
  std::sort(cells.begin(), cells.end(),
            [](const Cell& a, const Cell& b) { return a.Key() < b.Key(); });
  return cells;
}

std::string CellsBlob(const std::vector<Cell>& cells) {
  Report holder;
  SetReportCells(cells, &holder);
  return holder.SerializeAsString();
}

std::string CellsJson(const std::vector<Cell>& cells,
                      absl::string_view digest) {
  std::string json = "{\"digest\":\"";
  json.reserve(json.size() + 80 + cells.size() * 56);
  AppendJsonEscaped(&json, digest);
  json.append("\",\"cells\":[");
  for (size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    absl::StrAppend(&json, i == 0 ? "" : ",",
                    "{\"m\":", static_cast<int>(c.measure), ",\"n\":\"");
    AppendJsonEscaped(&json, c.nationality);
    json.append("\",\"d\":\"");
    AppendJsonEscaped(&json, c.department);
    absl::StrAppend(&json, "\",\"t\":", c.care_type, ",\"s\":", c.sex,
                    ",\"a\":", c.age_band, ",\"v\":", c.value, "}");
  }
  json.append("]}");
  return json;
}

StoredReport ReportFromRow(const Row& row, int deadline_days) {
  StoredReport stored;
  Report holder;
  if (holder.ParseFromString(row.Text(13))) {
    stored.cells = CellsOfReport(holder);
  } else {
    // Never treat it as empty: a correction diffed against no cells would
    // leave the old ones counted.
    stored.unreadable = true;
  }
  stored.id = row.Int(0);
  stored.status = static_cast<int>(row.Int(3));
  stored.no_activity = row.Int(4) != 0;
  stored.revision = static_cast<int>(row.Int(5));
  stored.digest = row.Text(6);
  stored.partner_kind = static_cast<int>(row.Int(7));
  stored.region = static_cast<int>(row.Int(8));
  stored.first_submit_time_us = row.IsNull(9) ? 0 : row.Int(9);
  stored.late = row.Int(12) != 0;
  Report& report = stored.report;
  report.set_partner_id(row.Int(1));
  const absl::CivilMonth month = PeriodMonth(static_cast<int>(row.Int(2)));
  report.set_period(FormatMonth(month));
  report.set_status(static_cast<v1::ReportStatus>(stored.status));
  report.set_no_activity(stored.no_activity);
  report.set_revision(stored.revision);
  report.set_etag(EtagOf(stored.revision));
  if (stored.first_submit_time_us != 0) {
    *report.mutable_first_submit_time() =
        TimeUtil::MicrosecondsToTimestamp(stored.first_submit_time_us);
  }
  *report.mutable_update_time() =
      TimeUtil::MicrosecondsToTimestamp(row.Int(10));
  report.set_submitted_by(row.Text(11));
  report.set_late(stored.late);
  *report.mutable_deadline() = TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(PeriodDeadline(month, deadline_days)));
  return stored;
}

// A stored report with its cells, as the API returns it.
Report WithCells(const StoredReport& stored) {
  Report report = stored.report;
  SetReportCells(stored.cells, &report);
  return report;
}

absl::StatusOr<std::optional<StoredReport>> LoadReport(Session& session,
                                                       int64_t partner_id,
                                                       int period,
                                                       bool for_update,
                                                       int deadline_days) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          absl::StrCat("SELECT ", kReportColumns,
                       " FROM reports WHERE partner_id = ? AND period = ?",
                       for_update ? " FOR UPDATE" : ""),
          {SqlInt(partner_id), SqlInt(period)}));
  if (rows.empty()) return std::nullopt;
  StoredReport stored = ReportFromRow(rows.front(), deadline_days);
  if (stored.unreadable) {
    return absl::DataLossError(
        absl::StrCat("report ", stored.id, " has unreadable cells"));
  }
  return stored;
}

namespace {

// What a row's parameters take in a statement, about: its strings' bytes,
// eight for anything else.
size_t ParamBytes(const std::vector<SqlValue>& row) {
  size_t bytes = 0;
  for (const SqlValue& value : row) {
    const std::string* text = std::get_if<std::string>(&value);
    bytes += text != nullptr ? text->size() : sizeof(int64_t);
  }
  return bytes;
}

}  // namespace

// Powers of two below 64 rows, so that a table's statements take at most
// seven shapes in each connection's prepared-statement cache.
absl::Status InsertBatched(Session& session, absl::string_view head,
                           absl::string_view tuple, absl::string_view tail,
                           const std::vector<std::vector<SqlValue>>& rows) {
  size_t next = 0;
  while (next < rows.size()) {
    // The next rows that fit the budget together (at least one).
    size_t end = next;
    size_t bytes = 0;
    while (end < rows.size()) {
      const size_t row_bytes = ParamBytes(rows[end]);
      if (end > next && bytes + row_bytes > kInsertBatchBytes) break;
      bytes += row_bytes;
      ++end;
    }
    for (size_t chunk = 64; chunk >= 1; chunk /= 2) {
      while (end - next >= chunk) {
        std::string sql(head);
        std::vector<SqlValue> params;
        for (size_t i = 0; i < chunk; ++i) {
          absl::StrAppend(&sql, i == 0 ? "" : ",", tuple);
          const std::vector<SqlValue>& row = rows[next + i];
          params.insert(params.end(), row.begin(), row.end());
        }
        absl::StrAppend(&sql, tail);
        SMZ_RETURN_IF_ERROR((session.Execute(sql, params)).status());
        next += chunk;
      }
    }
  }
  return absl::OkStatus();
}

std::string ReportBytes(const Report& report) {
  return report.SerializeAsString();
}

bool ParseInt128(absl::string_view text, __int128* out) {
  if (text.empty()) {
    *out = 0;
    return true;
  }
  bool negative = false;
  size_t i = 0;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  __int128 value = 0;
  for (; i < text.size(); ++i) {
    if (text[i] == '.') break;  // DECIMAL(38,0) has no fraction
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = negative ? -value : value;
  return true;
}

std::string InList(size_t n) {
  std::string list = "(";
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&list, i ? ",?" : "?");
  absl::StrAppend(&list, ")");
  return list;
}

bool Has(const std::vector<v1::Dimension>& dims, v1::Dimension d) {
  return std::find(dims.begin(), dims.end(), d) != dims.end();
}

}  // namespace smz::stats
