// The gateway's web workspace, compiled in at build time so that the gateway
// reads no files of its own at run time. The pages live in
// services/gateway/web/; CMakeLists.txt turns each into a WebAsset:
//   - pages (HTML) at their own paths: the council dashboard and sign-in at
//     "/", the set-a-password page at "/account/password", the hospital's
//     home at "/hospital" and its monthly report form at "/hospital/report";
//   - their scripts and styles at "/static/<file name>" (api.js is the
//     shared kit every page's script builds on).
// Debian's Chart.js is read once at start-up from kChartJsPath.
//
//   if (const WebAsset* asset = FindWebAsset("/hospital")) {
//     Serve(asset->content_type, asset->text);
//   }
#ifndef SMZ_SERVICES_GATEWAY_WEB_ASSETS_H_
#define SMZ_SERVICES_GATEWAY_WEB_ASSETS_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace smz::gateway {

struct WebAsset {
  absl::string_view path;
  absl::string_view content_type;
  // An HTML page: served with the pages' Content-Security-Policy and never
  // cached (scripts and styles are cached for an hour).
  bool page = false;
  absl::string_view text;
};

// Every compiled-in asset (web_assets.cc, generated).
absl::Span<const WebAsset> WebAssets();

// The asset served at `path` exactly, or nullptr.
const WebAsset* FindWebAsset(absl::string_view path);

// libjs-chart.js's file; the pages work without it, charts then missing.
inline constexpr char kChartJsPath[] =
    "/usr/share/javascript/chart.js/chart.min.js";

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_WEB_ASSETS_H_
