#include "services/gateway/http_routes.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/aip/status_macros.h"
#include "common/smz_services.h"
#include "common/status_util.h"
#include "common/text_checks.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/util/json_util.h"

namespace smz::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::Reflection;
using google::protobuf::ServiceDescriptor;

// The rule's HTTP method and path; an error for custom methods (none of
// smz's protos use them).
absl::StatusOr<std::pair<std::string, std::string>> MethodAndPath(
    const google::api::HttpRule& rule) {
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      return std::make_pair(std::string("GET"), rule.get());
    case google::api::HttpRule::kPost:
      return std::make_pair(std::string("POST"), rule.post());
    case google::api::HttpRule::kPatch:
      return std::make_pair(std::string("PATCH"), rule.patch());
    case google::api::HttpRule::kPut:
      return std::make_pair(std::string("PUT"), rule.put());
    case google::api::HttpRule::kDelete:
      return std::make_pair(std::string("DELETE"), rule.delete_());
    default:
      return absl::InvalidArgumentError(
          "only get, post, patch, put and "
          "delete bindings are supported");
  }
}

absl::StatusOr<HttpRoute> RouteOf(const MethodDescriptor* method,
                                  const google::api::HttpRule& rule) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("google.api.http of ", method->full_name(), ": ", why));
  };
  absl::StatusOr<std::pair<std::string, std::string>> method_and_path =
      MethodAndPath(rule);
  if (!method_and_path.ok()) return bad(method_and_path.status().message());
  absl::StatusOr<PathTemplate> path =
      PathTemplate::Parse(method_and_path->second);
  if (!path.ok()) return bad(path.status().message());
  HttpRoute route{method, method_and_path->first, *std::move(path),
                  rule.body()};
  if (!rule.response_body().empty()) return bad("response_body is not read");
  std::set<std::string> seen;
  for (const std::string& field : route.path.Fields()) {
    const FieldDescriptor* leaf = FindFieldPath(method->input_type(), field);
    if (leaf == nullptr || leaf->is_repeated() ||
        leaf->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return bad(absl::StrCat("path variable '", field,
                              "' is not a singular scalar field of ",
                              method->input_type()->full_name()));
    }
    if (!seen.insert(field).second) {
      return bad(absl::StrCat("path variable '", field, "' is bound twice"));
    }
  }
  if (route.http_method == "GET" || route.http_method == "DELETE") {
    if (!route.body.empty()) return bad("GET and DELETE take no body");
  } else if (route.body.empty()) {
    return bad("POST, PATCH and PUT bindings need a body (\"*\" or a field)");
  }
  if (!route.body.empty() && route.body != "*") {
    const FieldDescriptor* field =
        method->input_type()->FindFieldByName(route.body);
    if (field == nullptr || field->is_repeated() ||
        field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return bad(absl::StrCat("body '", route.body,
                              "' is not a singular message field"));
    }
  }
  return route;
}

// The JSON body into `message`, unknown fields refused.
absl::Status ParseJsonBody(absl::string_view body, Message* message) {
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  if (auto parsed = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(body.data(), body.size()), message,
          parse);
      !parsed.ok()) {
    return InvalidField(
        "body", absl::StrCat("is not a ", message->GetDescriptor()->full_name(),
                             " in JSON: ", Abbreviate(parsed.ToString(), 300)));
  }
  return absl::OkStatus();
}

// The value of a singular scalar field as text, for comparing the path's
// value with the body's.
std::string ScalarText(const Message& message, const FieldDescriptor* field) {
  const Reflection* reflection = message.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(reflection->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(reflection->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(reflection->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(reflection->GetUInt64(message, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(reflection->GetDouble(message, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(reflection->GetFloat(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return reflection->GetBool(message, field) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return absl::StrCat(reflection->GetEnumValue(message, field));
    case FieldDescriptor::CPPTYPE_STRING:
      return reflection->GetString(message, field);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "";
}

// The message holding the field a dotted path names, and the field; null
// when a message on the way is unset (then the field is unset too).
std::pair<const Message*, const FieldDescriptor*> Resolve(
    const Message& message, absl::string_view path) {
  const Message* holder = &message;
  const std::vector<absl::string_view> names = absl::StrSplit(path, '.');
  for (size_t i = 0; i < names.size(); ++i) {
    const FieldDescriptor* field =
        holder->GetDescriptor()->FindFieldByName(std::string(names[i]));
    if (field == nullptr) return {nullptr, nullptr};
    if (i + 1 == names.size()) return {holder, field};
    if (!holder->GetReflection()->HasField(*holder, field)) {
      return {nullptr, nullptr};
    }
    holder = &holder->GetReflection()->GetMessage(*holder, field);
  }
  return {nullptr, nullptr};
}

// Whether the field a dotted path names has been given a value.
bool IsSet(const Message& message, absl::string_view path) {
  auto [holder, field] = Resolve(message, path);
  return holder != nullptr && holder->GetReflection()->HasField(*holder, field);
}

}  // namespace

const FieldDescriptor* FindFieldPath(const Descriptor* type,
                                     absl::string_view path) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view name : absl::StrSplit(path, '.')) {
    if (field != nullptr) {
      if (field->is_repeated() ||
          field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return nullptr;
      }
      type = field->message_type();
    }
    field = type->FindFieldByName(std::string(name));
    if (field == nullptr) return nullptr;
  }
  return field;
}

std::vector<const ServiceDescriptor*> SmzHttpServices() {
  return SmzServices();
}

std::unique_ptr<Message> NewMessage(const Descriptor* type) {
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  return std::unique_ptr<Message>(prototype->New());
}

absl::StatusOr<HttpRouteTable> HttpRouteTable::Build(
    const std::vector<const ServiceDescriptor*>& services) {
  HttpRouteTable table;
  for (const ServiceDescriptor* service : services) {
    if (service == nullptr) {
      return absl::InvalidArgumentError("a service was not found");
    }
    for (int m = 0; m < service->method_count(); ++m) {
      const MethodDescriptor* method = service->method(m);
      if (!method->options().HasExtension(google::api::http)) continue;
      if (method->client_streaming() || method->server_streaming()) {
        return absl::InvalidArgumentError(absl::StrCat(
            method->full_name(), " streams: HTTP/JSON serves unary calls"));
      }
      const google::api::HttpRule& rule =
          method->options().GetExtension(google::api::http);
      std::vector<const google::api::HttpRule*> rules = {&rule};
      for (const google::api::HttpRule& more : rule.additional_bindings()) {
        if (more.additional_bindings_size() > 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              method->full_name(), ": additional bindings do not nest"));
        }
        rules.push_back(&more);
      }
      for (const google::api::HttpRule* one : rules) {
        absl::StatusOr<HttpRoute> route = RouteOf(method, *one);
        if (!route.ok()) return route.status();
        for (const HttpRoute& other : table.routes_) {
          if (other.http_method == route->http_method &&
              other.path.Overlaps(route->path)) {
            return absl::InvalidArgumentError(absl::StrCat(
                route->http_method, " ", route->path.text(), " of ",
                method->full_name(), " can match the same paths as ",
                other.path.text(), " of ", other.method->full_name()));
          }
        }
        table.routes_.push_back(*std::move(route));
      }
    }
  }
  return table;
}

HttpRouteTable::Lookup HttpRouteTable::Find(absl::string_view http_method,
                                            absl::string_view path) const {
  if (http_method == "HEAD") http_method = "GET";
  Lookup found;
  for (const HttpRoute& route : routes_) {
    std::optional<PathBindings> bindings = route.path.Match(path);
    if (!bindings.has_value()) continue;
    if (route.http_method == http_method) {
      found.route = &route;
      found.bindings = *std::move(bindings);
      found.allowed.clear();
      return found;
    }
    found.allowed.push_back(route.http_method);
    if (route.http_method == "GET") found.allowed.push_back("HEAD");
  }
  return found;
}

namespace {

// The query and body into `request`, by the route's body rule.
absl::Status MergeQueryAndBody(const HttpRoute& route,
                               const std::vector<QueryParameter>& query,
                               absl::string_view body, Message* request) {
  const bool has_body = !absl::StripAsciiWhitespace(body).empty();
  if (route.body == "*") {
    if (!query.empty()) {
      return InvalidField(
          "query", "is not read here: the JSON body is the whole request");
    }
    return has_body ? ParseJsonBody(body, request) : absl::OkStatus();
  }
  if (route.body.empty() && has_body) {
    return InvalidField(
        "body", absl::StrCat(route.http_method, " ", route.path.text(),
                             " takes no body: its fields go in the query"));
  }
  SMZ_RETURN_IF_ERROR(MergeQueryParameters(query, request));
  if (route.body.empty()) return absl::OkStatus();
  const FieldDescriptor* field =
      request->GetDescriptor()->FindFieldByName(route.body);
  if (request->GetReflection()->HasField(*request, field)) {
    return InvalidField(route.body,
                        "is the body: its fields cannot be in the query");
  }
  Message* target = request->GetReflection()->MutableMessage(request, field);
  return has_body ? ParseJsonBody(body, target) : absl::OkStatus();
}

}  // namespace

absl::Status BuildHttpRequest(const HttpRoute& route,
                              const PathBindings& bindings,
                              const std::vector<QueryParameter>& query,
                              absl::string_view body, Message* request) {
  // The path's values, typed, apart; the rest into the request; then any
  // other value given for a path field must be the path's, and the path's
  // is the one the call gets. Bad path values and bad parameters are named
  // together.
  std::unique_ptr<Message> from_path = NewMessage(request->GetDescriptor());
  const absl::Status path_typed =
      MergeQueryParameters(bindings, from_path.get());
  const absl::Status rest_merged =
      MergeQueryAndBody(route, query, body, request);
  FieldViolations violations;
  for (const absl::Status* status : {&path_typed, &rest_merged}) {
    if (status->ok()) continue;
    const std::vector<FieldViolation> found = GetFieldViolations(*status);
    if (found.empty()) return *status;
    for (const FieldViolation& v : found)
      violations.Add(v.field, v.description);
  }
  SMZ_RETURN_IF_ERROR(violations.ToStatus());
  for (const auto& [path, value] : bindings) {
    if (!IsSet(*request, path)) continue;
    auto [holder, field] = Resolve(*request, path);
    auto [path_holder, path_field] = Resolve(*from_path, path);
    const std::string given = ScalarText(*holder, field);
    const std::string named =
        path_holder == nullptr ? "" : ScalarText(*path_holder, path_field);
    if (given != named) {
      violations.Add(
          path,
          absl::StrCat("is '", Abbreviate(given, 64), "' in the request but '",
                       Abbreviate(value, 64), "' in the path"));
    }
  }
  SMZ_RETURN_IF_ERROR(violations.ToStatus());
  return MergeQueryParameters(bindings, request);
}

}  // namespace smz::gateway
