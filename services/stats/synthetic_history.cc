#include "services/stats/synthetic_history.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/status_util.h"
#include "services/stats/stats_store_rows.h"
#include "tests/harness/benchmark_support.h"

namespace smz::stats {
namespace {

namespace reg = ::smz::registry::v1;

constexpr const char* kNationalities[] = {"CN", "MN", "RU", "VN", "US", "KZ",
                                          "UZ", "JP", "PH", "CA", "TH", "ID",
                                          "AE", "SA", "DE", "FR"};
constexpr const char* kDepartments[] = {
    "internal_medicine", "dermatology",    "plastic_surgery", "ophthalmology",
    "rehabilitation",    "checkup_center", "orthopedics",     "dentistry"};

// Keeps the first error seen by any worker.
class FirstError {
 public:
  void Record(absl::Status status) {
    if (status.ok()) return;
    absl::MutexLock lock(&mu_);
    if (status_.ok()) status_ = std::move(status);
  }
  absl::Status Get() {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  absl::Mutex mu_;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<std::vector<SyntheticPartner>> CreateSyntheticPartners(
    reg::RegistryService::Stub& registry, const std::string& admin_token,
    int count, int threads) {
  std::vector<SyntheticPartner> partners(count);
  FirstError error;
  testing::RunParallel(count, threads, [&](int i) {
    reg::CreatePartnerRequest create;
    reg::Partner& p = *create.mutable_partner();
    p.set_kind(i % 4 == 0 ? reg::SPECIALIZED_OPERATOR
                          : reg::COOPERATING_INSTITUTION);
    (*p.mutable_name())["ko"] = absl::StrCat("병원 ", i + 1);
    p.set_representative("대표");
    p.set_address("주소");
    p.set_region(static_cast<reg::ZoneRegion>(1 + i % 3));
    p.set_floor_area_m2(1000);
    create.set_request_id(absl::StrCat("bench-", i));
    reg::Partner created;
    grpc::Status s = registry.CreatePartner(
        smz::BearerContext(admin_token, smz::kBulkCallDeadline).get(), create,
        &created);
    if (!s.ok()) return error.Record(FromGrpcStatus(s));
    reg::DesignationRequest designate;
    designate.set_id(created.id());
    designate.set_effective_on("2015-01-01");
    designate.set_term_ends_on("2030-12-31");
    s = registry.DesignatePartner(
        smz::BearerContext(admin_token, smz::kBulkCallDeadline).get(),
        designate, &created);
    // A rerun finds it designated already.
    if (!s.ok() && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return error.Record(FromGrpcStatus(s));
    }
    partners[i] = {created.id(), p.kind(), p.region()};
  });
  SMZ_RETURN_IF_ERROR(error.Get());
  return partners;
}

v1::Report SyntheticReport(int64_t partner_id, int period, int nationalities) {
  std::mt19937 random(static_cast<uint32_t>(partner_id * 7919 + period));
  v1::Report report;
  report.set_partner_id(partner_id);
  report.set_period(absl::StrFormat("%04d-%02d", period / 100, period % 100));
  std::vector<int> order(std::size(kNationalities));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::shuffle(order.begin(), order.end(), random);
  const int first_department = static_cast<int>(partner_id % 8);
  nationalities = std::min<int>(nationalities, std::size(kNationalities));
  for (int n = 0; n < nationalities; ++n) {
    const char* nationality = kNationalities[order[n]];
    const int64_t patients = 1 + random() % 30;
    v1::NewPatientCell* cell = report.add_new_patients();
    cell->set_nationality(nationality);
    cell->set_count(patients);
    for (int d = 0; d < 2; ++d) {
      v1::VisitCell* visit = report.add_visits();
      visit->set_nationality(nationality);
      visit->set_department(kDepartments[(first_department + d * 3) % 8]);
      visit->set_care_type(d == 0 ? v1::OUTPATIENT : v1::INPATIENT);
      visit->set_count(d == 0 ? patients + random() % 10 : 1 + random() % 5);
    }
  }
  return report;
}

// Long by design: a data generator: hospitals, then months, then cells, in one
// pass.
absl::StatusOr<int64_t> LoadSyntheticHistory(
    Database& stats_database, const std::vector<SyntheticPartner>& partners,
    absl::CivilMonth last_month, int months, int nationalities, int threads,
    const std::string& cell_rows_table) {
  absl::Status status = stats_database.Run([&](Session& session) {
    for (size_t i = 0; i < partners.size(); ++i) {
      SMZ_RETURN_IF_ERROR(
          (session.Execute(
               "INSERT INTO partners (id, kind, region, name_ko, name_en, "
               "refresh_time_us) VALUES (?, ?, ?, ?, '', 0)",
               {SqlInt(partners[i].id), SqlInt(partners[i].kind),
                SqlInt(partners[i].region), absl::StrCat("병원 ", i + 1)}))
              .status());
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  const absl::CivilMonth first_month = last_month - (months - 1);
  std::atomic<int64_t> cells{0};
  FirstError error;
  // One transaction per partner: all its months in two multi-row INSERTs.
  testing::RunParallel(static_cast<int>(partners.size()), threads, [&](int i) {
    const SyntheticPartner& partner = partners[i];
    error.Record(stats_database.Transact([&](Session& session) {
      std::string report_sql =
          "INSERT INTO reports (id, partner_id, period, status, "
          "no_activity, revision, digest, partner_kind, region, "
          "first_submit_time_us, update_time_us, submitted_by, late, "
          "cells, cells_json) VALUES ";
      std::vector<SqlValue> report_params;
      std::string cell_sql =
          absl::StrCat("INSERT INTO ", cell_rows_table,
                       " (report_id, partner_id, period, measure, nationality, "
                       "department, care_type, sex, age_band, value) VALUES ");
      std::vector<SqlValue> cell_params;
      int cell_rows = 0;
      for (int m = 0; m < months; ++m) {
        const absl::CivilMonth month = first_month + m;
        const int period = month.year() * 100 + month.month();
        const int64_t report_id = int64_t{i} * months + m + 1;
        absl::StrAppend(&report_sql, m ? "," : "",
                        "(?,?,?,2,0,1,'',?,?,0,0,'bulk',0,?,?)");
        const v1::Report report =
            SyntheticReport(partner.id, period, nationalities);
        v1::Report cells_only = report;
        cells_only.clear_partner_id();
        cells_only.clear_period();
        for (SqlValue v :
             {SqlInt(report_id), SqlInt(partner.id), SqlInt(period),
              SqlInt(partner.kind), SqlInt(partner.region),
              SqlValue(cells_only.SerializeAsString()),
              SqlValue(CellsJson(CellsOfReport(cells_only), /*digest=*/""))}) {
          report_params.push_back(v);
        }
        auto add_cell = [&](int measure, const std::string& nationality,
                            const std::string& department, int care,
                            int64_t value) {
          absl::StrAppend(&cell_sql, cell_rows++ ? "," : "",
                          "(?,?,?,?,?,?,?,0,0,?)");
          for (SqlValue v :
               {SqlInt(report_id), SqlInt(partner.id), SqlInt(period),
                SqlInt(measure), SqlValue(nationality), SqlValue(department),
                SqlInt(care), SqlInt(value)}) {
            cell_params.push_back(v);
          }
        };
        for (const v1::NewPatientCell& c : report.new_patients()) {
          add_cell(1, c.nationality(), "", 0, c.count());
        }
        for (const v1::VisitCell& c : report.visits()) {
          add_cell(2, c.nationality(), c.department(), c.care_type(),
                   c.count());
        }
      }
      absl::StatusOr<int64_t> s = session.Execute(report_sql, report_params);
      if (!s.ok()) return s.status();
      if (!cell_rows_table.empty()) {
        s = session.Execute(cell_sql, cell_params);
        if (!s.ok()) return s.status();
      }
      cells += cell_rows;
      return absl::OkStatus();
    }));
  });
  SMZ_RETURN_IF_ERROR(error.Get());
  return cells.load();
}

}  // namespace smz::stats
