// Certificates and shell output for tests of TLS: a private CA and a
// certificate per name from the project's own script
// (deploy/tls/make_certs.sh, OpenSSL's command line), and what a command
// such as `openssl x509 -fingerprint` prints.
//
//   ASSERT_TRUE(smz::testing::MakeTestCertificates(dir, "registry gateway"));
//   // dir/ca.crt, dir/registry.crt, dir/registry.key, ...
//   std::string fingerprint = smz::testing::CommandOutput(
//       "openssl x509 -noout -fingerprint -sha256 -in " + dir + "/ca.crt");
#ifndef SMZ_TESTS_HARNESS_TEST_CERTIFICATES_H_
#define SMZ_TESTS_HARNESS_TEST_CERTIFICATES_H_

#include <string>

namespace smz::testing {

// Runs make_certs.sh DIR NAMES (space-separated; the CA in DIR is made once
// and kept, so running it again renews the names in place); true when it
// succeeded.
bool MakeTestCertificates(const std::string& dir, const std::string& names);

// What `command` (a shell line) prints on its standard output; "" when it
// cannot be run.
std::string CommandOutput(const std::string& command);

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_TEST_CERTIFICATES_H_
