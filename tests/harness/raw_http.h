// An HTTP client for tests that must send exactly the bytes under test
// (malformed headers, lying Content-Lengths, one byte at a time), which a
// real HTTP library would refuse or correct; and a wait for a gRPC server's
// health.
//
//   const std::string response = smz::testing::HttpRoundtrip(
//       port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
//   EXPECT_EQ(smz::testing::HttpStatusOf(response), 200);
//   ASSERT_TRUE(smz::testing::WaitServing(grpc_port, absl::Seconds(30)));
#ifndef SMZ_TESTS_HARNESS_RAW_HTTP_H_
#define SMZ_TESTS_HARNESS_RAW_HTTP_H_

#include <string>

#include "absl/time/time.h"

namespace smz::testing {

// A connected loopback TCP socket to `port`, or -1.
int ConnectLoopback(int port);

// Everything the server sends on `fd` until it closes, one whole response
// has arrived (by its Content-Length), or `timeout` passes.
std::string ReadResponse(int fd, absl::Duration timeout);

// Sends `request` as it is on a new connection and returns the response
// ("<connect failed>" when nothing listens).
std::string HttpRoundtrip(int port, const std::string& request,
                          absl::Duration timeout = absl::Seconds(5));

// The status code of a raw response, 0 when there is none.
int HttpStatusOf(const std::string& response);

// Whether the grpc.health.v1 service on loopback `port` says SERVING within
// `timeout` (a fresh channel per attempt, so that a refused connection does
// not back off for seconds).
bool WaitServing(int port, absl::Duration timeout);

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_RAW_HTTP_H_
