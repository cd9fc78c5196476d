#include "tests/harness/test_certificates.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace smz::testing {

bool MakeTestCertificates(const std::string& dir, const std::string& names) {
  return std::system(absl::StrCat(SMZ_MAKE_CERTS, " ", dir, " ", names,
                                  " >/dev/null 2>&1")
                         .c_str()) == 0;
}

std::string CommandOutput(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  char buffer[8192];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    out.append(buffer, n);
  }
  pclose(pipe);
  return out;
}

}  // namespace smz::testing
