// The HTTP routes of every smz method, table-driven from the protos'
// annotations: each method has a route, each route finds itself and binds
// its path to the right fields, and the OpenAPI document describes exactly
// these routes. Then the rules of a request's path, query and body.
#include "services/gateway/http_routes.h"

#include <functional>
#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/gateway/openapi.h"
#include "services/gateway/openapi_asset.h"
#include "smz/registry/v1/registry.pb.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::gateway {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using ::testing::HasSubstr;

const HttpRouteTable& Routes() {
  static const HttpRouteTable* const routes = [] {
    absl::StatusOr<HttpRouteTable> built =
        HttpRouteTable::Build(SmzHttpServices());
    EXPECT_TRUE(built.ok()) << built.status();
    return new HttpRouteTable(*std::move(built));
  }();
  return *routes;
}

const HttpRoute& RouteOf(absl::string_view method_full_name,
                         absl::string_view http_method = "") {
  for (const HttpRoute& route : Routes().routes()) {
    if (route.method->full_name() == method_full_name &&
        (http_method.empty() || route.http_method == http_method)) {
      return route;
    }
  }
  ADD_FAILURE() << "no route for " << method_full_name;
  return Routes().routes().front();
}

// A value of the field's type for a path segment, different per index.
std::string SampleValue(const FieldDescriptor* field, int index) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return absl::StrCat("value-", index);
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true";
    case FieldDescriptor::CPPTYPE_ENUM:
      return field->enum_type()
          ->value(field->enum_type()->value_count() - 1)
          ->name();
    default:
      return absl::StrCat(2020 + index);
  }
}

TEST(HttpRoutesTest, EveryMethodOfEveryServedServiceHasARoute) {
  std::set<std::string> routed;
  for (const HttpRoute& route : Routes().routes()) {
    routed.insert(route.method->full_name());
  }
  int methods = 0;
  for (const auto* service : SmzHttpServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      ++methods;
      EXPECT_TRUE(routed.count(service->method(i)->full_name()) > 0)
          << service->method(i)->full_name()
          << " has no google.api.http annotation";
    }
  }
  EXPECT_GT(methods, 70);
}

TEST(HttpRoutesTest, EveryRouteFindsItselfAndBindsItsPathToItsFields) {
  for (const HttpRoute& route : Routes().routes()) {
    SCOPED_TRACE(absl::StrCat(route.http_method, " ", route.path.text()));
    const auto* input = route.method->input_type();
    std::string path = route.path.text();
    PathBindings expected;
    int index = 0;
    for (const std::string& field : route.path.Fields()) {
      const std::string value =
          SampleValue(FindFieldPath(input, field), ++index);
      path =
          absl::StrReplaceAll(path, {{absl::StrCat("{", field, "}"), value}});
      expected.emplace_back(field, value);
    }
    const HttpRouteTable::Lookup found = Routes().Find(route.http_method, path);
    ASSERT_EQ(found.route, &route) << path;
    EXPECT_EQ(found.bindings, expected);

    std::unique_ptr<Message> request = NewMessage(input);
    const std::string body = route.body.empty() ? "" : "{}";
    ASSERT_TRUE(
        BuildHttpRequest(route, found.bindings, {}, body, request.get()).ok())
        << path;
    std::unique_ptr<Message> want = NewMessage(input);
    ASSERT_TRUE(MergeQueryParameters(expected, want.get()).ok());
    if (!route.body.empty() && route.body != "*") {
      want->GetReflection()->MutableMessage(want.get(),
                                            input->FindFieldByName(route.body));
    }
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(*request, *want))
        << request->DebugString() << " vs " << want->DebugString();
  }
}

// A service built at run time with one method per bad annotation: Build
// refuses each, naming it.
TEST(HttpRoutesTest, AnnotationsThatCannotWorkAreRefused) {
  struct Case {
    std::string why;
    std::function<void(google::api::HttpRule*)> rule;
  };
  const std::vector<Case> cases = {
      {"is not a singular scalar field",
       [](auto* r) { r->set_get("/v1/partners/{nope}"); }},
      {"is not a singular scalar field",
       [](auto* r) { r->set_get("/v1/partners/{partner}"); }},
      {"take no body",
       [](auto* r) {
         r->set_get("/v1/partners/{id}");
         r->set_body("*");
       }},
      {"need a body", [](auto* r) { r->set_post("/v1/partners/{id}:x"); }},
      {"is not a singular message field",
       [](auto* r) {
         r->set_patch("/v1/partners/{id}");
         r->set_body("id");
       }},
      {"response_body",
       [](auto* r) {
         r->set_get("/v1/partners/{id}");
         r->set_response_body("name");
       }},
      {"bad segment", [](auto* r) { r->set_get("/v1/part ners"); }},
      {"only get, post", [](auto* r) { r->mutable_custom()->set_kind("X"); }},
      {"do not nest",
       [](auto* r) {
         r->set_get("/v1/a/{id}");
         r->add_additional_bindings()->add_additional_bindings()->set_get(
             "/v1/b");
       }},
      {"bound twice", [](auto* r) { r->set_get("/v1/a/{id}/b/{id}"); }},
  };
  int n = 0;
  for (const Case& c : cases) {
    google::protobuf::FileDescriptorProto file;
    file.set_name(absl::StrCat("bad_", ++n, ".proto"));
    file.set_package(absl::StrCat("bad", n));
    file.set_syntax("proto3");
    file.add_dependency("smz/registry/v1/registry.proto");
    file.add_dependency("google/api/annotations.proto");
    auto* service = file.add_service();
    service->set_name("BadService");
    auto* method = service->add_method();
    method->set_name("Bad");
    method->set_input_type(".smz.registry.v1.GetPartnerRequest");
    method->set_output_type(".smz.registry.v1.Partner");
    c.rule(method->mutable_options()->MutableExtension(google::api::http));
    google::protobuf::DescriptorPool pool(
        google::protobuf::DescriptorPool::generated_pool());
    const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
    ASSERT_NE(built, nullptr) << c.why;
    absl::StatusOr<HttpRouteTable> table =
        HttpRouteTable::Build({built->service(0)});
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument)
        << c.why;
    EXPECT_THAT(table.status().message(), HasSubstr(c.why));
    EXPECT_THAT(table.status().message(), HasSubstr("Bad"));
  }
  // Two bindings that could match one path.
  google::protobuf::FileDescriptorProto file;
  file.set_name("overlap.proto");
  file.set_package("overlap");
  file.set_syntax("proto3");
  file.add_dependency("smz/registry/v1/registry.proto");
  file.add_dependency("google/api/annotations.proto");
  auto* service = file.add_service();
  service->set_name("OverlapService");
  for (const char* path : {"/v1/partners/{id}", "/v1/{id}/7"}) {
    auto* method = service->add_method();
    method->set_name(absl::StrCat("Get", service->method_size()));
    method->set_input_type(".smz.registry.v1.GetPartnerRequest");
    method->set_output_type(".smz.registry.v1.Partner");
    method->mutable_options()
        ->MutableExtension(google::api::http)
        ->set_get(path);
  }
  google::protobuf::DescriptorPool pool(
      google::protobuf::DescriptorPool::generated_pool());
  const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
  ASSERT_NE(built, nullptr);
  absl::StatusOr<HttpRouteTable> table =
      HttpRouteTable::Build({built->service(0)});
  EXPECT_THAT(table.status().message(), HasSubstr("can match the same paths"));
}

TEST(HttpRoutesTest, OtherMethodsOnARoutedPathAre405WithWhatIsAllowed) {
  const HttpRouteTable::Lookup get = Routes().Find("HEAD", "/v1/partners/7");
  ASSERT_NE(get.route, nullptr);
  EXPECT_EQ(get.route->method->name(), "GetPartner");
  const HttpRouteTable::Lookup put = Routes().Find("PUT", "/v1/partners/7");
  EXPECT_EQ(put.route, nullptr);
  EXPECT_THAT(put.allowed,
              ::testing::UnorderedElementsAre("GET", "HEAD", "PATCH"));
  const HttpRouteTable::Lookup none = Routes().Find("GET", "/v1/nothing/7");
  EXPECT_EQ(none.route, nullptr);
  EXPECT_TRUE(none.allowed.empty());
  // A verb the template does not have, an empty or undecodable segment.
  for (const char* path : {"/v1/partners/7:drop", "/v1/partners/",
                           "/v1/partners/%zz", "/v1/partners/7/"}) {
    EXPECT_EQ(Routes().Find("GET", path).route, nullptr) << path;
  }
}

TEST(HttpRoutesTest, ThePathIsAuthoritative) {
  const HttpRoute& update =
      RouteOf("smz.registry.v1.RegistryService.UpdatePartner");
  registry::v1::UpdatePartnerRequest request;
  // The body names another partner than the path: refused, not mixed.
  absl::Status mixed =
      BuildHttpRequest(update, {{"partner.id", "7"}}, {},
                       R"({"id":"8","address":"02"})", &request);
  EXPECT_EQ(mixed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mixed.message(), HasSubstr("partner.id"));
  // The same id, or none, is fine; the mask comes in the query.
  request.Clear();
  ASSERT_TRUE(BuildHttpRequest(update, {{"partner.id", "7"}},
                               {{"update_mask", "address,contacts"}},
                               R"({"address":"02"})", &request)
                  .ok());
  EXPECT_EQ(request.partner().id(), 7);
  EXPECT_EQ(request.partner().address(), "02");
  EXPECT_THAT(request.update_mask().paths(),
              ::testing::ElementsAre("address", "contacts"));
  // The query cannot reach into the body.
  request.Clear();
  absl::Status into_body =
      BuildHttpRequest(update, {{"partner.id", "7"}},
                       {{"partner.address", "1"}}, "{}", &request);
  EXPECT_EQ(into_body.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(into_body.message(), HasSubstr("partner"));

  const HttpRoute& submit = RouteOf("smz.stats.v1.StatsService.SubmitReport");
  stats::v1::SubmitReportRequest submitted;
  absl::Status other = BuildHttpRequest(
      submit, {{"report.partner_id", "7"}}, {},
      R"({"report":{"partner_id":"8","period":"2025-01"}})", &submitted);
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other.message(), HasSubstr("report.partner_id"));
}

TEST(HttpRoutesTest, BodiesAndQueriesGoWhereTheRuleSays) {
  const HttpRoute& create =
      RouteOf("smz.registry.v1.RegistryService.CreatePartner");
  registry::v1::CreatePartnerRequest created;
  // The whole request is the body: a query beside it is refused.
  EXPECT_EQ(BuildHttpRequest(create, {}, {{"request_id", "x"}}, "{}", &created)
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      BuildHttpRequest(create, {}, {}, R"({"partner":{"nmae":"x"}})", &created)
          .code(),
      absl::StatusCode::kInvalidArgument);
  const HttpRoute& get = RouteOf("smz.registry.v1.RegistryService.GetPartner");
  registry::v1::GetPartnerRequest got;
  absl::Status body_on_get =
      BuildHttpRequest(get, {{"id", "7"}}, {}, R"({"id":"7"})", &got);
  EXPECT_EQ(body_on_get.code(), absl::StatusCode::kInvalidArgument);
  // A bad path value and a bad parameter are named together.
  const HttpRoute& list =
      RouteOf("smz.registry.v1.RegistryService.ListPartnerChanges");
  registry::v1::ListPartnerChangesRequest changes;
  absl::Status both = BuildHttpRequest(list, {{"partner_id", "seven"}},
                                       {{"page_size", "many"}}, "", &changes);
  std::set<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(both)) {
    fields.insert(v.field);
  }
  EXPECT_THAT(fields,
              ::testing::UnorderedElementsAre("partner_id", "page_size"));
}

TEST(HttpRoutesTest, WellKnownTypesAreOneStringInTheQuery) {
  registry::v1::UpdatePartnerRequest request;
  ASSERT_TRUE(
      MergeQueryParameters({{"update_mask", "address,name.ko"}}, &request)
          .ok());
  EXPECT_THAT(request.update_mask().paths(),
              ::testing::ElementsAre("address", "name.ko"));
  // Other messages only in a JSON body.
  absl::Status message = MergeQueryParameters({{"partner", "x"}}, &request);
  EXPECT_EQ(message.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message.message(), HasSubstr("JSON body"));
}

// The document served at /openapi.json is the one the routes give now, and
// it describes every route and nothing else.
TEST(OpenApiTest, DescribesExactlyTheRoutes) {
  const std::string document = OpenApiDocument(Routes());
  EXPECT_EQ(OpenApiJson(), document) << "the build's openapi_asset.cc is stale";
  google::protobuf::Struct parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(document, &parsed).ok());
  EXPECT_EQ(parsed.fields().at("openapi").string_value(), "3.0.3");
  std::map<std::string, std::set<std::string>> described;
  for (const auto& [path, item] :
       parsed.fields().at("paths").struct_value().fields()) {
    for (const auto& [method, operation] : item.struct_value().fields()) {
      described[path].insert(method);
    }
  }
  // One path per shape ("/v1/partners/{id}" and "/v1/partners/{partner.id}"
  // are one), as OpenAPI requires.
  std::map<std::string, std::set<std::string>> described_shapes;
  for (const auto& [path, methods] : described) {
    EXPECT_EQ(described_shapes.count(PathShape(path)), 0u) << path;
    described_shapes[PathShape(path)] = methods;
  }
  std::map<std::string, std::set<std::string>> routed;
  for (const HttpRoute& route : Routes().routes()) {
    std::string method = route.http_method;
    for (char& c : method) c = static_cast<char>(std::tolower(c));
    EXPECT_TRUE(routed[PathShape(route.path.text())].insert(method).second)
        << route.path.text();
  }
  EXPECT_EQ(described_shapes, routed);
  // Every reference resolves.
  const auto& schemas = parsed.fields()
                            .at("components")
                            .struct_value()
                            .fields()
                            .at("schemas")
                            .struct_value()
                            .fields();
  size_t from = 0;
  const std::string prefix = "\"$ref\":\"#/components/schemas/";
  int references = 0;
  while ((from = document.find(prefix, from)) != std::string::npos) {
    from += prefix.size();
    const std::string name =
        document.substr(from, document.find('"', from) - from);
    EXPECT_TRUE(schemas.count(name) > 0) << name;
    ++references;
  }
  EXPECT_GT(references, 100);
}

}  // namespace
}  // namespace smz::gateway
