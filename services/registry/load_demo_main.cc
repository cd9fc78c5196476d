// registry_load_demo: loads the zone's specialized operators into a running
// registry through its public API, as an administrator would. Safe to run
// again: every create carries a fixed request_id, and designation is skipped
// for partners already designated.
//
//   registry_load_demo --target=127.0.0.1:50051
//   --token_file=.smz/secrets/admin.token
//     --csv=deploy/demo/specialized_operators.csv
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/csv.h"
#include "common/tls/tls_options.h"
#include "common/version.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "smz/registry/v1/registry.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "registry address");
ABSL_FLAG(std::string, token_file, "", "file holding an ADMIN token");
ABSL_FLAG(std::string, csv, "deploy/demo/specialized_operators.csv",
          "specialized operators CSV");

namespace {

namespace v1 = ::smz::registry::v1;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void Authorize(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
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
  absl::StatusOr<smz::CsvTable> table =
      smz::ParseCsv(ReadFile(absl::GetFlag(FLAGS_csv)));
  if (!table.ok()) {
    std::fprintf(stderr, "cannot read CSV: %s\n",
                 std::string(table.status().message()).c_str());
    return 2;
  }
  auto stub = v1::RegistryService::NewStub(grpc::CreateChannel(
      absl::GetFlag(FLAGS_target), smz::ChannelCredentialsFor(*tls)));
  int created = 0;
  int designated = 0;
  for (size_t i = 0; i < table->rows.size(); ++i) {
    const smz::CsvRow& row = table->rows[i];
    v1::CreatePartnerRequest request;
    request.set_request_id(absl::StrCat("demo-specialized-operator-", i + 1));
    v1::Partner* partner = request.mutable_partner();
    partner->set_kind(v1::SPECIALIZED_OPERATOR);
    (*partner->mutable_name())["ko"] = std::string(table->Get(row, "name_ko"));
    if (!table->Get(row, "name_en").empty()) {
      (*partner->mutable_name())["en"] =
          std::string(table->Get(row, "name_en"));
    }
    partner->set_representative(std::string(table->Get(row, "representative")));
    partner->set_address(std::string(table->Get(row, "address")));
    double area = 0;
    (void)absl::SimpleAtod(table->Get(row, "floor_area_m2"), &area);
    partner->set_floor_area_m2(area);
    (*partner->mutable_specialized_business())["ko"] =
        std::string(table->Get(row, "specialized_business_ko"));
    v1::ZoneRegion region = v1::ZONE_REGION_UNSPECIFIED;
    v1::ZoneRegion_Parse(std::string(table->Get(row, "region")), &region);
    partner->set_region(region);
    for (absl::string_view code : absl::StrSplit(table->Get(row, "departments"),
                                                 ';', absl::SkipEmpty())) {
      partner->add_departments(std::string(code));
    }
    partner->add_languages("ko");
    partner->add_languages("en");

    grpc::ClientContext create_context;
    Authorize(&create_context, token);
    v1::Partner stored;
    grpc::Status status =
        stub->CreatePartner(&create_context, request, &stored);
    if (!status.ok()) {
      std::fprintf(stderr, "line %d: CreatePartner failed: %s\n", row.line,
                   status.error_message().c_str());
      return 1;
    }
    ++created;
    if (stored.status() == v1::PENDING) {
      v1::DesignationRequest designate;
      designate.set_id(stored.id());
      designate.set_effective_on("2017-12-14");
      designate.set_term_ends_on("2022-12-31");
      designate.set_decision_ref("중소벤처기업부 제2017-22호");
      designate.set_reason("영등포 스마트메디컬특구 특화사업자 지정");
      grpc::ClientContext designate_context;
      Authorize(&designate_context, token);
      status = stub->DesignatePartner(&designate_context, designate, &stored);
      if (!status.ok()) {
        std::fprintf(stderr, "line %d: DesignatePartner failed: %s\n", row.line,
                     status.error_message().c_str());
        return 1;
      }
      ++designated;
    }
  }
  std::printf(
      "demo data: %d specialized operators present, %d newly designated\n",
      created, designated);
  return 0;
}
