// stats_load_demo: loads demo monthly reports into a running statistics
// service through its public API, as the district would import hospitals'
// spreadsheets. Each year's new-patient total equals the figure reported to
// the council (deploy/demo/foreign_patients_reported.csv); how it splits
// over hospitals, months, nationalities and departments is synthetic but
// deterministic, and every report obeys the service's rules (visits >= new
// patients per nationality, departments from the hospital's profile).
// Safe to run again: the import carries fixed request_ids and an identical
// import changes nothing.
//
//   stats_load_demo --registry=127.0.0.1:50051 --stats=127.0.0.1:50052
//     --token_file=.smz/secrets/admin.token
//     --csv=deploy/demo/foreign_patients_reported.csv
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/clients/bearer_context.h"
#include "common/csv.h"
#include "common/tls/tls_options.h"
#include "common/version.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"

ABSL_FLAG(std::string, registry, "127.0.0.1:50051", "registry address");
ABSL_FLAG(std::string, stats, "127.0.0.1:50052", "statistics address");
ABSL_FLAG(std::string, token_file, "", "file holding an ADMIN token");
ABSL_FLAG(std::string, csv, "deploy/demo/foreign_patients_reported.csv",
          "yearly totals CSV (year,patients)");

namespace {

namespace reg = ::smz::registry::v1;
namespace v1 = ::smz::stats::v1;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Splits `total` in proportion to `weights`, exactly (largest remainder).
std::vector<int64_t> Apportion(int64_t total,
                               const std::vector<double>& weights) {
  double sum = 0;
  for (double w : weights) sum += w;
  std::vector<int64_t> shares(weights.size(), 0);
  std::vector<std::pair<double, size_t>> remainders;
  int64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double exact = sum > 0 ? total * weights[i] / sum : 0;
    shares[i] = static_cast<int64_t>(exact);
    given += shares[i];
    remainders.push_back({exact - shares[i], i});
  }
  std::sort(
      remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
  for (size_t k = 0; given < total; ++k, ++given) {
    ++shares[remainders[k % remainders.size()].second];
  }
  return shares;
}

// The nationality mix of the zone's patients (synthetic; Mongolia and
// Central Asia reflect the zone's briefing sessions abroad).
const std::vector<std::pair<const char*, double>>& NationalityMix() {
  static const auto* const kMix =
      new std::vector<std::pair<const char*, double>>{
          {"CN", 28}, {"MN", 18}, {"RU", 11}, {"VN", 10}, {"US", 9},
          {"KZ", 7},  {"UZ", 6},  {"JP", 5},  {"PH", 4},  {"CA", 2}};
  return *kMix;
}

v1::CareType CareFor(const std::string& department) {
  if (department == "checkup_center") return v1::HEALTH_CHECKUP;
  if (department == "surgery" || department == "neurosurgery" ||
      department == "rehabilitation" || department == "burns" ||
      department == "oncology") {
    return v1::INPATIENT;
  }
  return v1::OUTPATIENT;
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
  const std::string token(
      absl::StripAsciiWhitespace(ReadFile(absl::GetFlag(FLAGS_token_file))));
  if (token.empty()) {
    std::fprintf(stderr, "no token in --token_file\n");
    return 2;
  }
  absl::StatusOr<smz::CsvTable> totals =
      smz::ParseCsv(ReadFile(absl::GetFlag(FLAGS_csv)));
  if (!totals.ok() || totals->rows.empty()) {
    std::fprintf(stderr, "cannot read %s\n", absl::GetFlag(FLAGS_csv).c_str());
    return 2;
  }
  auto registry = reg::RegistryService::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_registry), smz::ChannelCredentialsFor(*tls)));
  auto stats = v1::StatsService::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_stats), smz::ChannelCredentialsFor(*tls)));

  reg::ListPartnersRequest list;
  list.set_kind(reg::SPECIALIZED_OPERATOR);
  list.set_status(reg::ACTIVE);
  list.set_page_size(200);
  reg::ListPartnersResponse partners;
  grpc::Status status = registry->ListPartners(
      smz::BearerContext(token, smz::kBulkCallDeadline).get(), list, &partners);
  if (!status.ok() || partners.partners().empty()) {
    std::fprintf(stderr,
                 "no active specialized operators in the registry: %s\n",
                 status.error_message().c_str());
    return 1;
  }

  std::string csv =
      "partner_id,period,record,nationality,department,care_type,sex,"
      "age_band,value\n";
  std::map<int, int64_t> expected;
  std::mt19937 random(20171214);  // the zone's designation day
  for (const smz::CsvRow& row : totals->rows) {
    int year = 0;
    int64_t patients = 0;
    if (!absl::SimpleAtoi(totals->Get(row, "year"), &year) ||
        !absl::SimpleAtoi(totals->Get(row, "patients"), &patients)) {
      std::fprintf(stderr, "line %d: bad year or patients\n", row.line);
      return 2;
    }
    expected[year] = patients;
    // Larger hospitals attract more patients; the weight is floor area.
    std::vector<double> sizes;
    for (const reg::Partner& p : partners.partners()) {
      sizes.push_back(p.floor_area_m2());
    }
    const std::vector<int64_t> per_partner = Apportion(patients, sizes);
    for (int i = 0; i < partners.partners_size(); ++i) {
      const reg::Partner& partner = partners.partners(i);
      std::vector<double> months;
      for (int m = 1; m <= 12; ++m) {
        // Busier in spring and autumn; some months quiet.
        months.push_back(
            std::uniform_real_distribution<double>(0.6, 1.4)(random) *
            (m == 4 || m == 5 || m == 9 || m == 10 ? 1.3 : 1.0));
      }
      const std::vector<int64_t> per_month = Apportion(per_partner[i], months);
      std::vector<std::string> departments(partner.departments().begin(),
                                           partner.departments().end());
      if (departments.empty()) departments.push_back("internal_medicine");
      for (int m = 1; m <= 12; ++m) {
        const std::string period = absl::StrFormat("%04d-%02d", year, m);
        const std::string prefix = absl::StrCat(partner.id(), ",", period, ",");
        if (per_month[m - 1] == 0) {
          absl::StrAppend(&csv, prefix, "no_activity,,,,,,\n");
          continue;
        }
        std::vector<double> mix;
        for (const auto& [code, weight] : NationalityMix()) {
          mix.push_back(weight * std::uniform_real_distribution<double>(
                                     0.7, 1.3)(random));
        }
        const std::vector<int64_t> by_nationality =
            Apportion(per_month[m - 1], mix);
        for (size_t n = 0; n < by_nationality.size(); ++n) {
          if (by_nationality[n] == 0) continue;
          const char* nationality = NationalityMix()[n].first;
          absl::StrAppend(&csv, prefix, "new_patients,", nationality, ",,,,,",
                          by_nationality[n], "\n");
          // About 1.7 visits per new patient, over the hospital's
          // departments.
          const int64_t visits =
              by_nationality[n] + (by_nationality[n] * 7 + 5) / 10;
          std::vector<double> shares;
          for (size_t d = 0; d < departments.size(); ++d) {
            shares.push_back(1.0 / (d + 1));
          }
          const std::vector<int64_t> by_department = Apportion(visits, shares);
          for (size_t d = 0; d < departments.size(); ++d) {
            if (by_department[d] == 0) continue;
            absl::StrAppend(&csv, prefix, "visits,", nationality, ",",
                            departments[d], ",",
                            v1::CareType_Name(CareFor(departments[d])), ",,,",
                            by_department[d], "\n");
          }
        }
      }
    }
    // The months are long closed: reopen them briefly for this load.
    for (int m = 1; m <= 12; ++m) {
      v1::GrantLockExceptionRequest grant;
      grant.set_period(absl::StrFormat("%04d-%02d", year, m));
      grant.set_reason("demo data load (stats_load_demo)");
      grant.set_duration_hours(1);
      grant.set_request_id(absl::StrFormat("demo-unlock-%04d-%02d", year, m));
      v1::LockException exception;
      status = stats->GrantLockException(
          smz::BearerContext(token, smz::kBulkCallDeadline).get(), grant,
          &exception);
      if (!status.ok()) {
        std::fprintf(stderr, "GrantLockException failed: %s\n",
                     status.error_message().c_str());
        return 1;
      }
    }
  }

  v1::ImportReportsRequest import;
  import.set_csv(csv);
  import.set_request_id("demo-foreign-patients");
  v1::ImportReportsResponse imported;
  status = stats->ImportReports(
      smz::BearerContext(token, smz::kBulkCallDeadline).get(), import,
      &imported);
  if (!status.ok()) {
    std::fprintf(stderr, "ImportReports failed: %s: %s\n",
                 std::to_string(status.error_code()).c_str(),
                 status.error_message().c_str());
    return 1;
  }
  int created = 0;
  for (const v1::ImportedReport& r : imported.reports()) {
    if (!r.summary().unchanged()) ++created;
  }
  // Check the service's figure against the council's.
  for (const auto& [year, patients] : expected) {
    v1::GetKpiProgressRequest kpi;
    kpi.set_year(year);
    kpi.set_as_of(absl::StrFormat("%04d-12-31", year));
    v1::KpiProgress progress;
    status = stats->GetKpiProgress(
        smz::BearerContext(token, smz::kBulkCallDeadline).get(), kpi,
        &progress);
    if (!status.ok() || progress.new_patients_ytd() != patients) {
      std::fprintf(stderr,
                   "%d: the service counts %lld, the council's figure "
                   "is %lld (%s)\n",
                   year, static_cast<long long>(progress.new_patients_ytd()),
                   static_cast<long long>(patients),
                   status.error_message().c_str());
      return 1;
    }
    std::printf("stats demo: %d foreign patients %lld (target %lld)\n", year,
                static_cast<long long>(patients),
                static_cast<long long>(progress.target()));
  }
  std::printf("stats demo: %d monthly reports (%d new or changed)\n",
              imported.reports_size(), created);
  return 0;
}
