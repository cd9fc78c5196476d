// The gateway's HTTP/JSON face for browsers and scripts: every
// GatewayService method under /v1/<Method>, with protobuf's JSON mapping of
// the same request and response messages (field names as in the .proto).
//
//   GET  /v1/GetKpiTable?programme_code=smz-2018&as_of=2020-12-31
//   POST /v1/GetKpiTable   {"programme_code":"smz-2018"}
//   Authorization: Bearer smz_…
//
// Each request is made to the gateway's own gRPC service over loopback with
// the caller's Authorization header, so authentication, roles, logs and
// metrics are exactly those of the gRPC call. Errors are JSON
// {"code":"NOT_FOUND","message":"…","field_violations":[…]} with the HTTP
// status of the gRPC code (400, 401, 403, 404, 409, 503, 504, 500).
#ifndef SMZ_SERVICES_GATEWAY_HTTP_JSON_H_
#define SMZ_SERVICES_GATEWAY_HTTP_JSON_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "grpcpp/channel.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"

namespace httplib {
class Server;
}

namespace smz::gateway {

class HttpJsonFront {
 public:
  // `gateway` is a channel to the gateway's own gRPC port.
  explicit HttpJsonFront(std::shared_ptr<grpc::Channel> gateway);
  ~HttpJsonFront();

  // Listens on "host:port" (port 0: any free port).
  absl::Status Start(const std::string& listen);
  int port() const { return port_; }
  // Stops accepting and waits for the listener. Idempotent.
  void Shutdown();

 private:
  std::unique_ptr<v1::GatewayService::Stub> stub_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// The HTTP status for a gRPC status code.
int HttpStatusOf(absl::StatusCode code);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_HTTP_JSON_H_
