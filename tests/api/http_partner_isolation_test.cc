// No HTTP path lets one partner reach another partner's data. Against the
// real stack (registry, stats, events, programme and the gateway's HTTP
// edge), a PARTNER of hospital A calls every route of every method that
// takes a partner id, naming hospital B (which has a profile, reports and
// changes to find): every call is refused. The same calls naming A are not
// refused for lack of permission where the method admits partners, so the
// refusals are about whose data it is.
//
// The requests are built from the descriptors: every field named
// partner_id, partner_ids, host_partner_id or host_partner_ids (through
// singular messages), and the {id} after "partners/" in a path, gets the
// partner's id; the other path variables a plausible value.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/http_routes.h"
#include "smz/auth/v1/auth.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/raw_http.h"

namespace smz {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool IsPartnerField(const FieldDescriptor* field) {
  const std::string& name = field->name();
  return name == "partner_id" || name == "partner_ids" ||
         name == "host_partner_id" || name == "host_partner_ids";
}

// Dotted paths of the partner fields of `type`, through singular messages.
void PartnerFields(const Descriptor* type, const std::string& prefix, int depth,
                   std::vector<std::string>* out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (IsPartnerField(field) &&
        field->cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
      out->push_back(prefix + field->name());
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               !field->is_repeated() && !field->is_map() && depth < 2 &&
               !absl::StartsWith(field->message_type()->full_name(),
                                 "google.protobuf.")) {
      PartnerFields(field->message_type(), prefix + field->name() + ".",
                    depth + 1, out);
    }
  }
}

// The path variable naming a partner in ".../partners/{x}/...", if any.
std::string PartnerPathVariable(const std::string& path) {
  const size_t at = path.find("/partners/{");
  if (at == std::string::npos) return "";
  const size_t from = at + std::string("/partners/{").size();
  return path.substr(from, path.find('}', from) - from);
}

struct Call {
  std::string method;  // service.Method
  std::string request_line;
  std::string body;
};

// The HTTP request of `route` with every partner field naming `partner`.
Call CallNaming(const gateway::HttpRoute& route, int64_t partner) {
  const Descriptor* input = route.method->input_type();
  std::vector<std::string> partner_fields;
  PartnerFields(input, "", 0, &partner_fields);
  const std::string path_partner = PartnerPathVariable(route.path.text());
  gateway::PathBindings bindings;
  std::string path = route.path.text();
  for (const std::string& field : route.path.Fields()) {
    const FieldDescriptor* leaf = gateway::FindFieldPath(input, field);
    std::string value = "1";
    if (field == path_partner || IsPartnerField(leaf)) {
      value = absl::StrCat(partner);
    } else if (leaf->name() == "period") {
      value = "2019-04";
    } else if (leaf->name() == "year") {
      value = "2019";
    } else if (leaf->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      value = "x";
    }
    path = absl::StrReplaceAll(path, {{absl::StrCat("{", field, "}"), value}});
    bindings.emplace_back(field, value);
  }
  std::unique_ptr<Message> request = gateway::NewMessage(input);
  std::vector<gateway::QueryParameter> query;
  for (const std::string& field : partner_fields) {
    bool in_path = false;
    for (const auto& [bound, value] : bindings) in_path |= bound == field;
    if (!in_path) query.emplace_back(field, absl::StrCat(partner));
  }
  // An update names what it changes: for a partner's record, what a
  // partner may change itself (so that only whose record it is decides).
  if (input->FindFieldByName("update_mask") != nullptr &&
      gateway::FindFieldPath(input, "partner.contacts") != nullptr) {
    query.emplace_back("update_mask", "contacts");
  }
  EXPECT_TRUE(gateway::MergeQueryParameters(bindings, request.get()).ok());
  EXPECT_TRUE(gateway::MergeQueryParameters(query, request.get()).ok());
  Call call;
  call.method = std::string(route.method->full_name());
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  if (route.body == "*") {
    EXPECT_TRUE(
        google::protobuf::util::MessageToJsonString(*request, &call.body, print)
            .ok());
  } else {
    if (!route.body.empty()) {
      const Message& body = request->GetReflection()->GetMessage(
          *request, input->FindFieldByName(route.body));
      EXPECT_TRUE(
          google::protobuf::util::MessageToJsonString(body, &call.body, print)
              .ok());
    }
    std::vector<std::string> pairs;
    for (const auto& [field, value] : query) {
      if (!route.body.empty() && absl::StartsWith(field, route.body + ".")) {
        continue;  // in the body
      }
      pairs.push_back(absl::StrCat(field, "=", value));
    }
    if (!pairs.empty()) absl::StrAppend(&path, "?", absl::StrJoin(pairs, "&"));
  }
  call.request_line = absl::StrCat(route.http_method, " ", path);
  return call;
}

// Methods whose answers are the zone's public record, filtered by partner:
// published events (the public pages list them, hosts included) and their
// calendars. Drafts stay with organizers; events_service_test covers that.
const std::set<std::string>& PublicRecord() {
  static const auto* const methods = new std::set<std::string>{
      "smz.events.v1.EventsService.ListEvents",
      "smz.events.v1.EventsService.ExportCalendarFeed",
  };
  return *methods;
}

bool NamesAPartner(const gateway::HttpRoute& route) {
  std::vector<std::string> fields;
  PartnerFields(route.method->input_type(), "", 0, &fields);
  return !fields.empty() || !PartnerPathVariable(route.path.text()).empty();
}

bool AdmitsPartners(const gateway::HttpRoute& route) {
  for (int role :
       route.method->options().GetExtension(auth::v1::allowed_roles).roles()) {
    if (role == auth::v1::PARTNER) return true;
  }
  return false;
}

class HttpPartnerIsolationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new FakeClock(absl::FromCivil(
        absl::CivilSecond(2019, 5, 2, 9, 0, 0), absl::UTCTimeZone()));
    auto stack = testing::LocalStack::Start(clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    for (int64_t* id : {&a_, &b_}) {
      auto added = stack_->AddPartner(
          testing::TestHospital(id == &a_ ? "병원A" : "병원B"), "2019-01-15",
          "2022-12-31");
      ASSERT_TRUE(added.ok()) << added.status();
      *id = *added;
    }
    auto token = stack_->IssueToken(auth::v1::PARTNER, "clerk A", a_);
    ASSERT_TRUE(token.ok()) << token.status();
    clerk_a_ = new std::string(*token);
    auto stats = stack_->StartStats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    auto events = stack_->StartEvents();
    ASSERT_TRUE(events.ok()) << events.status();
    auto programme = stack_->StartProgramme();
    ASSERT_TRUE(programme.ok()) << programme.status();
    // Both hospitals' April: something to find for each.
    auto stub = stats::v1::StatsService::NewStub(
        testing::LoopbackChannel((*stats)->port()));
    for (int64_t partner : {a_, b_}) {
      stats::v1::SubmitReportRequest submit;
      submit.mutable_report()->set_partner_id(partner);
      submit.mutable_report()->set_period("2019-04");
      stats::v1::NewPatientCell* cell =
          submit.mutable_report()->add_new_patients();
      cell->set_nationality("MN");
      cell->set_count(12);
      stats::v1::VisitCell* visit = submit.mutable_report()->add_visits();
      visit->set_nationality("MN");
      visit->set_department("ophthalmology");
      visit->set_care_type(stats::v1::OUTPATIENT);
      visit->set_count(15);
      stats::v1::SubmitReportResponse submitted;
      grpc::Status s = stub->SubmitReport(
          testing::As(stack_->admin_token()).get(), submit, &submitted);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    gateway::GatewayServerOptions options;
    options.server.listen = "127.0.0.1:0";
    options.registry_target = stack_->registry().target();
    options.stats_target = absl::StrCat("127.0.0.1:", (*stats)->port());
    options.events_target = absl::StrCat("127.0.0.1:", (*events)->port());
    options.programme_target = absl::StrCat("127.0.0.1:", (*programme)->port());
    options.http_listen = "127.0.0.1:0";
    options.clock = clock_;
    auto gateway = gateway::GatewayServer::Start(options);
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = gateway->release();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete stack_;
    delete clerk_a_;
    delete clock_;
  }

  static int Send(const Call& call) {
    const std::string response = testing::HttpRoundtrip(
        gateway_->http_port(),
        absl::StrCat(call.request_line,
                     " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Bearer ",
                     *clerk_a_,
                     "\r\nContent-Type: application/json\r\n"
                     "Content-Length: ",
                     call.body.size(), "\r\n\r\n", call.body));
    return testing::HttpStatusOf(response);
  }

  static FakeClock* clock_;
  static testing::LocalStack* stack_;
  static gateway::GatewayServer* gateway_;
  static std::string* clerk_a_;
  static int64_t a_;
  static int64_t b_;
};

FakeClock* HttpPartnerIsolationTest::clock_ = nullptr;
testing::LocalStack* HttpPartnerIsolationTest::stack_ = nullptr;
gateway::GatewayServer* HttpPartnerIsolationTest::gateway_ = nullptr;
std::string* HttpPartnerIsolationTest::clerk_a_ = nullptr;
int64_t HttpPartnerIsolationTest::a_ = 0;
int64_t HttpPartnerIsolationTest::b_ = 0;

TEST_F(HttpPartnerIsolationTest, NoRouteReachesAnotherPartnersData) {
  absl::StatusOr<gateway::HttpRouteTable> routes =
      gateway::HttpRouteTable::Build(gateway::SmzHttpServices());
  ASSERT_TRUE(routes.ok()) << routes.status();
  std::set<std::string> methods;
  int own_reached = 0;
  for (const gateway::HttpRoute& route : routes->routes()) {
    if (!NamesAPartner(route)) continue;
    methods.insert(std::string(route.method->full_name()));
    const Call other = CallNaming(route, b_);
    const int refused = Send(other);
    const bool public_record =
        PublicRecord().count(std::string(route.method->full_name())) > 0;
    // Refused for whose data it is (403), or as if it did not exist (404);
    // a 400 would only show that the request was incomplete.
    EXPECT_TRUE(public_record || refused == 403 || refused == 404)
        << other.request_line << " " << other.body
        << " as A's clerk: " << refused;
    if (!AdmitsPartners(route)) continue;
    const Call own = CallNaming(route, a_);
    const int status = Send(own);
    EXPECT_NE(status, 403) << own.request_line << " " << own.body
                           << ": A's clerk refused its own data";
    EXPECT_NE(status, 0);
    if (status == 200) ++own_reached;
  }
  // Every method with a partner id was tried (the registry's, reports,
  // grants, registrations, hosted events, the council's profile...).
  EXPECT_GE(methods.size(), 25u) << absl::StrJoin(methods, "\n");
  // And the clerk does read its own: the refusals above are not blanket.
  EXPECT_GE(own_reached, 5);
}

}  // namespace
}  // namespace smz
