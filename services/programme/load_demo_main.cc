// programme_load_demo: loads the council reports' tables (deploy/demo/, copied
// from the seed documents) into a running programme service:
//   - the Smart Medical Zone programme 2018-2022 with its two sub-projects
//     and its planned budget by year and funding source (million KRW),
//     public and private (programme_budget_2018_2022.csv);
//   - the pledge indicators with targets, yearly plans and the results the
//     2020 report printed (kpi_targets_and_results.csv);
//   - the Vision Cooperation Division's 2022 budget by unit and detail
//     project with the amount executed as of 2022-10-31 (thousand KRW,
//     department_budget_2022.csv).
// Everything goes through the public API with fixed request_ids, so a rerun
// creates nothing.
//
//   programme_load_demo --programme=127.0.0.1:50054
//     --token_file=.smz/secrets/admin.token --dir=deploy/demo
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/clients/bearer_context.h"
#include "common/config.h"
#include "common/csv.h"
#include "common/tls/tls_options.h"
#include "common/version.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "smz/programme/v1/programme.grpc.pb.h"

ABSL_FLAG(std::string, programme, "127.0.0.1:50054", "programme address");
ABSL_FLAG(std::string, token_file, "", "file holding an ADMIN token");
ABSL_FLAG(std::string, dir, "deploy/demo", "folder of the demo CSV files");

namespace {

namespace v1 = ::smz::programme::v1;

constexpr int64_t kThousand = 1000;
constexpr int64_t kMillion = 1000 * 1000;

absl::StatusOr<smz::CsvTable> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return smz::ParseCsv(buffer.str());
}

int64_t Number(absl::string_view text) {
  int64_t value = 0;
  return absl::SimpleAtoi(text, &value) ? value : 0;
}

// "infrastructure(의료관광 기반 조성)" -> {"infrastructure", "의료관광 기반
// 조성"}; "external exchange (대외교류 활성화)" likewise.
std::pair<std::string, std::string> Names(absl::string_view text) {
  const size_t open = text.find('(');
  if (open == absl::string_view::npos) return {std::string(text), ""};
  std::string en(absl::StripTrailingAsciiWhitespace(text.substr(0, open)));
  std::string ko(text.substr(open + 1));
  if (!ko.empty() && ko.back() == ')') ko.pop_back();
  return {en, ko};
}

std::string Code(absl::string_view prefix, absl::string_view en) {
  return absl::StrCat(prefix, absl::StrReplaceAll(en, {{" ", "-"}}));
}

std::string RequestId(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"/", "."}, {" ", "-"}});
}

class Loader {
 public:
  Loader(std::string token, std::shared_ptr<grpc::Channel> channel)
      : token_(std::move(token)),
        stub_(v1::ProgrammeService::NewStub(channel)) {}

  bool ok() const { return ok_; }
  int created() const { return created_; }

  int64_t Project(const std::string& code, int64_t parent, v1::ProjectKind kind,
                  int order, const std::string& ko, const std::string& en,
                  int first_year = 0, int last_year = 0) {
    v1::CreateProjectRequest request;
    request.set_request_id(RequestId(absl::StrCat("demo-project-", code)));
    v1::Project& p = *request.mutable_project();
    p.set_code(code);
    p.set_parent_id(parent);
    p.set_kind(kind);
    p.set_sort_order(order);
    if (!ko.empty()) (*p.mutable_name())["ko"] = ko;
    if (!en.empty()) (*p.mutable_name())["en"] = en;
    p.set_first_year(first_year);
    p.set_last_year(last_year);
    v1::Project out;
    return Check(stub_->CreateProject(
                     smz::BearerContext(token_, smz::kBulkCallDeadline).get(),
                     request, &out),
                 code)
               ? out.id()
               : 0;
  }

  int64_t Line(int64_t project, int32_t year, v1::FundingSource source,
               int64_t amount, const std::string& note) {
    v1::CreateBudgetLineRequest request;
    request.set_request_id(absl::StrCat("demo-line-", project, "-", year, "-",
                                        v1::FundingSource_Name(source)));
    v1::BudgetLine& l = *request.mutable_line();
    l.set_project_id(project);
    l.set_year(year);
    l.set_funding_source(source);
    l.set_amount_krw(amount);
    l.set_note(note);
    v1::BudgetLine out;
    return Check(stub_->CreateBudgetLine(
                     smz::BearerContext(token_, smz::kBulkCallDeadline).get(),
                     request, &out),
                 request.request_id())
               ? out.id()
               : 0;
  }

  void Executed(int64_t line, int64_t amount, const std::string& date,
                const std::string& description) {
    if (line == 0 || amount == 0) return;
    v1::RecordExecutionRequest request;
    request.set_request_id(absl::StrCat("demo-executed-", line, "-", date));
    v1::ExecutionEntry& e = *request.mutable_entry();
    e.set_line_id(line);
    e.set_amount_krw(amount);
    e.set_date(date);
    e.set_description(description);
    v1::ExecutionEntry out;
    Check(stub_->RecordExecution(
              smz::BearerContext(token_, smz::kBulkCallDeadline).get(), request,
              &out),
          request.request_id());
  }

  void Indicator(const v1::Indicator& indicator) {
    v1::CreateIndicatorRequest request;
    request.set_request_id(
        RequestId(absl::StrCat("demo-indicator-", indicator.code())));
    *request.mutable_indicator() = indicator;
    v1::Indicator out;
    Check(stub_->CreateIndicator(
              smz::BearerContext(token_, smz::kBulkCallDeadline).get(), request,
              &out),
          indicator.code());
  }

  absl::StatusOr<v1::BudgetTable> Table(int32_t year, const std::string& as_of,
                                        int64_t root) {
    v1::GetBudgetTableRequest request;
    request.set_year(year);
    request.set_as_of_date(as_of);
    request.set_root_project_id(root);
    v1::BudgetTable table;
    grpc::Status s = stub_->GetBudgetTable(
        smz::BearerContext(token_, smz::kBulkCallDeadline).get(), request,
        &table);
    if (!s.ok()) return absl::InternalError(s.error_message());
    return table;
  }

 private:
  bool Check(const grpc::Status& status, const std::string& what) {
    if (status.ok()) {
      ++created_;
      return true;
    }
    std::fprintf(stderr, "programme demo: %s: %s\n", what.c_str(),
                 status.error_message().c_str());
    ok_ = false;
    return false;
  }

  const std::string token_;
  std::unique_ptr<v1::ProgrammeService::Stub> stub_;
  bool ok_ = true;
  int created_ = 0;
};

std::optional<v1::FundingSource> SourceOf(absl::string_view text) {
  if (text == "ALL") return v1::ALL_SOURCES;
  if (absl::StartsWith(text, "district")) return v1::DISTRICT;
  if (absl::StartsWith(text, "city")) return v1::CITY;
  if (absl::StartsWith(text, "national")) return v1::NATIONAL;
  if (absl::StartsWith(text, "private")) return v1::PRIVATE;
  return std::nullopt;
}

}  // namespace

// Long by design: a script: it loads the demo data set step by step, in the
// order a reader follows it.
int main(int argc, char** argv) {
  smz::InstallVersionFlag();
  absl::ParseCommandLine(argc, argv);
  // TLS when the services use it (SMZ_TLS_* or the --tls_* flags).
  absl::StatusOr<smz::TlsOptions> tls = smz::LoadTlsOptions();
  if (!tls.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tls.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::string> token =
      smz::ReadTokenFile(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) {
    std::fprintf(stderr, "programme demo: %s\n",
                 std::string(token.status().message()).c_str());
    return 2;
  }
  const std::string dir = absl::GetFlag(FLAGS_dir);
  absl::StatusOr<smz::CsvTable> budget =
      ReadCsv(dir + "/programme_budget_2018_2022.csv");
  absl::StatusOr<smz::CsvTable> kpis =
      ReadCsv(dir + "/kpi_targets_and_results.csv");
  absl::StatusOr<smz::CsvTable> division =
      ReadCsv(dir + "/department_budget_2022.csv");
  for (const auto* t : {&budget, &kpis, &division}) {
    if (!t->ok()) {
      std::fprintf(stderr, "programme demo: %s\n",
                   std::string(t->status().message()).c_str());
      return 2;
    }
  }
  Loader loader(*token, grpc::CreateChannel(absl::GetFlag(FLAGS_programme),
                                            smz::ChannelCredentialsFor(*tls)));

  // The programme and its sub-projects (seed 000).
  const int64_t programme = loader.Project(
      "smz-2018", 0, v1::PROGRAMME, 0, "영등포 스마트메디컬특구 (2018~2022)",
      "Yeongdeungpo Smart Medical Zone (2018-2022)", 2018, 2022);
  std::map<std::string, int64_t> sub = {{"ALL", programme}};
  const std::pair<const char*, const char*> kSubs[] = {
      {"infrastructure", "의료관광 기반 조성"},
      {"promotion", "의료관광 활성화 지원"}};
  int order = 1;
  for (const auto& [en, ko] : kSubs) {
    sub[en] = loader.Project(absl::StrCat("smz-2018/", en), programme,
                             v1::SUB_PROJECT, order++, ko, en, 2018, 2022);
  }
  for (const smz::CsvRow& row : budget->rows) {
    const std::string subproject = Names(budget->Get(row, "subproject")).first;
    std::optional<v1::FundingSource> source =
        SourceOf(budget->Get(row, "funding_source"));
    if (sub.count(subproject) == 0 || !source) continue;
    for (int year = 2018; year <= 2022; ++year) {
      const int64_t millions =
          Number(budget->Get(row, absl::StrCat("y", year)));
      if (millions == 0) continue;  // printed as "-"
      loader.Line(sub[subproject], year, *source, millions * kMillion,
                  year == 2022
                      ? "council report 2020 (소요예산액), 2022 to June"
                      : "council report 2020 (소요예산액)");
    }
  }

  // The pledge indicators.
  int indicator_order = 0;
  for (const smz::CsvRow& row : kpis->rows) {
    const auto [en, ko] = Names(kpis->Get(row, "indicator"));
    v1::Indicator i;
    i.set_project_id(sub[std::string(kpis->Get(row, "subproject"))]);
    i.set_code(
        absl::StrCat("smz-2018/", absl::StrReplaceAll(en, {{" ", "-"}})));
    (*i.mutable_name())["ko"] = ko;
    (*i.mutable_name())["en"] = en;
    const std::string unit(kpis->Get(row, "unit"));
    i.set_unit(unit == "percent" ? v1::PERCENT
               : unit == "times" ? v1::TIMES
                                 : v1::PERSONS);
    i.set_target_total(Number(kpis->Get(row, "target_total")));
    i.set_first_year(2018);
    i.set_last_year(2022);
    i.set_sort_order(indicator_order++);
    for (int year = 2019; year <= 2022; ++year) {
      absl::string_view plan = kpis->Get(row, absl::StrCat("plan_", year));
      if (!plan.empty()) (*i.mutable_yearly_plans())[year] = Number(plan);
      absl::string_view result = kpis->Get(row, absl::StrCat("result_", year));
      if (!result.empty()) {
        (*i.mutable_recorded_results())[year] = Number(result);
      }
    }
    if (!kpis->Get(row, "result_total").empty()) {
      i.set_recorded_total(Number(kpis->Get(row, "result_total")));
    }
    if (absl::StrContains(en, "briefing")) {
      i.set_source(v1::COMPLETED_EVENTS);
      i.set_event_type("BRIEFING_SESSION");
    } else if (absl::StrContains(en, "training")) {
      i.set_source(v1::COMPLETED_EVENTS);
      i.set_event_type("TRAINING");
    } else if (absl::StrContains(en, "foreign patients")) {
      i.set_source(v1::FOREIGN_PATIENTS);
    } else {
      i.set_source(v1::MANUAL);
      v1::ManualResult& done = (*i.mutable_manual_results())[2019];
      done.set_value(100);
      done.set_evidence(
          "영등포구 의료관광 안내센터 개관 2019-09-23; website built (council "
          "report 2020)");
    }
    if (i.project_id() != 0) loader.Indicator(i);
  }

  // The division's 2022 budget (seed 002): unit projects under the division,
  // the two medical-zone detail projects under medical tourism.
  const int64_t vision =
      loader.Project("vision-cooperation", 0, v1::DIVISION, 10, "비전협력과",
                     "Vision Cooperation Division");
  std::map<std::string, int64_t> unit_of = {{"TOTAL", vision}};
  int unit_order = 1;
  for (const smz::CsvRow& row : division->rows) {
    const auto [en, ko] = Names(division->Get(row, "unit_project"));
    int64_t project = vision;
    if (en != "TOTAL") {
      const bool detail = absl::StrContains(en, "smart medical zone") ||
                          absl::StrContains(en, "infrastructure");
      project = loader.Project(Code("vision-cooperation/", en),
                               detail ? unit_of["medical tourism"] : vision,
                               detail ? v1::DETAIL_PROJECT : v1::UNIT_PROJECT,
                               unit_order++, ko, en);
      unit_of[en] = project;
    }
    const int64_t line =
        loader.Line(project, 2022, v1::ALL_SOURCES,
                    Number(division->Get(row, "budget")) * kThousand,
                    "council report 2022 (예산 현황)");
    loader.Executed(line, Number(division->Get(row, "executed")) * kThousand,
                    "2022-10-31",
                    "executed as of 2022-10-31 (council report 2022)");
  }

  absl::StatusOr<v1::BudgetTable> table =
      loader.Table(2022, "2022-10-31", vision);
  if (table.ok()) {
    std::printf(
        "programme demo: 2022 division budget %lld thousand KRW, %.1f%% "
        "executed as of 2022-10-31; %d reconciliation finding(s)\n",
        static_cast<long long>(table->rows(0).budget_krw() / kThousand),
        table->rows(0).execution_rate_percent(), table->findings_size());
    for (const v1::ReconciliationFinding& f : table->findings()) {
      std::printf("  %s\n", f.message().c_str());
    }
  }
  return loader.ok() && table.ok() ? 0 : 1;
}
