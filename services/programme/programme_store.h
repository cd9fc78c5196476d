// Storage of the programme service: every SQL statement of the service, in
// transactions, with Connector/C++ errors already turned into Status by
// smz::Database. Inputs are validated by the caller (Programme); the store
// checks what needs the database: that referenced rows exist, uniqueness,
// etags, and that execution never exceeds a line's budget.
//
//   ProgrammeStore store(&database, &clock);
//   absl::StatusOr<v1::Project> p = store.CreateProject(
//       project, smz::KeyOf(caller, "CreateProject", request));
//   absl::StatusOr<v1::BudgetLine> line = store.ModifyBudgetLine(
//       id, etag, actor, [](v1::BudgetLine& l) { l.set_amount_krw(5);
//                                                 return absl::OkStatus(); });
#ifndef SMZ_SERVICES_PROGRAMME_PROGRAMME_STORE_H_
#define SMZ_SERVICES_PROGRAMME_PROGRAMME_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/aip/idempotency.h"
#include "common/aip/versioned_row.h"
#include "common/clock.h"
#include "common/mysql/database.h"
#include "smz/audit/v1/audit.pb.h"
#include "smz/programme/v1/programme.pb.h"

namespace smz::programme {

namespace v1 = ::smz::programme::v1;

// Lists are in id order; `after_id` resumes after the last row returned.
struct ProjectQuery {
  int64_t parent_id = 0;
  bool roots_only = false;
  v1::ProjectKind kind = v1::PROJECT_KIND_UNSPECIFIED;
  int64_t after_id = 0;
  int limit = 50;
};
struct LineQuery {
  int64_t project_id = 0;
  int32_t year = 0;
  int64_t after_id = 0;
  int limit = 50;
};
struct IndicatorQuery {
  int64_t project_id = 0;
  int64_t after_id = 0;
  int limit = 50;
};

// What a year's budget table is built from: every project, and the year's
// lines with executed_krw summed up to as_of (all entries when nullopt).
struct BudgetYear {
  std::vector<v1::Project> projects;
  std::vector<v1::BudgetLine> lines;
};

class ProgrammeStore {
 public:
  ProgrammeStore(Database* database, const Clock* clock);

  absl::StatusOr<v1::Project> CreateProject(const v1::Project& project,
                                            const RequestKey& key);
  absl::StatusOr<v1::Project> GetProject(int64_t id);
  absl::StatusOr<std::vector<v1::Project>> ListProjects(
      const ProjectQuery& query);
  // Locks the project, checks the etag (ABORTED when stale), applies
  // `change`, stores and audits it.
  absl::StatusOr<v1::Project> ModifyProject(
      int64_t id, const std::string& etag, const std::string& actor,
      absl::FunctionRef<absl::Status(v1::Project&)> change);

  absl::StatusOr<v1::BudgetLine> CreateBudgetLine(const v1::BudgetLine& line,
                                                  const RequestKey& key);
  absl::StatusOr<std::vector<v1::BudgetLine>> ListBudgetLines(
      const LineQuery& query);
  absl::StatusOr<v1::BudgetLine> ModifyBudgetLine(
      int64_t id, const std::string& etag, const std::string& actor,
      absl::FunctionRef<absl::Status(v1::BudgetLine&)> change);

  // FAILED_PRECONDITION when the line's executed total would leave
  // 0..amount_krw.
  absl::StatusOr<v1::ExecutionEntry> RecordExecution(
      const v1::ExecutionEntry& entry, const RequestKey& key);
  absl::StatusOr<std::vector<v1::ExecutionEntry>> ListExecutions(
      int64_t line_id, int64_t after_id, int limit);

  absl::StatusOr<BudgetYear> LoadBudgetYear(
      int32_t year, std::optional<absl::CivilDay> as_of);

  absl::StatusOr<v1::Indicator> CreateIndicator(const v1::Indicator& indicator,
                                                const RequestKey& key);
  absl::StatusOr<v1::Indicator> GetIndicator(int64_t id);
  absl::StatusOr<std::vector<v1::Indicator>> ListIndicators(
      const IndicatorQuery& query);
  absl::StatusOr<v1::Indicator> ModifyIndicator(
      int64_t id, const std::string& etag, const std::string& actor,
      absl::FunctionRef<absl::Status(v1::Indicator&)> change);

  // The audit trail of projects, budget lines, executions and indicators.
  absl::StatusOr<audit::v1::ListChangesResponse> ListChanges(
      const audit::v1::ListChangesRequest& request);

 private:
  // Create and Update of every resource: one transaction each (see
  // common/aip/versioned_row.h).
  template <typename T>
  absl::StatusOr<T> Create(const VersionedTable<T>& table,
                           const RequestKey& key, const T& value,
                           std::function<absl::Status(Session&)> check) {
    const WriteContext write{key.caller, clock_->Now()};
    return database_->TransactFor<T>([&](Session& session) {
      return CreateVersioned(session, table, key, write, value, check);
    });
  }
  template <typename T>
  absl::StatusOr<T> Modify(const VersionedTable<T>& table, int64_t id,
                           const std::string& etag, const std::string& actor,
                           absl::FunctionRef<absl::Status(T&)> change) {
    const WriteContext write{actor, clock_->Now()};
    return database_->TransactFor<T>([&](Session& session) {
      return ModifyVersioned<T>(
          session, table, id, etag, "UPDATE", write,
          [&](Session&, T& value) { return change(value); });
    });
  }

  Database* const database_;
  const Clock* const clock_;
};

}  // namespace smz::programme

#endif  // SMZ_SERVICES_PROGRAMME_PROGRAMME_STORE_H_
