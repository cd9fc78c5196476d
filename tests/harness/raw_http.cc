#include "tests/harness/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace smz::testing {

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string ReadResponse(int fd, absl::Duration timeout) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[16384];
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(
        &p, 1,
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())));
    if (ready <= 0) break;
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
    // One response is enough when the server keeps the connection.
    const size_t head_end = out.find("\r\n\r\n");
    const size_t length_at = out.find("Content-Length: ");
    size_t length = 0;
    if (head_end != std::string::npos && length_at < head_end &&
        absl::SimpleAtoi(
            out.substr(length_at + 16,
                       out.find("\r\n", length_at) - length_at - 16),
            &length) &&
        out.size() >= head_end + 4 + length) {
      break;
    }
  }
  return out;
}

std::string HttpRoundtrip(int port, const std::string& request,
                          absl::Duration timeout) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return "<connect failed>";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response = ReadResponse(fd, timeout);
  close(fd);
  return response;
}

int HttpStatusOf(const std::string& response) {
  if (!absl::StartsWith(response, "HTTP/1.1 ")) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

SlowClients::SlowClients(int port, int count, absl::Duration pace) {
  for (int i = 0; i < count; ++i) {
    threads_.emplace_back([this, port, pace] {
      const int fd = ConnectLoopback(port);
      if (fd < 0) return;
      ++connected_;
      const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      for (size_t k = 0; !stop_.load(); k = (k + 1) % head.size()) {
        send(fd, &head[k], 1, MSG_NOSIGNAL);
        absl::SleepFor(pace);
      }
      close(fd);
    });
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (connected_.load() < count && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
}

SlowClients::~SlowClients() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
}

bool WaitServing(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    grpc::health::v1::HealthCheckResponse response;
    if (health->Check(&context, {}, &response).ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

}  // namespace smz::testing
