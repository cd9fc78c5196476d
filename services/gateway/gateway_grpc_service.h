// The gateway service's gRPC face: each handler runs through the RPC runner and
// hands the authenticated caller to Gateway. Who may call each method is
// declared next to it in gateway.proto (option (smz.auth.v1.allowed_roles)) and
// enforced by the runner; finer rules are in the backends: the caller's own
// credential is forwarded, so their rules (e.g. small-cell suppression) apply
// unchanged.
//
// Every method is a read on gRPC's callback API (RpcRunner::RunCallback).
// The council's tables are answered from memory while the backends' stamps
// have not moved (CouncilCache: the runner asks its fence); otherwise they
// are computed on the runner's worker pool and kept, unless a backend was
// out meanwhile. Those six are registered raw (their messages as bytes):
// an answer is kept as it was serialized when it was computed, and each
// answer from memory sends those bytes, not a copy of a message that gRPC
// would serialize again (PERFORMANCE.md, "Council tables kept serialized").
// A partner's profile is always computed.
#ifndef SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_
#define SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/server/rpc_runner.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/gateway/council_cache.h"
#include "services/gateway/gateway.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"

namespace smz::gateway {

// The six council tables raw (bytes in and out), the partner's profile
// typed; all on the callback API.
using GatewayServiceBase =
    v1::GatewayService::WithRawCallbackMethod_GetKpiTable<
        v1::GatewayService::WithRawCallbackMethod_GetZoneOverview<
            v1::GatewayService::WithRawCallbackMethod_GetActivityLog<
                v1::GatewayService::WithRawCallbackMethod_ListUpcomingEvents<
                    v1::GatewayService::WithRawCallbackMethod_GetCouncilReport<
                        v1::GatewayService::
                            WithRawCallbackMethod_GetBudgetTable<
                                v1::GatewayService::
                                    WithCallbackMethod_GetPartnerProfile<
                                        v1::GatewayService::Service>>>>>>>;

class GatewayGrpcService final : public GatewayServiceBase {
 public:
  // `cache` may be null: every answer computed.
  GatewayGrpcService(Gateway* gateway, RpcRunner* runner, CouncilCache* cache)
      : gateway_(gateway), runner_(runner), cache_(cache) {}

  // Raw: each takes and answers the bytes of the types gateway.proto
  // declares for it (v1::GetKpiTableRequest in, v1::KpiTable out, ...;
  // GetBudgetTable's are programme.v1's).
  grpc::ServerUnaryReactor* GetKpiTable(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetZoneOverview(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListUpcomingEvents(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetActivityLog(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetCouncilReport(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetBudgetTable(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;

  grpc::ServerUnaryReactor* GetPartnerProfile(
      grpc::CallbackServerContext* context,
      const v1::GetPartnerProfileRequest* request,
      v1::PartnerProfile* response) override;

  // A council table's request is a few dozen bytes; a larger one is
  // INVALID_ARGUMENT (CouncilCache::kMaxRequestBytes, below it, is what is
  // kept).
  static constexpr size_t kMaxTableRequestBytes = 64 << 10;

 private:
  // A council table: the request's bytes parsed as `Request` (one that
  // cannot be read, or is too large, is INVALID_ARGUMENT after
  // authentication), answered from memory at the stamps of a moment after
  // the call began, else computed by `view` with the caller's forwarded
  // credential on the worker pool, serialized, and kept when it succeeded
  // with every backend answering and within one day (the key holds
  // "today"). `method` must be a literal.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* AnswerTable(
      grpc::CallbackServerContext* context, absl::string_view method,
      const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
      absl::StatusOr<Response> (Gateway::*view)(const std::string&,
                                                const Request&));

  Gateway* const gateway_;
  RpcRunner* const runner_;
  CouncilCache* const cache_;
};

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_
