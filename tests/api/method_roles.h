// The roles every smz method declares in its .proto (option
// (smz.auth.v1.allowed_roles)), read from the generated descriptors: for the
// test that every method declares them and for the README's table.
//
//   for (const smz::MethodRoles& m : smz::AllMethodRoles()) {
//     std::cout << m.method << ": " << absl::StrJoin(m.roles, ", ") << "\n";
//   }
//   std::string table = smz::MethodRolesMarkdown();  // README section
#ifndef SMZ_TESTS_API_METHOD_ROLES_H_
#define SMZ_TESTS_API_METHOD_ROLES_H_

#include <string>
#include <vector>

namespace smz {

struct MethodRoles {
  std::string service;  // "smz.registry.v1.RegistryService"
  std::string method;   // "GetPartner"
  bool declared = false;
  std::vector<std::string> roles;  // "ADMIN", ... in declaration order
  bool anyone = false;             // also callers without credentials
};

// The services callers reach (every smz.*.v1 service but the benchmark echo).
std::vector<std::string> SmzServiceNames();

std::vector<MethodRoles> AllMethodRoles();

// The README table: one row per method, one column per role and one for
// "anyone" (no credentials needed).
std::string MethodRolesMarkdown();

}  // namespace smz

#endif  // SMZ_TESTS_API_METHOD_ROLES_H_
