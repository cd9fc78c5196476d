#include "services/programme/programme_rules.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/iso_codes.h"
#include "common/request_fields.h"
#include "smz/events/v1/events.pb.h"

namespace smz::programme {
namespace {

constexpr size_t kMaxNameLength = 300;
constexpr size_t kMaxDescriptionLength = 5000;
constexpr size_t kMaxNoteLength = 1000;
constexpr int32_t kFirstYear = 2000;
constexpr int32_t kLastYear = 2100;
// No single line of a district programme comes near a trillion won; a
// larger figure is a unit mistake (won entered as thousands, or worse).
constexpr int64_t kMaxAmountKrw = 1'000'000'000'000;

// Tenths of a percent, rounded half up, for non-negative a / b (b > 0).
int64_t TenthsOfPercent(int64_t a, int64_t b) {
  // a * 1000 / b rounded half up, in 128 bits so won amounts cannot
  // overflow.
  const __int128 scaled = static_cast<__int128>(a) * 2000 + b;
  return static_cast<int64_t>(scaled / (static_cast<__int128>(b) * 2));
}

void ValidateYearRange(int32_t first, int32_t last, FieldViolations* v) {
  if (first != 0 && (first < kFirstYear || first > kLastYear)) {
    v->Add("first_year",
           absl::StrCat("must be 0 or ", kFirstYear, "..", kLastYear));
  }
  if (last != 0 && (last < kFirstYear || last > kLastYear)) {
    v->Add("last_year",
           absl::StrCat("must be 0 or ", kFirstYear, "..", kLastYear));
  }
  if (first != 0 && last != 0 && last < first) {
    v->Add("last_year", "must not be before first_year");
  }
}

// The events service's EventType names; the proto is shared, the service is
// only asked at report time (by the gateway).
bool IsValidEventTypeName(const std::string& name) {
  events::v1::EventType type;
  return events::v1::EventType_Parse(name, &type) &&
         type != events::v1::EVENT_TYPE_UNSPECIFIED;
}

bool IsPublicSource(v1::FundingSource source) {
  return source == v1::DISTRICT || source == v1::CITY || source == v1::NATIONAL;
}

struct Figures {
  int64_t budget = 0;
  int64_t executed = 0;
};

void AddFinding(const v1::Project& project, v1::FundingSource source,
                v1::ReconciliationFinding::Figure figure, int64_t stated,
                int64_t sum, const std::string& details,
                v1::BudgetTable* table) {
  if (stated == sum) return;
  v1::ReconciliationFinding* f = table->add_findings();
  f->set_project_id(project.id());
  f->set_project_code(project.code());
  f->set_funding_source(source);
  f->set_figure(figure);
  f->set_stated_krw(stated);
  f->set_sum_of_details_krw(sum);
  f->set_difference_krw(stated - sum);
  f->set_details(details);
  f->set_message(absl::StrCat(
      figure == v1::ReconciliationFinding::BUDGET ? "budget" : "executed",
      " of ", project.code(), " (", v1::FundingSource_Name(source),
      ") is stated as ", stated, " KRW but its ", details, " add up to ", sum,
      " KRW (difference ", stated - sum, " KRW)"));
}

}  // namespace

std::optional<double> ExecutionRatePercent(int64_t executed, int64_t budget) {
  if (budget <= 0) return std::nullopt;
  const bool negative = executed < 0;
  const int64_t tenths =
      TenthsOfPercent(negative ? -executed : executed, budget);
  return (negative ? -tenths : tenths) / 10.0;
}

std::optional<double> AchievementPercent(int64_t result, int64_t target,
                                         bool capped) {
  std::optional<double> rate = ExecutionRatePercent(result, target);
  if (rate && capped) rate = std::min(*rate, 100.0);
  return rate;
}

// Long by design: one pass over the project tree that builds the rows and their
// subtotals together.
v1::BudgetTable BuildBudgetTable(int32_t year, const std::string& as_of_date,
                                 const std::vector<v1::Project>& projects,
                                 const std::vector<v1::BudgetLine>& lines,
                                 int64_t root_project_id) {
  v1::BudgetTable table;
  table.set_year(year);
  table.set_as_of_date(as_of_date);
  absl::flat_hash_map<int64_t, const v1::Project*> by_id;
  std::map<int64_t, std::vector<const v1::Project*>> children;
  for (const v1::Project& p : projects) by_id[p.id()] = &p;
  for (const v1::Project& p : projects) {
    // A parent outside the list makes the project a root of what is shown.
    const int64_t parent = by_id.contains(p.parent_id()) ? p.parent_id() : 0;
    children[parent].push_back(&p);
  }
  for (auto& [parent, list] : children) {
    std::sort(list.begin(), list.end(),
              [](const v1::Project* a, const v1::Project* b) {
                if (a->sort_order() != b->sort_order()) {
                  return a->sort_order() < b->sort_order();
                }
                return a->code() < b->code();
              });
  }
  // project -> source -> figures of its line (one line per source).
  std::map<int64_t, std::map<v1::FundingSource, const v1::BudgetLine*>> line_of;
  for (const v1::BudgetLine& line : lines) {
    if (line.year() != year) continue;
    line_of[line.project_id()][line.funding_source()] = &line;
  }

  // Depth-first, parents first.
  std::vector<std::pair<const v1::Project*, int>> order;
  std::vector<std::pair<const v1::Project*, int>> stack;
  auto push_children = [&](int64_t parent, int depth) {
    auto it = children.find(parent);
    if (it == children.end()) return;
    for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) {
      stack.emplace_back(*c, depth);
    }
  };
  if (root_project_id != 0) {
    auto root = by_id.find(root_project_id);
    if (root != by_id.end()) stack.emplace_back(root->second, 0);
  } else {
    push_children(0, 0);
  }
  while (!stack.empty()) {
    auto [project, depth] = stack.back();
    stack.pop_back();
    order.emplace_back(project, depth);
    push_children(project->id(), depth + 1);
  }

  for (const auto& [project, depth] : order) {
    auto lines_it = line_of.find(project->id());
    if (lines_it == line_of.end()) continue;
    for (const auto& [source, line] : lines_it->second) {
      v1::BudgetRow* row = table.add_rows();
      row->set_project_id(project->id());
      row->set_project_code(project->code());
      *row->mutable_project_name() = project->name();
      row->set_kind(project->kind());
      row->set_depth(depth);
      row->set_funding_source(source);
      row->set_budget_krw(line->amount_krw());
      row->set_executed_krw(line->executed_krw());
      row->set_line_id(line->id());
      if (std::optional<double> rate =
              ExecutionRatePercent(line->executed_krw(), line->amount_krw())) {
        row->set_execution_rate_percent(*rate);
      }
    }
  }

  // Reconciliation, in the same order as the rows.
  for (const auto& [project, depth] : order) {
    auto lines_it = line_of.find(project->id());
    if (lines_it == line_of.end()) continue;
    const auto& own = lines_it->second;
    // The all-sources line against the public sources.
    auto all = own.find(v1::ALL_SOURCES);
    if (all != own.end()) {
      Figures sum;
      bool any = false;
      for (const auto& [source, line] : own) {
        if (!IsPublicSource(source)) continue;
        any = true;
        sum.budget += line->amount_krw();
        sum.executed += line->executed_krw();
      }
      if (any) {
        const std::string details =
            absl::StrCat("funding sources (district, city, national)");
        AddFinding(*project, v1::ALL_SOURCES, v1::ReconciliationFinding::BUDGET,
                   all->second->amount_krw(), sum.budget, details, &table);
        AddFinding(*project, v1::ALL_SOURCES,
                   v1::ReconciliationFinding::EXECUTED,
                   all->second->executed_krw(), sum.executed, details, &table);
      }
    }
    // Each of its lines against its children's lines of the same source.
    auto kids = children.find(project->id());
    if (kids == children.end()) continue;
    for (const auto& [source, line] : own) {
      Figures sum;
      bool any = false;
      for (const v1::Project* child : kids->second) {
        auto child_lines = line_of.find(child->id());
        if (child_lines == line_of.end()) continue;
        auto match = child_lines->second.find(source);
        if (match == child_lines->second.end()) continue;
        any = true;
        sum.budget += match->second->amount_krw();
        sum.executed += match->second->executed_krw();
      }
      if (!any) continue;
      AddFinding(*project, source, v1::ReconciliationFinding::BUDGET,
                 line->amount_krw(), sum.budget, "sub-projects", &table);
      AddFinding(*project, source, v1::ReconciliationFinding::EXECUTED,
                 line->executed_krw(), sum.executed, "sub-projects", &table);
    }
  }
  return table;
}

bool IsValidCode(const std::string& code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' ||
          c == '/' || c == '.')) {
      return false;
    }
  }
  return true;
}

void ValidateProject(const v1::Project& project, FieldViolations* violations) {
  if (project.kind() == v1::PROJECT_KIND_UNSPECIFIED ||
      !v1::ProjectKind_IsValid(project.kind())) {
    violations->Add("project.kind", "is required");
  }
  if (!IsValidCode(project.code())) {
    violations->Add("project.code", "must be 1-64 of [a-z0-9-/.]");
  }
  if (project.parent_id() < 0) {
    violations->Add("project.parent_id", "must be 0 (a root) or a project id");
  }
  ValidateLocalizedTexts(project.name(), "project.name", kMaxNameLength, true,
                         violations);
  ValidateLocalizedTexts(project.description(), "project.description",
                         kMaxDescriptionLength, false, violations);
  FieldViolations years;
  ValidateYearRange(project.first_year(), project.last_year(), &years);
  for (const FieldViolation& v : years.violations()) {
    violations->Add(absl::StrCat("project.", v.field), v.description);
  }
}

void ValidateBudgetLine(const v1::BudgetLine& line,
                        FieldViolations* violations) {
  if (line.project_id() <= 0) {
    violations->Add("line.project_id", "is required");
  }
  if (line.year() < kFirstYear || line.year() > kLastYear) {
    violations->Add("line.year",
                    absl::StrCat("must be ", kFirstYear, "..", kLastYear));
  }
  if (line.funding_source() == v1::FUNDING_SOURCE_UNSPECIFIED ||
      !v1::FundingSource_IsValid(line.funding_source())) {
    violations->Add("line.funding_source", "is required");
  }
  if (line.amount_krw() < 0 || line.amount_krw() > kMaxAmountKrw) {
    violations->Add("line.amount_krw",
                    absl::StrCat("must be 0..", kMaxAmountKrw, " (KRW)"));
  }
  if (line.note().size() > kMaxNoteLength) {
    violations->Add("line.note",
                    absl::StrCat("is longer than ", kMaxNoteLength, " bytes"));
  }
}

void ValidateExecution(const v1::ExecutionEntry& entry,
                       FieldViolations* violations) {
  if (entry.line_id() <= 0) violations->Add("entry.line_id", "is required");
  if (entry.amount_krw() == 0 || entry.amount_krw() > kMaxAmountKrw ||
      entry.amount_krw() < -kMaxAmountKrw) {
    violations->Add("entry.amount_krw",
                    absl::StrCat("must be non-zero, at most ", kMaxAmountKrw,
                                 " KRW either way (negative: a correction)"));
  }
  if (!ParseDate(entry.date())) {
    violations->Add("entry.date", "is not a date (YYYY-MM-DD)");
  }
  if (absl::StripAsciiWhitespace(entry.description()).empty()) {
    violations->Add("entry.description",
                    "is required: what the money was spent on");
  } else if (entry.description().size() > kMaxNoteLength) {
    violations->Add("entry.description",
                    absl::StrCat("is longer than ", kMaxNoteLength, " bytes"));
  }
}

// Long by design: one check per field, in field order, so that every bad field
// is named at once.
void ValidateIndicator(const v1::Indicator& indicator,
                       FieldViolations* violations) {
  if (indicator.project_id() <= 0) {
    violations->Add("indicator.project_id", "is required");
  }
  if (!IsValidCode(indicator.code())) {
    violations->Add("indicator.code", "must be 1-64 of [a-z0-9-/.]");
  }
  ValidateLocalizedTexts(indicator.name(), "indicator.name", kMaxNameLength,
                         true, violations);
  if (indicator.unit() == v1::INDICATOR_UNIT_UNSPECIFIED ||
      !v1::IndicatorUnit_IsValid(indicator.unit())) {
    violations->Add("indicator.unit", "is required");
  }
  if (indicator.target_total() <= 0) {
    violations->Add("indicator.target_total", "must be > 0");
  }
  FieldViolations years;
  ValidateYearRange(indicator.first_year(), indicator.last_year(), &years);
  for (const FieldViolation& v : years.violations()) {
    violations->Add(absl::StrCat("indicator.", v.field), v.description);
  }
  auto check_year = [&](int32_t year, const std::string& field) {
    if (year < kFirstYear || year > kLastYear) {
      violations->Add(field, "is not a year of the programme");
    } else if ((indicator.first_year() != 0 && year < indicator.first_year()) ||
               (indicator.last_year() != 0 && year > indicator.last_year())) {
      violations->Add(field, "is outside first_year..last_year");
    }
  };
  for (const auto& [year, plan] : indicator.yearly_plans()) {
    const std::string field =
        absl::StrCat("indicator.yearly_plans[", year, "]");
    check_year(year, field);
    if (plan < 0) violations->Add(field, "must be >= 0");
  }
  for (const auto& [year, value] : indicator.recorded_results()) {
    const std::string field =
        absl::StrCat("indicator.recorded_results[", year, "]");
    check_year(year, field);
    if (value < 0) violations->Add(field, "must be >= 0");
  }
  if (indicator.has_recorded_total() && indicator.recorded_total() < 0) {
    violations->Add("indicator.recorded_total", "must be >= 0");
  }
  switch (indicator.source()) {
    case v1::MANUAL:
      for (const auto& [year, result] : indicator.manual_results()) {
        const std::string field =
            absl::StrCat("indicator.manual_results[", year, "]");
        check_year(year, field);
        if (result.value() < 0)
          violations->Add(field + ".value", "must be >= 0");
        if (absl::StripAsciiWhitespace(result.evidence()).empty()) {
          violations->Add(field + ".evidence",
                          "is required for a result entered by hand");
        } else if (result.evidence().size() > kMaxNoteLength) {
          violations->Add(
              field + ".evidence",
              absl::StrCat("is longer than ", kMaxNoteLength, " bytes"));
        }
      }
      if (!indicator.event_type().empty()) {
        violations->Add("indicator.event_type",
                        "is only for COMPLETED_EVENTS indicators");
      }
      break;
    case v1::FOREIGN_PATIENTS:
    case v1::COMPLETED_EVENTS:
      if (!indicator.manual_results().empty()) {
        violations->Add("indicator.manual_results",
                        "are only for MANUAL indicators; this one is live");
      }
      if (indicator.source() == v1::COMPLETED_EVENTS) {
        if (indicator.event_type().empty()) {
          violations->Add("indicator.event_type",
                          "is required for COMPLETED_EVENTS (e.g. "
                          "BRIEFING_SESSION, TRAINING)");
        } else if (!IsValidEventTypeName(indicator.event_type())) {
          violations->Add("indicator.event_type",
                          absl::StrCat("'", indicator.event_type(),
                                       "' is not an events EventType"));
        }
      } else if (!indicator.event_type().empty()) {
        violations->Add("indicator.event_type",
                        "is only for COMPLETED_EVENTS indicators");
      }
      break;
    default:
      violations->Add("indicator.source",
                      "is required: MANUAL, FOREIGN_PATIENTS or "
                      "COMPLETED_EVENTS");
  }
}

}  // namespace smz::programme
