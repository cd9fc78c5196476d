#include "services/gateway/openapi.h"

#include <deque>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"

namespace smz::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

std::string Quoted(absl::string_view text) {
  std::string out = "\"";
  AppendJsonEscaped(&out, text);
  out += "\"";
  return out;
}

std::string Ref(const Descriptor* type) {
  return absl::StrCat("{\"$ref\":\"#/components/schemas/", type->full_name(),
                      "\"}");
}

// The schema of a well-known type as protobuf's JSON mapping writes it;
// empty for other messages.
std::string WellKnownSchema(const Descriptor* type) {
  const std::string& name = type->full_name();
  if (name == "google.protobuf.Timestamp") {
    return R"({"type":"string","format":"date-time"})";
  }
  if (name == "google.protobuf.Duration") {
    return R"({"type":"string","description":"seconds, e.g. \"1.5s\""})";
  }
  if (name == "google.protobuf.FieldMask") {
    return R"({"type":"string","description":"comma-separated field paths"})";
  }
  if (name == "google.protobuf.Empty" || name == "google.protobuf.Struct" ||
      name == "google.protobuf.Any") {
    return R"({"type":"object"})";
  }
  if (name == "google.protobuf.Value") return "{}";
  return "";
}

// The schema of one value of `field` (an element, for a repeated field);
// message types met are added to `pending`.
std::string ValueSchema(const FieldDescriptor* field,
                        std::deque<const Descriptor*>* pending) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
      return R"({"type":"integer","format":"int32"})";
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      return R"({"type":"integer","format":"int32","minimum":0})";
    // Protobuf's JSON mapping writes 64-bit integers as strings.
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return R"({"type":"string","format":"int64"})";
    case FieldDescriptor::TYPE_DOUBLE:
      return R"({"type":"number","format":"double"})";
    case FieldDescriptor::TYPE_FLOAT:
      return R"({"type":"number","format":"float"})";
    case FieldDescriptor::TYPE_BOOL:
      return R"({"type":"boolean"})";
    case FieldDescriptor::TYPE_STRING:
      return R"({"type":"string"})";
    case FieldDescriptor::TYPE_BYTES:
      return R"({"type":"string","format":"byte"})";
    case FieldDescriptor::TYPE_ENUM: {
      std::vector<std::string> names;
      for (int i = 0; i < field->enum_type()->value_count(); ++i) {
        names.push_back(Quoted(field->enum_type()->value(i)->name()));
      }
      return absl::StrCat(R"({"type":"string","enum":[)",
                          absl::StrJoin(names, ","), "]}");
    }
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP: {
      const std::string known = WellKnownSchema(field->message_type());
      if (!known.empty()) return known;
      pending->push_back(field->message_type());
      return Ref(field->message_type());
    }
  }
  return "{}";
}

std::string FieldSchema(const FieldDescriptor* field,
                        std::deque<const Descriptor*>* pending) {
  if (field->is_map()) {
    return absl::StrCat(
        R"({"type":"object","additionalProperties":)",
        ValueSchema(field->message_type()->map_value(), pending), "}");
  }
  if (field->is_repeated()) {
    return absl::StrCat(R"({"type":"array","items":)",
                        ValueSchema(field, pending), "}");
  }
  return ValueSchema(field, pending);
}

std::string MessageSchema(const Descriptor* type,
                          std::deque<const Descriptor*>* pending) {
  std::vector<std::string> properties;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    properties.push_back(
        absl::StrCat(Quoted(field->name()), ":", FieldSchema(field, pending)));
  }
  return absl::StrCat(R"({"type":"object","properties":{)",
                      absl::StrJoin(properties, ","), "}}");
}

struct QueryField {
  std::string name;  // dotted
  const FieldDescriptor* field;
};

// The fields a query can set (query_params.h): scalars, enums, repeated
// scalars and the one-string well-known types, through singular messages,
// outside the path's fields and the body.
void CollectQueryFields(const Descriptor* type, const std::string& prefix,
                        const std::set<std::string>& excluded, int depth,
                        std::vector<QueryField>* out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const std::string name = absl::StrCat(prefix, field->name());
    if (excluded.count(name) > 0 || field->is_map()) continue;
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      out->push_back({name, field});
      continue;
    }
    const std::string& wkt = field->message_type()->full_name();
    if (wkt == "google.protobuf.Timestamp" ||
        wkt == "google.protobuf.Duration" ||
        wkt == "google.protobuf.FieldMask") {
      out->push_back({name, field});
    } else if (!field->is_repeated() && depth + 1 < kMaxQueryFieldDepth &&
               WellKnownSchema(field->message_type()).empty()) {
      CollectQueryFields(field->message_type(), name + ".", excluded, depth + 1,
                         out);
    }
  }
}

// `names`: the path's variable names in the document, in order.
std::string Operation(const HttpRoute& route, const std::string& id,
                      const std::vector<std::string>& names,
                      std::deque<const Descriptor*>* pending) {
  const Descriptor* input = route.method->input_type();
  std::vector<std::string> parameters;
  std::set<std::string> excluded;
  const std::vector<std::string> fields = route.path.Fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& path_field = fields[i];
    excluded.insert(path_field);
    parameters.push_back(absl::StrCat(
        R"({"name":)", Quoted(names[i]), R"(,"in":"path","required":true,)",
        R"("description":)", Quoted(absl::StrCat("the request's ", path_field)),
        R"(,"schema":)", FieldSchema(FindFieldPath(input, path_field), pending),
        "}"));
  }
  std::string body;
  if (route.body == "*") {
    pending->push_back(input);
    body = Ref(input);
  } else {
    if (!route.body.empty()) {
      excluded.insert(route.body);
      const FieldDescriptor* field = input->FindFieldByName(route.body);
      pending->push_back(field->message_type());
      body = Ref(field->message_type());
    }
    std::vector<QueryField> query;
    CollectQueryFields(input, "", excluded, 0, &query);
    for (const QueryField& q : query) {
      parameters.push_back(
          absl::StrCat(R"({"name":)", Quoted(q.name), R"(,"in":"query",)",
                       q.field->is_repeated() ? R"("explode":true,)" : "",
                       R"("schema":)", FieldSchema(q.field, pending), "}"));
    }
  }
  const Descriptor* output = route.method->output_type();
  std::string answer = WellKnownSchema(output);
  if (answer.empty()) {
    pending->push_back(output);
    answer = Ref(output);
  }
  std::string operation =
      absl::StrCat(R"({"operationId":)", Quoted(id), R"(,"tags":[)",
                   Quoted(route.method->service()->name()), R"(],"summary":)",
                   Quoted(route.method->full_name()), R"(,"parameters":[)",
                   absl::StrJoin(parameters, ","), "]");
  if (!body.empty()) {
    absl::StrAppend(&operation,
                    R"(,"requestBody":{"required":true,"content":{)",
                    R"("application/json":{"schema":)", body, "}}}");
  }
  absl::StrAppend(&operation,
                  R"(,"responses":{"200":{"description":"OK","content":{)",
                  R"("application/json":{"schema":)", answer, "}}},",
                  R"("default":{"description":"An error","content":{)",
                  R"("application/json":{"schema":)",
                  R"({"$ref":"#/components/schemas/google.rpc.Status"}}}}}})");
  return operation;
}

constexpr absl::string_view kStatusSchema =
    R"("google.rpc.Status":{"type":"object","properties":{)"
    R"("code":{"type":"integer","format":"int32"},)"
    R"("message":{"type":"string"},)"
    R"("details":{"type":"array","items":{"type":"object","properties":{)"
    R"("@type":{"type":"string"},)"
    R"("field_violations":{"type":"array","items":{"type":"object",)"
    R"("properties":{"field":{"type":"string"},)"
    R"("description":{"type":"string"}}}}}}}}})";

}  // namespace

std::string OpenApiDocument(const HttpRouteTable& routes) {
  // Paths in the table's order, each with its operations.
  std::vector<std::string> path_order;
  std::map<std::string, std::vector<std::string>> operations;
  std::map<std::string, int> ids;
  // Each shape's path and variable names, as its first binding has them.
  std::map<std::string, const PathTemplate*> first_of_shape;
  std::deque<const Descriptor*> pending;
  for (const HttpRoute& route : routes.routes()) {
    const PathTemplate*& first = first_of_shape[PathShape(route.path.text())];
    if (first == nullptr) first = &route.path;
    const std::string& path = first->text();
    if (operations.count(path) == 0) path_order.push_back(path);
    std::string id = absl::StrCat(route.method->service()->name(), "_",
                                  route.method->name());
    if (const int n = ++ids[id]; n > 1) absl::StrAppend(&id, "_", n);
    operations[path].push_back(
        absl::StrCat(Quoted(absl::AsciiStrToLower(route.http_method)), ":",
                     Operation(route, id, first->Fields(), &pending)));
  }
  std::vector<std::string> paths;
  for (const std::string& path : path_order) {
    paths.push_back(absl::StrCat(Quoted(path), ":{",
                                 absl::StrJoin(operations[path], ","), "}"));
  }
  // Every message reachable, once, in the order met.
  std::set<std::string> written;
  std::vector<std::string> schemas;
  while (!pending.empty()) {
    const Descriptor* type = pending.front();
    pending.pop_front();
    if (!written.insert(type->full_name()).second) continue;
    schemas.push_back(absl::StrCat(Quoted(type->full_name()), ":",
                                   MessageSchema(type, &pending)));
  }
  schemas.push_back(std::string(kStatusSchema));
  return absl::StrCat(
      R"({"openapi":"3.0.3","info":{"title":"smz: Smart Medical Zone network",)",
      R"("version":"v1","description":"Every smz method over HTTP/JSON, )",
      R"(from the google.api.http annotations of its protos. Field names )",
      R"(are the .proto's; errors are google.rpc.Status."},)",
      R"("security":[{"bearer":[]}],"paths":{)", absl::StrJoin(paths, ","),
      R"(},"components":{"securitySchemes":{"bearer":{"type":"http",)",
      R"("scheme":"bearer"}},"schemas":{)", absl::StrJoin(schemas, ","),
      "}}}\n");
}

}  // namespace smz::gateway
