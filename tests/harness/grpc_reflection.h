// A gRPC server reflection request (list_services "*") for tests that check
// which servers offer reflection. The request is encoded by hand: the
// generated reflection classes live inside gRPC's reflection library and
// must not be linked twice.
//
//   std::string reply;
//   grpc::Status s = smz::testing::ListServicesByReflection(channel, &reply);
//   EXPECT_THAT(reply, HasSubstr("smz.registry.v1.RegistryService"));
#ifndef SMZ_TESTS_HARNESS_GRPC_REFLECTION_H_
#define SMZ_TESTS_HARNESS_GRPC_REFLECTION_H_

#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace smz::testing {

// How the call ended; `reply` gets the first answer's bytes (the service
// names appear in them as text).
grpc::Status ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel, std::string* reply);

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_GRPC_REFLECTION_H_
