// The smz gRPC services that callers reach, in one list: every tool that
// walks them (smzctl, the HTTP route table and its OpenAPI document, the
// method-roles table) takes them from here, so a new service or file is
// added once.
//
//   for (const google::protobuf::ServiceDescriptor* service : SmzServices()) {
//     std::cout << service->full_name() << "\n";  // smz.registry.v1...
//   }
#ifndef SMZ_COMMON_SMZ_SERVICES_H_
#define SMZ_COMMON_SMZ_SERVICES_H_

#include <vector>

#include "google/protobuf/descriptor.h"

namespace smz {

// Registry, accounts, stats, events, programme and gateway (not the
// benchmark's echo, nor gRPC's health), in that order.
const std::vector<const google::protobuf::ServiceDescriptor*>& SmzServices();

}  // namespace smz

#endif  // SMZ_COMMON_SMZ_SERVICES_H_
