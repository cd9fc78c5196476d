// The programme's arithmetic, apart from storage and transport: execution
// rates as the council tables print them, the budget table of a year in tree
// order, and the reconciliation of stated totals against their details.
//
//   std::vector<v1::Project> projects = ...;   // a tree (parent_id)
//   std::vector<v1::BudgetLine> lines = ...;   // one year, executed_krw set
//   v1::BudgetTable table = BuildBudgetTable(2022, "2022-10-31", projects,
//                                            lines, /*root_project_id=*/0);
//   // table.rows(): parent first, then children, by sort_order;
//   // table.findings(): e.g. executed of 의료관광 활성화 stated 258,672k but
//   // its detail projects add up to 258,665k (difference 7k).
#ifndef SMZ_SERVICES_PROGRAMME_PROGRAMME_RULES_H_
#define SMZ_SERVICES_PROGRAMME_PROGRAMME_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status_util.h"
#include "smz/programme/v1/programme.pb.h"

namespace smz::programme {

namespace v1 = ::smz::programme::v1;

// executed / budget in percent, rounded half up to one decimal (58.27 ->
// 58.3); nullopt when the budget is 0.
std::optional<double> ExecutionRatePercent(int64_t executed, int64_t budget);

// A result against a target in percent, one decimal, rounded half up;
// `capped` limits it to 100 as the council's achievement tables print it.
std::optional<double> AchievementPercent(int64_t result, int64_t target,
                                         bool capped);

// The year's budget rows under `root_project_id` (0: all roots), parents
// before children, siblings by sort_order then code, each project's lines by
// funding source; and a finding for every stated figure its details do not
// add up to:
//   - a project's ALL_SOURCES line against its DISTRICT + CITY + NATIONAL
//     lines, when it has any of them;
//   - a project's line of a source against the sum of its children's lines
//     of that source, when any child has one.
// Budget and executed are both checked.
v1::BudgetTable BuildBudgetTable(int32_t year, const std::string& as_of_date,
                                 const std::vector<v1::Project>& projects,
                                 const std::vector<v1::BudgetLine>& lines,
                                 int64_t root_project_id);

// Field checks for a project, a budget line, an execution entry and an
// indicator as sent by a client (ids and output-only fields ignored).
void ValidateProject(const v1::Project& project, FieldViolations* violations);
void ValidateBudgetLine(const v1::BudgetLine& line,
                        FieldViolations* violations);
void ValidateExecution(const v1::ExecutionEntry& entry,
                       FieldViolations* violations);
void ValidateIndicator(const v1::Indicator& indicator,
                       FieldViolations* violations);

// The code rule shared by projects and indicators: [a-z0-9-/.]{1,64}.
bool IsValidCode(const std::string& code);

}  // namespace smz::programme

#endif  // SMZ_SERVICES_PROGRAMME_PROGRAMME_RULES_H_
