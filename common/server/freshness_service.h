// A backend's FreshnessService (protos/smz/freshness/v1): the stamp of the
// data its reads answer from, as of a moment after each call began, from the
// backend's FreshnessFence (one query answers every call that arrives while
// it runs). Every backend serves it beside its own service (Backend::Serve);
// the gateway asks all four at once to know whether the council tables it
// holds are still current.
//
// Backend::Serve makes and registers it; a service says which fence it
// answers with first:
//
//   backend->set_freshness_fence(&store->directory_fence());
//   // or, for a service whose every write moves data_version:
//   backend->StampEveryWrite();
//   backend->Serve(service.get(), options.server);
#ifndef SMZ_COMMON_SERVER_FRESHNESS_SERVICE_H_
#define SMZ_COMMON_SERVER_FRESHNESS_SERVICE_H_

#include <memory>
#include <string>

#include "common/mysql/freshness_fence.h"
#include "common/server/rpc_runner.h"
#include "smz/freshness/v1/freshness.grpc.pb.h"

namespace smz {

class FreshnessGrpcService final
    : public freshness::v1::FreshnessService::CallbackService {
 public:
  // `fence` (not owned; null: the backend's reads cannot be vouched for by a
  // stamp, e.g. they come from a replica) must outlive the server's shutdown.
  // `settings`: what else the backend's answers depend on (e.g. stats'
  // suppression threshold); answered in each stamp with the release, so a
  // backend restarted with other settings or code has other stamps.
  FreshnessGrpcService(FreshnessFence* fence, std::string settings,
                       std::unique_ptr<RpcRunner> runner);

  grpc::ServerUnaryReactor* GetStamp(
      grpc::CallbackServerContext* context,
      const freshness::v1::GetStampRequest* request,
      freshness::v1::Stamp* response) override;

 private:
  // What a caller gets: a SHA-256 of the release, settings and stamp, so
  // that it tells only whether something changed (not which shard, nor the
  // settings).
  std::string Hashed(const std::string& stamp) const;

  FreshnessFence* const fence_;
  const std::string prefix_;  // release and settings
  const std::unique_ptr<RpcRunner> runner_;
};

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_FRESHNESS_SERVICE_H_
