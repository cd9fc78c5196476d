#include "services/gateway/web_reference.h"

#include "absl/strings/str_cat.h"
#include "common/departments.h"
#include "common/iso_codes.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace smz::gateway {
namespace {

using google::protobuf::ListValue;

// [code, Korean name, English name]
template <typename Entry>
void AddTriple(const Entry& entry, ListValue* list) {
  ListValue* triple = list->add_values()->mutable_list_value();
  triple->add_values()->set_string_value(std::string(entry.code));
  triple->add_values()->set_string_value(std::string(entry.name_ko));
  triple->add_values()->set_string_value(std::string(entry.name_en));
}

}  // namespace

std::string WebReferenceScript() {
  google::protobuf::Struct reference;
  auto& fields = *reference.mutable_fields();
  ListValue* countries = fields["countries"].mutable_list_value();
  for (const IsoCode& country : Countries()) AddTriple(country, countries);
  ListValue* departments = fields["departments"].mutable_list_value();
  for (const Department& department : Departments()) {
    AddTriple(department, departments);
  }
  std::string json;
  // Our own compiled-in tables: printing cannot fail.
  (void)google::protobuf::util::MessageToJsonString(reference, &json);
  return absl::StrCat("\"use strict\";\nwindow.SMZ_REFERENCE = ", json, ";\n");
}

}  // namespace smz::gateway
