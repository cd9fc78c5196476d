// Every method of every smz service declares who may call it, next to the
// method in its .proto; the runner enforces exactly that; the README's table
// is the declarations as they are.
#include "tests/api/method_roles.h"

#include <fstream>
#include <sstream>

#include "common/auth/authenticator.h"
#include "common/server/rpc_runner.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

std::string g_readme_path;

TEST(MethodRolesTest, EveryMethodDeclaresItsRoles) {
  const std::vector<MethodRoles> methods = AllMethodRoles();
  ASSERT_GT(methods.size(), 70u);  // all five services were found
  for (const MethodRoles& m : methods) {
    EXPECT_TRUE(m.declared) << m.service << "/" << m.method
                            << " has no option (smz.auth.v1.allowed_roles)";
    EXPECT_TRUE(!m.roles.empty() || m.anyone)
        << m.service << "/" << m.method << " allows no role at all";
  }
}

TEST(MethodRolesTest, TheRunnerEnforcesTheDeclaredRoles) {
  for (const std::string& service : SmzServiceNames()) {
    RpcRunner runner(service, /*authenticator=*/nullptr, /*metrics=*/nullptr);
    for (const MethodRoles& m : AllMethodRoles()) {
      if (m.service != service) continue;
      std::optional<RoleSet> allowed = runner.AllowedRoles(m.method);
      ASSERT_TRUE(allowed.has_value()) << m.method;
      for (int r = auth::v1::Role_MIN; r <= auth::v1::Role_MAX; ++r) {
        const auto role = static_cast<auth::v1::Role>(r);
        bool declared = false;
        for (const std::string& name : m.roles) {
          declared |= name == auth::v1::Role_Name(role);
        }
        EXPECT_EQ(allowed->Contains(role), declared)
            << m.method << " " << auth::v1::Role_Name(role);
      }
    }
    EXPECT_FALSE(runner.AllowedRoles("NoSuchMethod").has_value());
  }
}

TEST(MethodRolesTest, TheReadmeTableIsCurrent) {
  std::ifstream in(g_readme_path);
  ASSERT_TRUE(in.good()) << g_readme_path;
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const std::string begin = "<!-- method-roles:begin -->\n";
  const std::string end = "<!-- method-roles:end -->";
  const size_t from = readme.find(begin);
  const size_t to = readme.find(end);
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  const std::string table =
      readme.substr(from + begin.size(), to - from - begin.size());
  EXPECT_EQ(table, MethodRolesMarkdown())
      << "regenerate it: build/tests/smz_method_roles > table.md";
}

}  // namespace
}  // namespace smz

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (argc > 1) smz::g_readme_path = argv[1];
  return RUN_ALL_TESTS();
}
