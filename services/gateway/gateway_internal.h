// What the gateway's views share: calling a backend with the caller's own
// credential and a deadline, listing every page of a backend list, sections
// marked unavailable when a backend is out, and small conversions. Internal
// to the gateway's views (gateway.cc, *_view.cc, activity_views.cc).
//
//   absl::StatusOr<sv1::AggregateResponse> figures =
//       Call("stats", authorization, deadline, *stats_,
//            &sv1::StatsService::Stub::QueryAggregate, request);
#ifndef SMZ_SERVICES_GATEWAY_GATEWAY_INTERNAL_H_
#define SMZ_SERVICES_GATEWAY_GATEWAY_INTERNAL_H_

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "common/tracing/trace_context.h"
#include "google/protobuf/util/json_util.h"
#include "services/gateway/council_report.h"
#include "services/gateway/gateway.h"
#include "services/gateway/kpi_table.h"
#include "services/programme/programme_rules.h"

namespace smz::gateway {

namespace pv1 = ::smz::programme::v1;
namespace ev1 = ::smz::events::v1;
namespace sv1 = ::smz::stats::v1;
namespace rv1 = ::smz::registry::v1;

inline constexpr int kPageSize = 200;
// Lists are paged; a zone has dozens of partners and projects, so this bound
// only stops a runaway loop.
inline constexpr int kMaxPages = 50;

// One backend call with the caller's credentials and its own deadline, e.g.
//   Call("stats", authorization, deadline, *stats_,
//        &sv1::StatsService::Stub::QueryAggregate, request);
// Errors name the backend: "stats: UNAVAILABLE: …".
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Call(absl::string_view backend,
                              const std::string& authorization,
                              absl::Duration deadline, Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                           const Request&,
                                                           Response*),
                              const Request& request) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", authorization);
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMicroseconds(deadline));
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) {
    const absl::Status error = FromGrpcStatus(status);
    return absl::Status(
        error.code(),
        absl::StrCat(backend, ": ", absl::StatusCodeToString(error.code()),
                     ": ", error.message()));
  }
  return response;
}

// Every page of a List call, merged by `append(into, page)`.
template <typename Stub, typename Request, typename Response, typename Append>
absl::StatusOr<Response> ListAll(
    absl::string_view backend, const std::string& authorization,
    absl::Duration deadline, Stub& stub,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                 Response*),
    Request request, Append append) {
  Response all;
  for (int page = 0; page < kMaxPages; ++page) {
    absl::StatusOr<Response> response =
        Call(backend, authorization, deadline, stub, method, request);
    if (!response.ok()) return response.status();
    append(&all, &*response);
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  return all;
}

// A backend that could not answer in time (or at all) leaves its section
// unavailable; other errors are the caller's to see.
bool IsOutage(const absl::Status& status);

v1::Section Available(absl::string_view name);

v1::Section Unavailable(absl::string_view name, const absl::Status& status);

// How many sections Unavailable() has marked in this process, whatever the
// error (an outage, or a refusal: a token revoked meanwhile): an answer
// computed while it did not move had every backend answering, and only
// those are kept in memory (a concurrent request's section counts too,
// which costs a kept answer, never exactness).
int64_t SectionsMarkedUnavailable();

void AddCount(std::vector<v1::CountByName>* counts, const std::string& name,
              int64_t n);

template <typename Field>
void CopyCounts(std::vector<v1::CountByName> counts, Field* out) {
  std::stable_sort(counts.begin(), counts.end(),
                   [](const v1::CountByName& a, const v1::CountByName& b) {
                     return a.count() > b.count();
                   });
  for (v1::CountByName& c : counts) *out->Add() = std::move(c);
}

v1::Activity ActivityOf(const ev1::Event& e);

absl::StatusOr<absl::CivilDay> AsOf(const std::string& text, const Clock& clock,
                                    const char* field);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_GATEWAY_INTERNAL_H_
