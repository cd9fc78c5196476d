#include "services/gateway/http_json.h"

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_util.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "httplib.h"
#include "services/gateway/dashboard.h"

namespace smz::gateway {
namespace {

using google::protobuf::Message;
using google::protobuf::util::JsonParseOptions;
using google::protobuf::util::JsonPrintOptions;

// A whole call must not outlive the browser's patience; backend deadlines
// inside are shorter.
constexpr auto kCallDeadline = std::chrono::seconds(30);

// A JSON string literal's content, escaped (shared with the log writer).
std::string JsonEscape(absl::string_view text) {
  std::string out;
  AppendJsonEscaped(&out, text);
  return out;
}

void SendError(const absl::Status& status, httplib::Response& response) {
  std::string body = absl::StrCat(
      "{\"code\":\"", absl::StatusCodeToString(status.code()),
      "\",\"message\":\"", JsonEscape(std::string(status.message())), "\"");
  const std::vector<FieldViolation> violations = GetFieldViolations(status);
  if (!violations.empty()) {
    body += ",\"field_violations\":[";
    for (size_t i = 0; i < violations.size(); ++i) {
      absl::StrAppend(&body, i == 0 ? "" : ",", "{\"field\":\"",
                      JsonEscape(violations[i].field), "\",\"description\":\"",
                      JsonEscape(violations[i].description), "\"}");
    }
    body += "]";
  }
  body += "}";
  response.status = HttpStatusOf(status.code());
  response.set_content(body, "application/json; charset=utf-8");
}

// One method: parse the request from the JSON body or the query string,
// call the gRPC method, print the response.
using Caller =
    std::function<grpc::Status(grpc::ClientContext*, const Message&, Message*)>;
struct Method {
  std::function<std::unique_ptr<Message>()> new_request;
  std::function<std::unique_ptr<Message>()> new_response;
  Caller call;
};

template <typename Request, typename Response, typename Fn>
Method MakeMethod(Fn fn) {
  return Method{[] { return std::make_unique<Request>(); },
                [] { return std::make_unique<Response>(); },
                [fn](grpc::ClientContext* context, const Message& request,
                     Message* response) {
                  return fn(context, static_cast<const Request&>(request),
                            static_cast<Response*>(response));
                }};
}

// Query parameters as a JSON object: numbers and booleans bare, the rest as
// strings (the JSON mapping accepts quoted integers too).
std::string QueryAsJson(const httplib::Request& request) {
  std::string json = "{";
  bool first = true;
  for (const auto& [key, value] : request.params) {
    int64_t number;
    const bool bare =
        absl::SimpleAtoi(value, &number) || value == "true" || value == "false";
    absl::StrAppend(&json, first ? "" : ",", "\"", JsonEscape(key), "\":",
                    bare ? value : absl::StrCat("\"", JsonEscape(value), "\""));
    first = false;
  }
  return json + "}";
}

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

HttpJsonFront::HttpJsonFront(std::shared_ptr<grpc::Channel> gateway)
    : stub_(v1::GatewayService::NewStub(std::move(gateway))),
      server_(std::make_unique<httplib::Server>()) {}

HttpJsonFront::~HttpJsonFront() { Shutdown(); }

absl::Status HttpJsonFront::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP listen address '", listen, "' is not host:port"));
  }
  const std::string host = listen.substr(0, colon);
  auto* stub = stub_.get();
  std::map<std::string, Method> methods = {
      {"GetKpiTable",
       MakeMethod<v1::GetKpiTableRequest, v1::KpiTable>(
           [stub](grpc::ClientContext* c, const v1::GetKpiTableRequest& r,
                  v1::KpiTable* o) { return stub->GetKpiTable(c, r, o); })},
      {"GetZoneOverview",
       MakeMethod<v1::GetZoneOverviewRequest, v1::ZoneOverview>(
           [stub](grpc::ClientContext* c, const v1::GetZoneOverviewRequest& r,
                  v1::ZoneOverview* o) {
             return stub->GetZoneOverview(c, r, o);
           })},
      {"GetActivityLog",
       MakeMethod<v1::GetActivityLogRequest, v1::ActivityLog>(
           [stub](grpc::ClientContext* c, const v1::GetActivityLogRequest& r,
                  v1::ActivityLog* o) {
             return stub->GetActivityLog(c, r, o);
           })},
      {"ListUpcomingEvents",
       MakeMethod<v1::ListUpcomingEventsRequest, v1::UpcomingEvents>(
           [stub](grpc::ClientContext* c,
                  const v1::ListUpcomingEventsRequest& r,
                  v1::UpcomingEvents* o) {
             return stub->ListUpcomingEvents(c, r, o);
           })},
      {"GetPartnerProfile",
       MakeMethod<v1::GetPartnerProfileRequest, v1::PartnerProfile>(
           [stub](grpc::ClientContext* c, const v1::GetPartnerProfileRequest& r,
                  v1::PartnerProfile* o) {
             return stub->GetPartnerProfile(c, r, o);
           })},
      {"GetCouncilReport",
       MakeMethod<v1::GetCouncilReportRequest, v1::Document>(
           [stub](grpc::ClientContext* c, const v1::GetCouncilReportRequest& r,
                  v1::Document* o) {
             return stub->GetCouncilReport(c, r, o);
           })},
      {"GetBudgetTable",
       MakeMethod<programme::v1::GetBudgetTableRequest,
                  programme::v1::BudgetTable>(
           [stub](grpc::ClientContext* c,
                  const programme::v1::GetBudgetTableRequest& r,
                  programme::v1::BudgetTable* o) {
             return stub->GetBudgetTable(c, r, o);
           })},
  };
  auto handle = [methods](const httplib::Request& request,
                          httplib::Response& response) {
    const std::string name = request.matches[1];
    auto method = methods.find(name);
    if (method == methods.end()) {
      SendError(absl::NotFoundError(absl::StrCat("no method /v1/", name)),
                response);
      return;
    }
    std::unique_ptr<Message> in = method->second.new_request();
    const std::string json = request.method == "POST" && !request.body.empty()
                                 ? request.body
                                 : QueryAsJson(request);
    JsonParseOptions parse;
    parse.ignore_unknown_fields = false;
    if (auto parsed =
            google::protobuf::util::JsonStringToMessage(json, in.get(), parse);
        !parsed.ok()) {
      SendError(absl::InvalidArgumentError(absl::StrCat(
                    "request is not a ", in->GetDescriptor()->full_name(),
                    " in JSON: ", parsed.ToString())),
                response);
      return;
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    if (request.has_header("Authorization")) {
      context.AddMetadata("authorization",
                          request.get_header_value("Authorization"));
    }
    std::unique_ptr<Message> out = method->second.new_response();
    grpc::Status status = method->second.call(&context, *in, out.get());
    if (!status.ok()) {
      SendError(FromGrpcStatus(status), response);
      return;
    }
    JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    print.always_print_primitive_fields = true;
    std::string body;
    if (auto printed =
            google::protobuf::util::MessageToJsonString(*out, &body, print);
        !printed.ok()) {
      SendError(absl::InternalError(printed.ToString()), response);
      return;
    }
    response.set_header("Cache-Control", "no-store");
    response.set_content(body, "application/json; charset=utf-8");
  };
  server_->Get(R"(/v1/([A-Za-z]+))", handle);
  // The council dashboard and the Chart.js it loads (read once, here).
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("Cache-Control", "no-store");
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_content(std::string(DashboardHtml()),
                         "text/html; charset=utf-8");
  });
  std::string chart_js;
  if (std::ifstream in(kChartJsPath); in) {
    std::stringstream buffer;
    buffer << in.rdbuf();
    chart_js = buffer.str();
  }
  server_->Get("/static/chart.js", [chart_js](const httplib::Request&,
                                              httplib::Response& response) {
    if (chart_js.empty()) {
      response.status = 404;
      return;
    }
    response.set_header("Cache-Control", "max-age=3600");
    response.set_content(chart_js, "text/javascript; charset=utf-8");
  });
  // The council report as the document itself (HTML to print, CSV to open
  // in a spreadsheet), with the same query parameters as GetCouncilReport.
  server_->Get("/report", [stub](const httplib::Request& request,
                                 httplib::Response& response) {
    v1::GetCouncilReportRequest in;
    if (auto parsed = google::protobuf::util::JsonStringToMessage(
            QueryAsJson(request), &in);
        !parsed.ok()) {
      SendError(absl::InvalidArgumentError(parsed.ToString()), response);
      return;
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    if (request.has_header("Authorization")) {
      context.AddMetadata("authorization",
                          request.get_header_value("Authorization"));
    }
    v1::Document document;
    grpc::Status status = stub->GetCouncilReport(&context, in, &document);
    if (!status.ok()) {
      SendError(FromGrpcStatus(status), response);
      return;
    }
    response.set_header("Cache-Control", "no-store");
    response.set_header(
        "Content-Disposition",
        absl::StrCat("inline; filename=\"", document.filename(), "\""));
    response.set_content(document.content(), document.content_type().c_str());
  });
  server_->Post(R"(/v1/([A-Za-z]+))", handle);
  port_ = port == 0 ? server_->bind_to_any_port(host)
                    : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void HttpJsonFront::Shutdown() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace smz::gateway
