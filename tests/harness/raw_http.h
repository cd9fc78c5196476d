// An HTTP client for tests that must send exactly the bytes under test
// (malformed headers, lying Content-Lengths, one byte at a time), which a
// real HTTP library would refuse or correct; and a wait for a gRPC server's
// health.
//
//   const std::string response = smz::testing::HttpRoundtrip(
//       port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
//   EXPECT_EQ(smz::testing::HttpStatusOf(response), 200);
//   ASSERT_TRUE(smz::testing::WaitServing(grpc_port, absl::Seconds(30)));
//   smz::testing::SlowClients slow(port, 64, absl::Milliseconds(200));
#ifndef SMZ_TESTS_HARNESS_RAW_HTTP_H_
#define SMZ_TESTS_HARNESS_RAW_HTTP_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

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

// `count` clients that each hold a connection to `port` and send the start
// of a request's headers one byte per `pace` (a "slowloris"), until
// destroyed. The constructor returns once they are connected (or after
// 10 s; connected() tells how many are).
class SlowClients {
 public:
  SlowClients(int port, int count, absl::Duration pace);
  ~SlowClients();
  int connected() const { return connected_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> connected_{0};
  std::vector<std::thread> threads_;
};

// Whether the grpc.health.v1 service on loopback `port` says SERVING within
// `timeout` (a fresh channel per attempt, so that a refused connection does
// not back off for seconds).
bool WaitServing(int port, absl::Duration timeout);

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_RAW_HTTP_H_
