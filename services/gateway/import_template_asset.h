// The monthly-report upload templates (an XLSX and a CSV with Korean
// headers and example rows), written at build time by
// import_template_gen_main.cc with Debian's libxlsxwriter and compiled into
// the gateway, which serves them at /static/import_template.xlsx and
// /static/import_template.csv.
//
//   absl::string_view xlsx = smz::gateway::ImportTemplateXlsx();
#ifndef SMZ_SERVICES_GATEWAY_IMPORT_TEMPLATE_ASSET_H_
#define SMZ_SERVICES_GATEWAY_IMPORT_TEMPLATE_ASSET_H_

#include "absl/strings/string_view.h"

namespace smz::gateway {

absl::string_view ImportTemplateXlsx();
absl::string_view ImportTemplateCsv();

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_IMPORT_TEMPLATE_ASSET_H_
