// Which smz a binary is: the release and the commit it was built from, for
// `--version`, the start-up log line and the smz_build_info metric, so that
// an upgrade can be checked host by host (README, "Upgrading").
//
//   int main(int argc, char** argv) {
//     smz::InstallVersionFlag();  // before absl::ParseCommandLine
//     // (ConfigureServiceProcess does it for the services)
//     absl::ParseCommandLine(argc, argv);  // --version prints and exits 0
//     smz::Log(smz::LogLevel::kInfo, "serving",
//              {{"version", smz::Version()}});
//   }
#ifndef SMZ_COMMON_VERSION_H_
#define SMZ_COMMON_VERSION_H_

#include <string>

namespace smz {

// "0.17.0" (the release, CMake's project version).
const char* Release();
// The commit at the time CMake configured the build ("unknown" outside a
// git checkout): 12 hex digits, e.g. "0ff2b3412ab4".
const char* Commit();
// "0.17.0+0ff2b3412ab4".
std::string Version();

// Makes Abseil's built-in --version print "smz <Version()>" (through
// absl::SetFlagsUsageConfig, which resets the other usage settings to their
// defaults: smz sets none).
void InstallVersionFlag();

}  // namespace smz

#endif  // SMZ_COMMON_VERSION_H_
