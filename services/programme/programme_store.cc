#include "services/programme/programme_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/aip/change_log.h"
#include "common/aip/status_macros.h"
#include "common/aip/versioned_row.h"
#include "common/mysql/audit.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/time_util.h"

namespace smz::programme {
namespace {

using ::google::protobuf::util::TimeUtil;

google::protobuf::Timestamp FromMicros(int64_t us) {
  return TimeUtil::MicrosecondsToTimestamp(us);
}

// ---- projects ----

std::string ProjectBody(v1::Project p) {
  p.clear_id();
  p.clear_etag();
  p.clear_create_time();
  p.clear_update_time();
  return DeterministicBytes(p);
}

constexpr absl::string_view kProjectColumns =
    "id, revision, create_us, update_us, body";

absl::StatusOr<v1::Project> ReadProject(const Row& row) {
  v1::Project p;
  if (!p.ParseFromString(row.Text(4))) {
    return absl::DataLossError(
        absl::StrCat("project ", row.Int(0), ": stored definition unreadable"));
  }
  p.set_id(row.Int(0));
  p.set_etag(EtagOf(row.Int(1)));
  *p.mutable_create_time() = FromMicros(row.Int(2));
  *p.mutable_update_time() = FromMicros(row.Int(3));
  return p;
}

absl::StatusOr<v1::Project> LoadProject(Session& session, int64_t id,
                                        bool lock) {
  SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       session.Query(absl::StrCat("SELECT ", kProjectColumns,
                                                  " FROM projects WHERE id = ?",
                                                  lock ? " FOR UPDATE" : ""),
                                     {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("project ", id, " not found"));
  }
  return ReadProject(rows.front());
}

// INVALID_ARGUMENT on `field` when project `id` does not exist. A shared
// lock keeps it from changing under the row that refers to it.
absl::Status CheckProjectExists(Session& session, int64_t id,
                                const std::string& field) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query("SELECT id FROM projects WHERE id = ? LOCK IN SHARE MODE",
                    {SqlInt(id)}));
  if (rows.empty()) {
    return InvalidField(field, absl::StrCat("project ", id, " not found"));
  }
  return absl::OkStatus();
}

// ---- budget lines ----

constexpr absl::string_view kLineColumns =
    "l.id, l.project_id, l.year, l.funding_source, l.amount_krw, l.note, "
    "l.revision, l.update_us, "
    "(SELECT COALESCE(SUM(x.amount_krw), 0) FROM executions x "
    "WHERE x.line_id = l.id)";

v1::BudgetLine ReadLine(const Row& row) {
  v1::BudgetLine l;
  l.set_id(row.Int(0));
  l.set_project_id(row.Int(1));
  l.set_year(static_cast<int32_t>(row.Int(2)));
  l.set_funding_source(static_cast<v1::FundingSource>(row.Int(3)));
  l.set_amount_krw(row.Int(4));
  l.set_note(row.Text(5));
  l.set_etag(EtagOf(row.Int(6)));
  *l.mutable_update_time() = FromMicros(row.Int(7));
  l.set_executed_krw(row.Int(8));
  return l;
}

absl::StatusOr<v1::BudgetLine> LoadLine(Session& session, int64_t id,
                                        bool lock) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(absl::StrCat("SELECT ", kLineColumns,
                                 " FROM budget_lines l WHERE l.id = ?",
                                 lock ? " FOR UPDATE" : ""),
                    {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("budget line ", id, " not found"));
  }
  return ReadLine(rows.front());
}

// ---- executions ----

constexpr absl::string_view kExecutionColumns =
    "id, line_id, amount_krw, entry_date, description, created_by, create_us";

v1::ExecutionEntry ReadExecution(const Row& row) {
  v1::ExecutionEntry e;
  e.set_id(row.Int(0));
  e.set_line_id(row.Int(1));
  e.set_amount_krw(row.Int(2));
  e.set_date(row.Text(3));
  e.set_description(row.Text(4));
  e.set_created_by(row.Text(5));
  *e.mutable_create_time() = FromMicros(row.Int(6));
  return e;
}

// ---- indicators ----

std::string IndicatorBody(v1::Indicator i) {
  i.clear_id();
  i.clear_etag();
  i.clear_update_time();
  return DeterministicBytes(i);
}

absl::StatusOr<v1::Indicator> ReadIndicator(const Row& row) {
  v1::Indicator i;
  if (!i.ParseFromString(row.Text(3))) {
    return absl::DataLossError(absl::StrCat("indicator ", row.Int(0),
                                            ": stored definition unreadable"));
  }
  i.set_id(row.Int(0));
  i.set_etag(EtagOf(row.Int(1)));
  *i.mutable_update_time() = FromMicros(row.Int(2));
  return i;
}

absl::StatusOr<v1::Indicator> LoadIndicator(Session& session, int64_t id,
                                            bool lock) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          absl::StrCat("SELECT id, revision, update_us, body FROM indicators "
                       "WHERE id = ?",
                       lock ? " FOR UPDATE" : ""),
          {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("indicator ", id, " not found"));
  }
  return ReadIndicator(rows.front());
}

// Executions: created once, never changed.
absl::StatusOr<v1::ExecutionEntry> LoadExecution(Session& session, int64_t id,
                                                 bool lock) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(absl::StrCat("SELECT ", kExecutionColumns,
                                 " FROM executions WHERE id = ?"),
                    {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("execution ", id, " not found"));
  }
  return ReadExecution(rows.front());
}

// The line's row lock serializes executions of one line, so two entries
// cannot both fit under the budget's last won.
absl::Status CheckExecutionFits(Session& session,
                                const v1::ExecutionEntry& entry) {
  absl::StatusOr<v1::BudgetLine> line =
      LoadLine(session, entry.line_id(), true);
  if (absl::IsNotFound(line.status())) {
    return InvalidField(
        "entry.line_id",
        absl::StrCat("budget line ", entry.line_id(), " not found"));
  }
  SMZ_RETURN_IF_ERROR(line.status());
  const std::optional<absl::CivilDay> day = ParseDate(entry.date());
  if (!day || day->year() < line->year() || day->year() > line->year() + 1) {
    return InvalidField(
        "entry.date",
        absl::StrCat("must fall in ", line->year(), " or its settlement year ",
                     line->year() + 1, " (line ", line->id(), " is for ",
                     line->year(), ")"));
  }
  const int64_t executed = line->executed_krw() + entry.amount_krw();
  if (executed > line->amount_krw() || executed < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "entry.amount_krw: line ", line->id(), " has ", line->amount_krw(),
        " KRW budgeted and ", line->executed_krw(), " KRW executed; ",
        entry.amount_krw(), " KRW more would make it ", executed, " KRW"));
  }
  return absl::OkStatus();
}

// ---- the versioned tables ----

const VersionedTable<v1::Project>& Projects() {
  static const auto* const kTable = new VersionedTable<v1::Project>{
      "project", LoadProject, [](const v1::Project& p) { return p.etag(); },
      [](Session& session, const v1::Project& project,
         absl::Time now) -> absl::StatusOr<int64_t> {
        const int64_t now_us = absl::ToUnixMicros(now);
        absl::StatusOr<int64_t> inserted = session.Execute(
            "INSERT INTO projects (parent_id, kind, code, sort_order, body, "
            "revision, create_us, update_us) VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            {SqlInt(project.parent_id()), SqlInt(project.kind()),
             project.code(), SqlInt(project.sort_order()), ProjectBody(project),
             SqlInt(now_us), SqlInt(now_us)});
        if (absl::IsAlreadyExists(inserted.status())) {
          return absl::AlreadyExistsError(
              absl::StrCat("project.code: a project with code '",
                           project.code(), "' exists"));
        }
        SMZ_RETURN_IF_ERROR(inserted.status());
        return session.LastInsertId();
      },
      [](Session& session, const v1::Project&, const v1::Project& p,
         absl::Time now) {
        return session
            .Execute(
                "UPDATE projects SET sort_order = ?, body = ?, "
                "revision = revision + 1, update_us = ? WHERE id = ?",
                {SqlInt(p.sort_order()), ProjectBody(p),
                 SqlInt(absl::ToUnixMicros(now)), SqlInt(p.id())})
            .status();
      }};
  return *kTable;
}

const VersionedTable<v1::BudgetLine>& BudgetLines() {
  static const auto* const kTable = new VersionedTable<v1::BudgetLine>{
      "budget_line", LoadLine, [](const v1::BudgetLine& l) { return l.etag(); },
      [](Session& session, const v1::BudgetLine& line,
         absl::Time now) -> absl::StatusOr<int64_t> {
        absl::StatusOr<int64_t> inserted = session.Execute(
            "INSERT INTO budget_lines (project_id, year, funding_source, "
            "amount_krw, note, revision, update_us) VALUES (?, ?, ?, ?, ?, 1, "
            "?)",
            {SqlInt(line.project_id()), SqlInt(line.year()),
             SqlInt(line.funding_source()), SqlInt(line.amount_krw()),
             line.note(), SqlInt(absl::ToUnixMicros(now))});
        if (absl::IsAlreadyExists(inserted.status())) {
          absl::StatusOr<std::vector<Row>> twin = session.Query(
              "SELECT id FROM budget_lines WHERE project_id = ? AND year = ? "
              "AND funding_source = ?",
              {SqlInt(line.project_id()), SqlInt(line.year()),
               SqlInt(line.funding_source())});
          return absl::AlreadyExistsError(absl::StrCat(
              "line: project ", line.project_id(), " already has a ",
              v1::FundingSource_Name(line.funding_source()), " line for ",
              line.year(),
              twin.ok() && !twin->empty()
                  ? absl::StrCat(" (line ", twin->front().Int(0),
                                 "); update that one")
                  : ""));
        }
        SMZ_RETURN_IF_ERROR(inserted.status());
        return session.LastInsertId();
      },
      [](Session& session, const v1::BudgetLine&, const v1::BudgetLine& l,
         absl::Time now) {
        return session
            .Execute(
                "UPDATE budget_lines SET amount_krw = ?, note = ?, "
                "revision = revision + 1, update_us = ? WHERE id = ?",
                {SqlInt(l.amount_krw()), l.note(),
                 SqlInt(absl::ToUnixMicros(now)), SqlInt(l.id())})
            .status();
      }};
  return *kTable;
}

const VersionedTable<v1::Indicator>& Indicators() {
  static const auto* const kTable = new VersionedTable<v1::Indicator>{
      "indicator", LoadIndicator,
      [](const v1::Indicator& i) { return i.etag(); },
      [](Session& session, const v1::Indicator& indicator,
         absl::Time now) -> absl::StatusOr<int64_t> {
        absl::StatusOr<int64_t> inserted = session.Execute(
            "INSERT INTO indicators (project_id, code, sort_order, body, "
            "revision, update_us) VALUES (?, ?, ?, ?, 1, ?)",
            {SqlInt(indicator.project_id()), indicator.code(),
             SqlInt(indicator.sort_order()), IndicatorBody(indicator),
             SqlInt(absl::ToUnixMicros(now))});
        if (absl::IsAlreadyExists(inserted.status())) {
          return absl::AlreadyExistsError(
              absl::StrCat("indicator.code: an indicator with code '",
                           indicator.code(), "' exists"));
        }
        SMZ_RETURN_IF_ERROR(inserted.status());
        return session.LastInsertId();
      },
      [](Session& session, const v1::Indicator&, const v1::Indicator& i,
         absl::Time now) {
        return session
            .Execute(
                "UPDATE indicators SET sort_order = ?, body = ?, "
                "revision = revision + 1, update_us = ? WHERE id = ?",
                {SqlInt(i.sort_order()), IndicatorBody(i),
                 SqlInt(absl::ToUnixMicros(now)), SqlInt(i.id())})
            .status();
      }};
  return *kTable;
}

// Executions are append-only: no etag, no write.
const VersionedTable<v1::ExecutionEntry>& Executions() {
  static const auto* const kTable = new VersionedTable<v1::ExecutionEntry>{
      "execution", LoadExecution,
      [](const v1::ExecutionEntry&) { return std::string(); },
      [](Session& session, const v1::ExecutionEntry& entry,
         absl::Time now) -> absl::StatusOr<int64_t> {
        SMZ_RETURN_IF_ERROR(
            session
                .Execute("INSERT INTO executions (line_id, amount_krw, "
                         "entry_date, description, created_by, create_us) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         {SqlInt(entry.line_id()), SqlInt(entry.amount_krw()),
                          entry.date(), entry.description(), entry.created_by(),
                          SqlInt(absl::ToUnixMicros(now))})
                .status());
        return session.LastInsertId();
      },
      nullptr};
  return *kTable;
}

}  // namespace

ProgrammeStore::ProgrammeStore(Database* database, const Clock* clock)
    : database_(database), clock_(clock) {}

// ---- projects ----

absl::StatusOr<v1::Project> ProgrammeStore::CreateProject(
    const v1::Project& project, const RequestKey& key) {
  return Create(Projects(), key, project, [&](Session& session) {
    if (project.parent_id() <= 0) return absl::OkStatus();
    return CheckProjectExists(session, project.parent_id(),
                              "project.parent_id");
  });
}

absl::StatusOr<v1::Project> ProgrammeStore::GetProject(int64_t id) {
  return database_->RunFor<v1::Project>(
      [&](Session& session) { return LoadProject(session, id, false); });
}

absl::StatusOr<std::vector<v1::Project>> ProgrammeStore::ListProjects(
    const ProjectQuery& query) {
  std::string where = "WHERE id > ?";
  std::vector<SqlValue> params = {SqlInt(query.after_id)};
  if (query.roots_only) {
    where += " AND parent_id = 0";
  } else if (query.parent_id > 0) {
    where += " AND parent_id = ?";
    params.push_back(SqlInt(query.parent_id));
  }
  if (query.kind != v1::PROJECT_KIND_UNSPECIFIED) {
    where += " AND kind = ?";
    params.push_back(SqlInt(query.kind));
  }
  params.push_back(SqlInt(query.limit));
  return database_->RunFor<std::vector<v1::Project>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::Project>> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat("SELECT ", kProjectColumns, " FROM projects ",
                             where, " ORDER BY id LIMIT ?"),
                params));
        std::vector<v1::Project> out;
        for (const Row& row : rows) {
          absl::StatusOr<v1::Project> p = ReadProject(row);
          if (!p.ok()) return p.status();
          out.push_back(*std::move(p));
        }
        return out;
      });
}

absl::StatusOr<v1::Project> ProgrammeStore::ModifyProject(
    int64_t id, const std::string& etag, const std::string& actor,
    absl::FunctionRef<absl::Status(v1::Project&)> change) {
  return Modify(Projects(), id, etag, actor, change);
}

// ---- budget lines ----

absl::StatusOr<v1::BudgetLine> ProgrammeStore::CreateBudgetLine(
    const v1::BudgetLine& line, const RequestKey& key) {
  return Create(BudgetLines(), key, line, [&](Session& session) {
    return CheckProjectExists(session, line.project_id(), "line.project_id");
  });
}

absl::StatusOr<std::vector<v1::BudgetLine>> ProgrammeStore::ListBudgetLines(
    const LineQuery& query) {
  std::string where = "WHERE l.id > ?";
  std::vector<SqlValue> params = {SqlInt(query.after_id)};
  if (query.project_id > 0) {
    where += " AND l.project_id = ?";
    params.push_back(SqlInt(query.project_id));
  }
  if (query.year > 0) {
    where += " AND l.year = ?";
    params.push_back(SqlInt(query.year));
  }
  params.push_back(SqlInt(query.limit));
  return database_->RunFor<std::vector<v1::BudgetLine>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::BudgetLine>> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat("SELECT ", kLineColumns, " FROM budget_lines l ",
                             where, " ORDER BY l.id LIMIT ?"),
                params));
        std::vector<v1::BudgetLine> out;
        for (const Row& row : rows) out.push_back(ReadLine(row));
        return out;
      });
}

absl::StatusOr<v1::BudgetLine> ProgrammeStore::ModifyBudgetLine(
    int64_t id, const std::string& etag, const std::string& actor,
    absl::FunctionRef<absl::Status(v1::BudgetLine&)> change) {
  return Modify<v1::BudgetLine>(
      BudgetLines(), id, etag, actor,
      [&](v1::BudgetLine& line) -> absl::Status {
        const int64_t executed = line.executed_krw();
        SMZ_RETURN_IF_ERROR(change(line));
        if (line.amount_krw() < executed) {
          return absl::FailedPreconditionError(absl::StrCat(
              "line.amount_krw: ", line.amount_krw(), " KRW is below the ",
              executed, " KRW already executed on line ", id,
              "; record a correcting execution first"));
        }
        return absl::OkStatus();
      });
}

// ---- executions ----

absl::StatusOr<v1::ExecutionEntry> ProgrammeStore::RecordExecution(
    const v1::ExecutionEntry& entry, const RequestKey& key) {
  v1::ExecutionEntry stored = entry;
  stored.set_created_by(key.caller);
  return Create(Executions(), key, stored, [&](Session& session) {
    return CheckExecutionFits(session, entry);
  });
}

absl::StatusOr<std::vector<v1::ExecutionEntry>> ProgrammeStore::ListExecutions(
    int64_t line_id, int64_t after_id, int limit) {
  return database_->RunFor<std::vector<v1::ExecutionEntry>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::ExecutionEntry>> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat("SELECT ", kExecutionColumns,
                             " FROM executions WHERE line_id = ? AND id > ? "
                             "ORDER BY id LIMIT ?"),
                {SqlInt(line_id), SqlInt(after_id), SqlInt(limit)}));
        std::vector<v1::ExecutionEntry> out;
        for (const Row& row : rows) out.push_back(ReadExecution(row));
        return out;
      });
}

absl::StatusOr<BudgetYear> ProgrammeStore::LoadBudgetYear(
    int32_t year, std::optional<absl::CivilDay> as_of) {
  // One transaction: projects and lines from the same snapshot.
  return database_->TransactFor<BudgetYear>(
      [&](Session& session) -> absl::StatusOr<BudgetYear> {
        BudgetYear out;
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> projects,
            session.Query(absl::StrCat("SELECT ", kProjectColumns,
                                       " FROM projects ORDER BY id"),
                          {}));
        for (const Row& row : projects) {
          absl::StatusOr<v1::Project> p = ReadProject(row);
          if (!p.ok()) return p.status();
          out.projects.push_back(*std::move(p));
        }
        absl::StatusOr<std::vector<Row>> lines = session.Query(
            "SELECT l.id, l.project_id, l.year, l.funding_source, "
            "l.amount_krw, l.note, l.revision, l.update_us, "
            "(SELECT COALESCE(SUM(x.amount_krw), 0) FROM executions x "
            "WHERE x.line_id = l.id AND x.entry_date <= ?) "
            "FROM budget_lines l WHERE l.year = ? ORDER BY l.id",
            {as_of ? FormatDate(*as_of) : std::string("9999-12-31"),
             SqlInt(year)});
        if (!lines.ok()) return lines.status();
        for (const Row& row : *lines) out.lines.push_back(ReadLine(row));
        return out;
      });
}

// ---- indicators ----

absl::StatusOr<v1::Indicator> ProgrammeStore::CreateIndicator(
    const v1::Indicator& indicator, const RequestKey& key) {
  return Create(Indicators(), key, indicator, [&](Session& session) {
    return CheckProjectExists(session, indicator.project_id(),
                              "indicator.project_id");
  });
}

absl::StatusOr<v1::Indicator> ProgrammeStore::GetIndicator(int64_t id) {
  return database_->RunFor<v1::Indicator>(
      [&](Session& session) { return LoadIndicator(session, id, false); });
}

absl::StatusOr<std::vector<v1::Indicator>> ProgrammeStore::ListIndicators(
    const IndicatorQuery& query) {
  std::string where = "WHERE id > ?";
  std::vector<SqlValue> params = {SqlInt(query.after_id)};
  if (query.project_id > 0) {
    // The project's own indicators and those of its direct sub-projects.
    where +=
        " AND (project_id = ? OR project_id IN (SELECT id FROM projects "
        "WHERE parent_id = ?))";
    params.push_back(SqlInt(query.project_id));
    params.push_back(SqlInt(query.project_id));
  }
  params.push_back(SqlInt(query.limit));
  return database_->RunFor<std::vector<v1::Indicator>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::Indicator>> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat("SELECT id, revision, update_us, body FROM "
                             "indicators ",
                             where, " ORDER BY id LIMIT ?"),
                params));
        std::vector<v1::Indicator> out;
        for (const Row& row : rows) {
          absl::StatusOr<v1::Indicator> i = ReadIndicator(row);
          if (!i.ok()) return i.status();
          out.push_back(*std::move(i));
        }
        return out;
      });
}

absl::StatusOr<v1::Indicator> ProgrammeStore::ModifyIndicator(
    int64_t id, const std::string& etag, const std::string& actor,
    absl::FunctionRef<absl::Status(v1::Indicator&)> change) {
  return Modify(Indicators(), id, etag, actor, change);
}

absl::StatusOr<audit::v1::ListChangesResponse> ProgrammeStore::ListChanges(
    const audit::v1::ListChangesRequest& request) {
  static const auto* const kEntities =
      new AuditedEntities{{"project", v1::Project::descriptor()},
                          {"budget_line", v1::BudgetLine::descriptor()},
                          {"execution", v1::ExecutionEntry::descriptor()},
                          {"indicator", v1::Indicator::descriptor()}};
  return smz::ListChanges(*database_, *kEntities, request);
}

}  // namespace smz::programme
