#include "services/gateway/council_report.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/csv.h"

namespace smz::gateway {
namespace {

namespace pv1 = ::smz::programme::v1;

// Labels of the report, Korean and English.
struct Label {
  const char* ko;
  const char* en;
};
const std::map<std::string, Label>& Labels() {
  static const auto* const kLabels = new std::map<std::string, Label>{
      {"title",
       {"스마트메디컬특구 추진상황 보고", "Smart Medical Zone report"}},
      {"as_of", {"기준일", "As of"}},
      {"s1", {"Ⅰ. 일반현황", "I. General status"}},
      {"s2", {"Ⅱ. 추진실적", "II. Achievements"}},
      {"s3", {"Ⅲ. 내년도 추진계획", "III. Next year's plan"}},
      {"partners", {"협력 기관 (지정 중)", "Partners (designated)"}},
      {"kind", {"구분", "Kind"}},
      {"region", {"권역", "Region"}},
      {"count", {"수", "Count"}},
      {"patients", {"외국인 환자 유치", "Foreign patients attracted"}},
      {"ytd", {"연간 누계", "Year to date"}},
      {"target", {"목표", "Target"}},
      {"achievement", {"달성률", "Achievement"}},
      {"pacing", {"진도율", "Pacing"}},
      {"kpi", {"공약달성 확인지표", "Pledge indicators"}},
      {"indicator", {"지표", "Indicator"}},
      {"unit", {"단위", "Unit"}},
      {"plan", {"계획", "Plan"}},
      {"result", {"실적", "Result"}},
      {"total", {"계", "Total"}},
      {"capped", {"이행률", "Achievement (capped)"}},
      {"uncapped", {"이행률(상한 없음)", "Achievement (uncapped)"}},
      {"differs",
       {"※ 표시: 운영 자료 집계가 기존 보고 수치(괄호)와 다름",
        "※: the figure from operational data differs from the figure "
        "reported earlier (in brackets)"}},
      {"activities",
       {"추진실적 (완료된 행사)", "Activity log (completed events)"}},
      {"date", {"일자", "Date"}},
      {"activity", {"내용", "Activity"}},
      {"place", {"장소", "Place"}},
      {"none", {"없음", "None"}},
      {"budget",
       {"예산 집행 현황 (단위: 천원)", "Budget execution (thousand KRW)"}},
      {"project", {"사업", "Project"}},
      {"source", {"재원", "Funding"}},
      {"budgeted", {"예산액", "Budget"}},
      {"executed", {"집행액", "Executed"}},
      {"rate", {"집행률", "Rate"}},
      {"findings",
       {"검증 결과: 합계 불일치", "Reconciliation: totals that do not add up"}},
      {"no_findings",
       {"검증 결과: 모든 합계 일치", "Reconciliation: every total adds up"}},
      {"unavailable", {"자료를 불러오지 못했습니다", "Not available"}},
      {"next_plan", {"지표별 계획", "Indicator plans"}},
      {"next_budget", {"예산 (단위: 천원)", "Budget (thousand KRW)"}},
      {"no_budget", {"등록된 예산 없음", "No budget recorded"}},
      {"events_held", {"행사 개최 실적", "Events held"}},
      {"event_type", {"유형", "Type"}},
      // Enum names from the backends.
      {"SPECIALIZED_OPERATOR", {"특화사업자", "Specialized operators"}},
      {"COOPERATING_INSTITUTION", {"협력기관", "Cooperating institutions"}},
      {"ATTRACTION_AGENCY", {"유치업자", "Attraction agencies"}},
      {"LINKED_BUSINESS", {"연계업체", "Linked businesses"}},
      {"YEONGDEUNGPO", {"영등포권역", "Yeongdeungpo"}},
      {"YEOUIDO", {"여의도권역", "Yeouido"}},
      {"DAERIM", {"대림동권역", "Daerim-dong"}},
      {"BRIEFING_SESSION", {"설명회", "Briefing sessions"}},
      {"FAM_TOUR", {"팸투어", "Fam tours"}},
      {"TRAINING", {"교육", "Training courses"}},
      {"COUNCIL_MEETING", {"의료관광협의회", "Council meetings"}},
      {"WORKING_GROUP_MEETING", {"실무추진단 회의", "Working group meetings"}},
      {"PROMOTION_BOOTH", {"홍보관 운영", "Promotion booths"}},
      {"FORUM", {"포럼", "Forums"}},
      {"EXPO", {"박람회", "Expos"}},
      {"MOU_SIGNING", {"업무협약", "MOU signings"}},
      {"BUSINESS_MEETING", {"간담회", "Business meetings"}},
      {"DELEGATION_VISIT", {"대표단 방문", "Delegation visits"}},
      {"PROMOTION_EVENT", {"홍보 행사", "Promotion events"}},
      {"OTHER", {"기타", "Other"}},
  };
  return *kLabels;
}

class Words {
 public:
  explicit Words(absl::string_view language) : en_(language == "en") {}
  std::string operator()(const std::string& key) const {
    const Label& label = Labels().at(key);
    return en_ ? label.en : label.ko;
  }
  // A backend's enum name ("SPECIALIZED_OPERATOR") in the reader's
  // language; an unknown name as it is.
  std::string Name(const std::string& enum_name) const {
    auto it = Labels().find(enum_name);
    if (it == Labels().end()) return enum_name;
    return en_ ? it->second.en : it->second.ko;
  }
  std::string Text(
      const google::protobuf::Map<std::string, std::string>& m) const {
    for (const char* locale : {en_ ? "en" : "ko", "ko", "en"}) {
      auto it = m.find(locale);
      if (it != m.end() && !it->second.empty()) return it->second;
    }
    return m.empty() ? "" : m.begin()->second;
  }
  std::string Unit(pv1::IndicatorUnit unit) const {
    switch (unit) {
      case pv1::PERCENT:
        return "%";
      case pv1::TIMES:
        return en_ ? "times" : "회";
      case pv1::PERSONS:
        return en_ ? "persons" : "명";
      default:
        return "";
    }
  }
  std::string Source(pv1::FundingSource source) const {
    switch (source) {
      case pv1::ALL_SOURCES:
        return en_ ? "all public" : "계";
      case pv1::DISTRICT:
        return en_ ? "district" : "구비";
      case pv1::CITY:
        return en_ ? "city" : "시비";
      case pv1::NATIONAL:
        return en_ ? "national" : "국비";
      case pv1::PRIVATE:
        return en_ ? "private" : "민자";
      default:
        return "";
    }
  }
  bool en() const { return en_; }

 private:
  const bool en_;
};

std::string Html(absl::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string Percent(std::optional<double> value) {
  return value ? absl::StrFormat("%.1f%%", *value) : "-";
}

std::string Thousands(int64_t krw) {
  // Rounded half up to a thousand won, as the council tables print.
  return GroupDigits((krw + (krw >= 0 ? 500 : -500)) / 1000);
}

bool Available(const google::protobuf::RepeatedPtrField<v1::Section>& sections,
               const std::string& name, std::string* reason) {
  for (const v1::Section& s : sections) {
    if (s.name() == name && !s.available()) {
      *reason = s.reason();
      return false;
    }
  }
  return true;
}

const v1::KpiYear* YearOf(const v1::KpiRow& row, int32_t year) {
  for (const v1::KpiYear& y : row.years()) {
    if (y.year() == year) return &y;
  }
  return nullptr;
}

// A result as printed: "3", or "3 ※(2)" when it differs from the report.
std::string ResultText(const v1::KpiYear& y) {
  if (!y.has_result()) return "-";
  std::string text = GroupDigits(y.result());
  if (y.differs())
    absl::StrAppend(&text, " ※(", GroupDigits(y.recorded()), ")");
  return text;
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string HtmlTable(const Table& t, const std::string& css = "") {
  std::string out = absl::StrCat("<table", css.empty() ? "" : " class=\"", css,
                                 css.empty() ? "" : "\"", "><thead><tr>");
  for (const std::string& h : t.header)
    absl::StrAppend(&out, "<th>", Html(h), "</th>");
  out += "</tr></thead><tbody>";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (const std::string& cell : row) {
      absl::StrAppend(&out, "<td>", Html(cell), "</td>");
    }
    out += "</tr>";
  }
  return out + "</tbody></table>\n";
}

// The table's cells are text as the report prints them (figures with
// their thousands separators and ※ marks).
std::string CsvTable(const Table& t) {
  CsvWriter csv;
  csv.Row(std::vector<CsvCell>(t.header.begin(), t.header.end()));
  for (const auto& row : t.rows) {
    csv.Row(std::vector<CsvCell>(row.begin(), row.end()));
  }
  return std::move(csv).Finish();
}

Table KpiTableOf(const v1::KpiTable& kpi, const Words& w) {
  Table t;
  t.header = {w("indicator"), w("unit"), w("target")};
  for (int32_t y = kpi.first_year(); y <= kpi.last_year(); ++y) {
    t.header.push_back(absl::StrCat(y, " ", w("plan")));
    t.header.push_back(absl::StrCat(y, " ", w("result")));
  }
  t.header.push_back(w("total"));
  t.header.push_back(w("capped"));
  t.header.push_back(w("uncapped"));
  for (const v1::KpiRow& row : kpi.rows()) {
    std::vector<std::string> cells = {
        w.Text(row.indicator().name()), w.Unit(row.indicator().unit()),
        GroupDigits(row.indicator().target_total())};
    for (int32_t y = kpi.first_year(); y <= kpi.last_year(); ++y) {
      const v1::KpiYear* year = YearOf(row, y);
      cells.push_back(year != nullptr && year->has_plan()
                          ? GroupDigits(year->plan())
                          : "-");
      cells.push_back(year != nullptr ? ResultText(*year) : "-");
    }
    std::string total =
        row.has_total_result() ? GroupDigits(row.total_result()) : "-";
    if (row.total_differs()) {
      absl::StrAppend(&total, " ※(", GroupDigits(row.recorded_total()), ")");
    }
    cells.push_back(total);
    cells.push_back(
        Percent(row.has_achievement_percent_capped()
                    ? std::optional<double>(row.achievement_percent_capped())
                    : std::nullopt));
    cells.push_back(
        Percent(row.has_achievement_percent()
                    ? std::optional<double>(row.achievement_percent())
                    : std::nullopt));
    t.rows.push_back(std::move(cells));
  }
  return t;
}

Table BudgetTableOf(const pv1::BudgetTable& budget, const Words& w) {
  Table t;
  t.header = {w("project"), w("source"), w("budgeted"), w("executed"),
              w("rate")};
  for (const pv1::BudgetRow& row : budget.rows()) {
    t.rows.push_back(
        {absl::StrCat(std::string(row.depth() * 2, ' '),
                      w.Text(row.project_name())),
         w.Source(row.funding_source()), Thousands(row.budget_krw()),
         Thousands(row.executed_krw()),
         Percent(row.has_execution_rate_percent()
                     ? std::optional<double>(row.execution_rate_percent())
                     : std::nullopt)});
  }
  return t;
}

Table ActivitiesTableOf(const v1::ActivityLog& log, const Words& w) {
  Table t;
  t.header = {w("date"), w("activity"), w("place")};
  for (const v1::Activity& a : log.activities()) {
    std::string date = a.local_start().substr(0, 10);
    if (a.local_end().substr(0, 10) != date) {
      absl::StrAppend(&date, " ~ ", a.local_end().substr(0, 10));
    }
    std::string place = a.online() ? "online" : a.city();
    if (!a.country().empty() && a.country() != "KR" && !a.online()) {
      absl::StrAppend(&place, ", ", a.country());
    }
    t.rows.push_back({date, w.Text(a.title()), place});
  }
  return t;
}

std::string Unavailable(const Words& w, const std::string& reason) {
  return absl::StrCat("<p class=\"unavailable\">", Html(w("unavailable")), ": ",
                      Html(reason), "</p>\n");
}

}  // namespace

std::string GroupDigits(int64_t value) {
  std::string digits = absl::StrCat(value < 0 ? -value : value);
  std::string out;
  const int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return value < 0 ? "-" + out : out;
}

// Long by design: the report's HTML from top to bottom, in the order it prints.
std::string RenderCouncilReportHtml(const v1::CouncilReportData& data,
                                    absl::string_view language) {
  const Words w(language);
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"", w.en() ? "en" : "ko",
      "\"><head><meta charset=\"utf-8\"><title>", Html(w("title")), " ",
      data.year(),
      "</title><style>"
      "body{font-family:sans-serif;max-width:60rem;margin:auto;padding:1rem}"
      "table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}"
      "th,td{border:1px solid #999;padding:.25rem .5rem;font-size:.9rem}"
      "td:not(:first-child){text-align:right}.unavailable{color:#a00}"
      "@media print{body{max-width:none}h2{page-break-before:auto}}"
      "</style></head><body>\n<h1>",
      Html(w("title")), " ", data.year(), "</h1>\n<p>", Html(w("as_of")), ": ",
      Html(data.as_of()), "</p>\n");

  // Ⅰ. General status.
  std::string reason;
  absl::StrAppend(&out, "<h2>", Html(w("s1")), "</h2>\n<h3>",
                  Html(w("partners")), "</h3>\n");
  if (!Available(data.overview().sections(), "registry", &reason)) {
    out += Unavailable(w, reason);
  } else {
    Table kinds{{w("kind"), w("count")}, {}};
    for (const v1::CountByName& c : data.overview().partners_by_kind()) {
      kinds.rows.push_back({w.Name(c.name()), GroupDigits(c.count())});
    }
    Table regions{{w("region"), w("count")}, {}};
    for (const v1::CountByName& c : data.overview().partners_by_region()) {
      regions.rows.push_back({w.Name(c.name()), GroupDigits(c.count())});
    }
    out += HtmlTable(kinds) + HtmlTable(regions);
  }
  absl::StrAppend(&out, "<h3>", Html(w("events_held")), "</h3>\n");
  if (!Available(data.overview().sections(), "events", &reason)) {
    out += Unavailable(w, reason);
  } else if (data.overview().events_held_by_type().empty()) {
    absl::StrAppend(&out, "<p>", Html(w("none")), "</p>\n");
  } else {
    Table types{{w("event_type"), w("count")}, {}};
    for (const v1::CountByName& c : data.overview().events_held_by_type()) {
      types.rows.push_back({w.Name(c.name()), GroupDigits(c.count())});
    }
    out += HtmlTable(types);
  }
  absl::StrAppend(&out, "<h3>", Html(w("patients")), "</h3>\n");
  if (!Available(data.overview().sections(), "stats", &reason)) {
    out += Unavailable(w, reason);
  } else {
    out += HtmlTable({{w("ytd"), w("target"), w("achievement"), w("pacing")},
                      {{GroupDigits(data.overview().patients_ytd()),
                        GroupDigits(data.overview().patients_target()),
                        Percent(data.overview().patients_achievement_percent()),
                        Percent(data.overview().patients_pacing_percent())}}});
  }

  // Ⅱ. Achievements.
  absl::StrAppend(&out, "<h2>", Html(w("s2")), "</h2>\n<h3>", Html(w("kpi")),
                  "</h3>\n");
  if (!Available(data.kpi().sections(), "programme", &reason)) {
    out += Unavailable(w, reason);
  } else {
    out += HtmlTable(KpiTableOf(data.kpi(), w), "kpi");
    for (const char* source : {"stats", "events"}) {
      if (!Available(data.kpi().sections(), source, &reason)) {
        out += Unavailable(w, reason);
      }
    }
    absl::StrAppend(&out, "<p>", Html(w("differs")), "</p>\n");
  }
  absl::StrAppend(&out, "<h3>", Html(w("activities")), "</h3>\n");
  if (!Available(data.activities().sections(), "events", &reason)) {
    out += Unavailable(w, reason);
  } else if (data.activities().activities().empty()) {
    absl::StrAppend(&out, "<p>", Html(w("none")), "</p>\n");
  } else {
    out += HtmlTable(ActivitiesTableOf(data.activities(), w), "activities");
  }
  absl::StrAppend(&out, "<h3>", Html(w("budget")), "</h3>\n");
  if (!Available(data.sections(), "budget", &reason)) {
    out += Unavailable(w, reason);
  } else {
    out += HtmlTable(BudgetTableOf(data.budget(), w), "budget");
    if (data.budget().findings().empty()) {
      absl::StrAppend(&out, "<p>", Html(w("no_findings")), "</p>\n");
    } else {
      absl::StrAppend(&out, "<p>", Html(w("findings")), "</p>\n<ul>");
      for (const pv1::ReconciliationFinding& f : data.budget().findings()) {
        absl::StrAppend(&out, "<li class=\"finding\">", Html(f.message()),
                        "</li>");
      }
      out += "</ul>\n";
    }
  }

  // Ⅲ. Next year's plan.
  const int32_t next = data.year() + 1;
  absl::StrAppend(&out, "<h2>", Html(w("s3")), " (", next, ")</h2>\n<h3>",
                  Html(w("next_plan")), "</h3>\n");
  if (Available(data.kpi().sections(), "programme", &reason)) {
    Table plans{{w("indicator"), w("unit"), w("plan")}, {}};
    for (const v1::KpiRow& row : data.kpi().rows()) {
      const auto plan = row.indicator().yearly_plans().find(next);
      plans.rows.push_back({w.Text(row.indicator().name()),
                            w.Unit(row.indicator().unit()),
                            plan == row.indicator().yearly_plans().end()
                                ? "-"
                                : GroupDigits(plan->second)});
    }
    out += HtmlTable(plans);
  }
  absl::StrAppend(&out, "<h3>", Html(w("next_budget")), "</h3>\n");
  if (data.next_year_budget().rows().empty()) {
    absl::StrAppend(&out, "<p>", Html(w("no_budget")), "</p>\n");
  } else {
    out += HtmlTable(BudgetTableOf(data.next_year_budget(), w));
  }
  return out + "</body></html>\n";
}

std::string RenderCouncilReportCsv(const v1::CouncilReportData& data,
                                   v1::GetCouncilReportRequest::Table table,
                                   absl::string_view language) {
  const Words w(language);
  switch (table) {
    case v1::GetCouncilReportRequest::BUDGET:
      return CsvTable(BudgetTableOf(data.budget(), w));
    case v1::GetCouncilReportRequest::ACTIVITIES:
      return CsvTable(ActivitiesTableOf(data.activities(), w));
    default:
      return CsvTable(KpiTableOf(data.kpi(), w));
  }
}

}  // namespace smz::gateway
