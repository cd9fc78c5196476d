#include "common/clients/call_interceptor.h"

#include <chrono>
#include <map>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/tracing/trace_context.h"

namespace smz {
namespace {

using ::grpc::experimental::ClientRpcInfo;
using ::grpc::experimental::InterceptionHookPoints;
using ::grpc::experimental::Interceptor;
using ::grpc::experimental::InterceptorBatchMethods;

class CallInterceptor : public Interceptor {
 public:
  CallInterceptor(const std::string* backend, RpcMetrics* metrics,
                  absl::string_view method)
      : backend_(backend), metrics_(metrics), method_(method) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
      // The thread that starts a call is the one working for the caller's
      // own call (blocking stubs; async ones start it on that thread too).
      std::multimap<std::string, std::string>* metadata =
          methods->GetSendInitialMetadata();
      const TraceContext* trace = CurrentTrace();
      if (trace != nullptr && metadata != nullptr &&
          metadata->find(std::string(kTraceparentHeader)) == metadata->end()) {
        metadata->emplace(std::string(kTraceparentHeader),
                          FormatTraceparent(*trace));
      }
    }
    if (metrics_ != nullptr && methods->QueryInterceptionHookPoint(
                                   InterceptionHookPoints::POST_RECV_STATUS)) {
      const grpc::Status* status = methods->GetRecvStatus();
      metrics_->RecordBackendCall(
          *backend_, method_,
          // gRPC's codes are absl's, number for number.
          status == nullptr
              ? absl::StatusCode::kUnknown
              : static_cast<absl::StatusCode>(status->error_code()),
          absl::FromChrono(std::chrono::steady_clock::now() - start_));
    }
    methods->Proceed();
  }

 private:
  const std::string* const backend_;
  RpcMetrics* const metrics_;
  // "RegistryService/WhoAmI" of "/smz.registry.v1.RegistryService/WhoAmI"
  // (a copy: a generic call's method name may not outlive its start).
  const std::string method_;
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

class CallInterceptorFactory
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  CallInterceptorFactory(std::string backend, RpcMetrics* metrics)
      : backend_(std::move(backend)), metrics_(metrics) {}

  Interceptor* CreateClientInterceptor(ClientRpcInfo* info) override {
    absl::string_view method = info->method() == nullptr ? "" : info->method();
    // Service and method, without the package: short labels.
    const size_t dot = method.rfind('.');
    if (dot != absl::string_view::npos) method.remove_prefix(dot + 1);
    return new CallInterceptor(&backend_, metrics_, method);
  }

 private:
  const std::string backend_;
  RpcMetrics* const metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeCallInterceptorFactory(std::string backend, RpcMetrics* metrics) {
  return std::make_unique<CallInterceptorFactory>(std::move(backend), metrics);
}

}  // namespace smz
