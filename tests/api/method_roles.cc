#include "tests/api/method_roles.h"

#include "absl/strings/str_cat.h"
#include "common/smz_services.h"
#include "google/protobuf/descriptor.h"
#include "smz/auth/v1/auth.pb.h"

namespace smz {

std::vector<std::string> SmzServiceNames() {
  std::vector<std::string> names;
  for (const google::protobuf::ServiceDescriptor* service : SmzServices()) {
    names.push_back(service->full_name());
  }
  return names;
}

std::vector<MethodRoles> AllMethodRoles() {
  std::vector<MethodRoles> out;
  for (const std::string& name : SmzServiceNames()) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      MethodRoles entry{name, method->name(), false, {}};
      const auto& options = method->options();
      if (options.HasExtension(auth::v1::allowed_roles)) {
        entry.declared = true;
        entry.anyone = options.GetExtension(auth::v1::allowed_roles).anyone();
        for (int role : options.GetExtension(auth::v1::allowed_roles).roles()) {
          entry.roles.push_back(
              auth::v1::Role_Name(static_cast<auth::v1::Role>(role)));
        }
      }
      out.push_back(std::move(entry));
    }
  }
  return out;
}

std::string MethodRolesMarkdown() {
  const std::vector<std::string> columns = {"ADMIN", "ORGANIZER", "PARTNER",
                                            "ANALYST", "COUNCIL"};
  std::string table = "| method |";
  for (const std::string& c : columns) absl::StrAppend(&table, " ", c, " |");
  absl::StrAppend(&table, " anyone |\n|---|");
  for (size_t i = 0; i <= columns.size(); ++i) table += ":-:|";
  table += "\n";
  for (const MethodRoles& m : AllMethodRoles()) {
    const std::string short_service =
        m.service.substr(m.service.rfind('.') + 1);
    absl::StrAppend(&table, "| `", short_service, ".", m.method, "` |");
    for (const std::string& c : columns) {
      bool allowed = false;
      for (const std::string& r : m.roles) allowed |= r == c;
      table += allowed ? " ✓ |" : "   |";
    }
    table += m.anyone ? " ✓ |\n" : "   |\n";
  }
  return table;
}

}  // namespace smz
