// The gateway's pages, compiled in at build time so the gateway reads no
// files of its own at run time: the council dashboard (dashboard/
// dashboard.html, .css and .js, at /), the page where a one-time link sets
// a password (dashboard/account.html and .js, at /account/password), and
// where Debian's Chart.js is found.
#ifndef SMZ_SERVICES_GATEWAY_DASHBOARD_H_
#define SMZ_SERVICES_GATEWAY_DASHBOARD_H_

#include "absl/strings/string_view.h"

namespace smz::gateway {

absl::string_view DashboardHtml();
absl::string_view DashboardCss();
absl::string_view DashboardJs();
// The page where an invitation or reset link sets a password
// (/account/password#smzl_...), and its script.
absl::string_view DashboardAccountHtml();
absl::string_view DashboardAccountJs();

// libjs-chart.js's file; the page works without it, charts then missing.
inline constexpr char kChartJsPath[] =
    "/usr/share/javascript/chart.js/chart.min.js";

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_DASHBOARD_H_
