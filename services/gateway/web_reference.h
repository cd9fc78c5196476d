// The code lists the workspace's pages offer in their pickers, as a script
// served at /static/reference.js: ISO 3166-1 countries (patients'
// nationalities) and the report's department codes, each with Korean and
// English names, from the same tables the services validate against
// (common/iso_codes.h, common/departments.h), so a page never offers a code
// a service refuses.
//
//   const std::string script = WebReferenceScript();
//   // "window.SMZ_REFERENCE = {\"countries\":[[\"AD\",\"안도라\",...
#ifndef SMZ_SERVICES_GATEWAY_WEB_REFERENCE_H_
#define SMZ_SERVICES_GATEWAY_WEB_REFERENCE_H_

#include <string>

namespace smz::gateway {

inline constexpr char kWebReferencePath[] = "/static/reference.js";

std::string WebReferenceScript();

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_WEB_REFERENCE_H_
