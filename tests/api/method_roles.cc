#include "tests/api/method_roles.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "smz/auth/v1/auth.pb.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"
#include "smz/programme/v1/programme.grpc.pb.h"
#include "smz/registry/v1/accounts.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"

namespace smz {

std::vector<std::string> SmzServiceNames() {
  // A message of each file, so that the linker keeps the file's descriptors.
  const google::protobuf::FileDescriptor* files[] = {
      registry::v1::Partner::descriptor()->file(),
      registry::v1::Account::descriptor()->file(),
      stats::v1::Report::descriptor()->file(),
      events::v1::Event::descriptor()->file(),
      programme::v1::Project::descriptor()->file(),
      gateway::v1::ZoneOverview::descriptor()->file()};
  std::vector<std::string> names;
  for (const google::protobuf::FileDescriptor* file : files) {
    for (int i = 0; i < file->service_count(); ++i) {
      names.push_back(file->service(i)->full_name());
    }
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
