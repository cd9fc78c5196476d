// The public pages at --visitors concurrent visitors (64 by default), each
// through the gateway's HTTP edge beside the events service's own gRPC call
// of the same run (PERFORMANCE.md):
//   event page:  GET /public/event?id= (the page, from memory) and
//                GET /v1/public/events/{id} (its data)  vs  GetPublicEvent;
//   sign-up:     POST /v1/public/events/{id}:signUp     vs  SignUp and the
//                organizers' CreateRegistration (the register call without
//                the public's checks, limits, token and mail);
//   check-in:    POST /v1/events/{id}:checkIn with an organizer's token,
//                each call a new person's code  vs  CheckIn, beside the
//                rate a room of 200 in 15 minutes needs.
// Every sign-up is a new person for one event open to the public without a
// seat limit, so each takes the event's row lock in turn, as a crowd
// signing up for one briefing does; the mail is queued, not sent (no relay).
// The limits are raised out of the way: one address sends everything here.
// The check-in codes are known because the benchmark supplies the events
// service's randomness (RecordingRandom): each code is made of one 10-byte
// draw, which it keeps.
//
//   build/services/gateway/public_benchmark --visitors=64 --runs=50
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clients/bearer_context.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "httplib.h"
#include "services/events/check_in_code.h"
#include "services/events/event_rules.h"
#include "services/events/events_server.h"
#include "services/gateway/gateway_server.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "tests/harness/benchmark_support.h"
#include "tests/harness/local_stack.h"

ABSL_FLAG(int, visitors, 64, "concurrent visitors");
ABSL_FLAG(int, runs, 50, "calls per visitor and measured call");
ABSL_FLAG(int, warmup, 5, "calls per visitor before measuring");

namespace {

using smz::testing::Check;
using smz::testing::CheckGrpc;
using smz::testing::Latency;
namespace ev1 = smz::events::v1;

// One keep-alive HTTP/1.1 client per worker thread, as a browser keeps its
// connections.
httplib::Client& ThreadClient(int port) {
  thread_local std::unique_ptr<httplib::Client> client;
  if (client == nullptr) {
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_keep_alive(true);
  }
  return *client;
}

// Secure bytes, with every 10-byte draw (a check-in code's, check_in_code.h)
// kept so that the benchmark can scan the codes people were mailed.
class RecordingRandom : public smz::RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    inner_.Fill(out);
    if (out.size() != smz::events::kCheckInCodeBytes) return;
    absl::MutexLock lock(&mu_);
    draws_.emplace_back(out.begin(), out.end());
  }
  // The codes drawn since the last call, in order.
  std::vector<std::string> TakeCodes() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> codes;
    for (const std::vector<uint8_t>& draw : draws_) {
      Replay replay(draw);
      codes.push_back(smz::events::GenerateCheckInCode(replay));
    }
    draws_.clear();
    return codes;
  }

 private:
  class Replay : public smz::RandomSource {
   public:
    explicit Replay(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}
    void Fill(absl::Span<uint8_t> out) override {
      std::copy(bytes_.begin(), bytes_.begin() + out.size(), out.begin());
    }

   private:
    const std::vector<uint8_t>& bytes_;
  };
  smz::SecureRandom inner_;
  absl::Mutex mu_;
  std::vector<std::vector<uint8_t>> draws_ ABSL_GUARDED_BY(mu_);
};

void Expect200(const httplib::Result& answer, const std::string& what) {
  if (!answer || answer->status != 200) {
    std::fprintf(stderr, "%s: %d %s\n", what.c_str(),
                 answer ? answer->status : 0,
                 answer ? answer->body.substr(0, 300).c_str() : "no answer");
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  smz::ConfigureServiceProcess();
  std::FILE* log = std::fopen("/tmp/public_benchmark.log", "w");
  smz::SetLogSink(log);
  const int visitors = absl::GetFlag(FLAGS_visitors);
  const int runs = absl::GetFlag(FLAGS_runs);
  const int warmup = absl::GetFlag(FLAGS_warmup);

  smz::FakeClock clock(absl::FromUnixSeconds(1'790'000'000));
  auto stack = smz::testing::LocalStack::Start(&clock);
  Check(stack.status(), "stack");
  RecordingRandom random;
  auto events = (*stack)->StartEvents([&](smz::events::EventsServerOptions& o) {
    o.random = &random;
    // No reminder sweep while it runs: reminders would draw codes too.
    o.mail_poll = absl::Hours(1);
    o.public_side.per_client_address = 1'000'000;
    o.public_side.per_email = 1'000'000;
    o.public_side.per_event = 1'000'000;
    o.public_side.max_unconfirmed_per_event = 1'000'000;
  });
  Check(events.status(), "events");
  smz::gateway::GatewayServerOptions gateway_options;
  gateway_options.server.listen = "127.0.0.1:0";
  gateway_options.http_listen = "127.0.0.1:0";
  gateway_options.registry_target = (*stack)->registry().target();
  gateway_options.events_target = absl::StrCat("127.0.0.1:", (*events)->port());
  gateway_options.stats_target = "127.0.0.1:1";  // the pages call neither
  gateway_options.programme_target = "127.0.0.1:1";
  gateway_options.clock = &clock;
  auto gateway = smz::gateway::GatewayServer::Start(gateway_options);
  Check(gateway.status(), "gateway");
  const int http_port = (*gateway)->http_port();
  auto organizer =
      (*stack)->IssueToken(smz::auth::v1::ORGANIZER, "benchmark organizer");
  Check(organizer.status(), "token");
  auto stub = ev1::EventsService::NewStub(
      smz::testing::LoopbackChannel((*events)->port()));

  // A new event open to the public, without a seat limit: each
  // measurement has its own, so none starts with another's registrations.
  int64_t id = 0;
  std::string page_path, data_path, sign_up_path;
  // online_only: no door, so its mail carries no check-in code.
  auto new_event = [&](bool online_only = false) {
    ev1::CreateEventRequest create;
    ev1::Event* event = create.mutable_event();
    event->set_type(ev1::BRIEFING_SESSION);
    (*event->mutable_title())["ko"] = "몽골 의료관광 설명회";
    (*event->mutable_title())["mn"] = "Эмнэлгийн аялал жуулчлалын танилцуулга";
    if (online_only) {
      event->set_online(true);
    } else {
      event->set_venue("Shangri-La Ulaanbaatar");
    }
    event->set_city("Ulaanbaatar");
    event->set_country("MN");
    event->set_time_zone("Asia/Ulaanbaatar");
    event->set_open_to_public(true);
    const absl::Time start = clock.Now() + absl::Hours(24 * 30);
    *event->mutable_start_time() = smz::events::ToTimestamp(start);
    *event->mutable_end_time() =
        smz::events::ToTimestamp(start + absl::Hours(3));
    ev1::EventResponse created;
    CheckGrpc(stub->CreateEvent(
                  smz::BearerContext(*organizer, absl::Seconds(30)).get(),
                  create, &created),
              "CreateEvent");
    ev1::TransitionRequest publish;
    publish.set_id(created.event().id());
    ev1::EventResponse published;
    CheckGrpc(stub->PublishEvent(
                  smz::BearerContext(*organizer, absl::Seconds(30)).get(),
                  publish, &published),
              "PublishEvent");
    id = created.event().id();
    page_path = absl::StrCat("/public/event?id=", id);
    data_path = absl::StrCat("/v1/public/events/", id);
    sign_up_path = absl::StrCat("/v1/public/events/", id, ":signUp");
  };

  struct Pair {
    std::string name;
    std::function<void(int)> backend;
    std::function<void(int)> edge;
  };
  auto get_backend = [&](int) {
    ev1::GetPublicEventRequest request;
    request.set_id(id);
    ev1::PublicEvent seen;
    CheckGrpc(
        stub->GetPublicEvent(smz::BearerContext("", absl::Seconds(30)).get(),
                             request, &seen),
        "GetPublicEvent");
  };
  auto page_edge = [&](int) {
    Expect200(ThreadClient(http_port).Get(page_path), page_path);
    Expect200(ThreadClient(http_port).Get(data_path), data_path);
  };
  auto sign_up_backend = [&](int n) {
    ev1::SignUpRequest request;
    request.set_event_id(id);
    request.set_name(absl::StrCat("Батбаяр ", n));
    request.set_country("MN");
    request.set_email(absl::StrCat("grpc", n, "@example.mn"));
    request.set_language("mn");
    request.set_consent(true);
    ev1::SignUpResponse held;
    CheckGrpc(stub->SignUp(smz::BearerContext("", absl::Seconds(30)).get(),
                           request, &held),
              "SignUp");
  };
  auto register_backend = [&](int n) {
    ev1::CreateRegistrationRequest request;
    ev1::Registration* r = request.mutable_registration();
    r->set_event_id(id);
    r->set_name(absl::StrCat("Батбаяр ", n));
    r->set_country("MN");
    r->set_email(absl::StrCat("organizer", n, "@example.mn"));
    r->set_language("mn");
    ev1::RegistrationResponse done;
    CheckGrpc(stub->CreateRegistration(
                  smz::BearerContext(*organizer, absl::Seconds(30)).get(),
                  request, &done),
              "CreateRegistration");
  };
  auto sign_up_edge = [&](int n) {
    const std::string body = absl::StrCat(
        "{\"name\":\"Батбаяр ", n, "\",\"country\":\"MN\",\"email\":\"http", n,
        "@example.mn\",\"language\":\"mn\",\"consent\":true}");
    Expect200(
        ThreadClient(http_port).Post(sign_up_path, body, "application/json"),
        sign_up_path);
  };
  const std::vector<Pair> pairs = {
      {"event page: the page + its data  vs  GetPublicEvent", get_backend,
       page_edge},
      {"sign-up: POST :signUp  vs  SignUp", sign_up_backend, sign_up_edge},
      {"sign-up: POST :signUp  vs  CreateRegistration (organizers)",
       register_backend, sign_up_edge},
  };
  // Check-in: an event a day away (the door opens 24 hours before), as
  // many people registered as there will be scans, their codes in order.
  std::vector<std::string> codes;
  auto door_event = [&] {
    new_event();
    const int people = visitors * (runs + warmup);
    random.TakeCodes();
    // One at a time: a transaction retried after a deadlock would draw a
    // code that is never kept.
    smz::testing::MeasureCalls(1, people, 0, register_backend);
    codes = random.TakeCodes();
    if (static_cast<int>(codes.size()) != people) {
      std::fprintf(stderr, "%zu codes for %d people\n", codes.size(), people);
      std::exit(1);
    }
    // The event starts in 30 days: the clock moves to a day before, as the
    // door opens.
    clock.Advance(absl::Hours(24 * 29) + absl::Minutes(1));
  };
  auto check_in_backend = [&](int n) {
    ev1::CheckInRequest request;
    request.set_event_id(id);
    request.set_code(codes[n]);
    ev1::CheckInResponse done;
    CheckGrpc(
        stub->CheckIn(smz::BearerContext(*organizer, absl::Seconds(30)).get(),
                      request, &done),
        "CheckIn");
    if (done.already_checked_in()) {
      std::fprintf(stderr, "code %d scanned twice\n", n);
      std::exit(1);
    }
  };
  const httplib::Headers bearer = {
      {"Authorization", absl::StrCat("Bearer ", *organizer)}};
  auto check_in_edge = [&](int n) {
    Expect200(
        ThreadClient(http_port).Post(
            absl::StrCat("/v1/events/", id, ":checkIn"), bearer,
            absl::StrCat("{\"code\":\"", codes[n], "\"}"), "application/json"),
        "checkIn");
  };

  std::printf(
      "\n%d visitors at once, %d calls each (p50 · p99 ms)\n\n"
      "| call | gRPC calls/s | gRPC p50 · p99 | HTTP edge calls/s "
      "| edge p50 · p99 | edge ÷ gRPC throughput | edge p99 ÷ gRPC p99 "
      "|\n|---|---:|---:|---:|---:|---:|---:|\n",
      visitors, runs);
  for (const Pair& pair : pairs) {
    new_event();
    const smz::testing::Throughput backend =
        smz::testing::MeasureCalls(visitors, runs, warmup, pair.backend);
    new_event();
    const smz::testing::Throughput edge =
        smz::testing::MeasureCalls(visitors, runs, warmup, pair.edge);
    std::printf(
        "| %s | %.0f | %.2f · %.2f | %.0f | %.2f · %.2f | %.2fx | %.2fx |\n",
        pair.name.c_str(), backend.calls_per_second, backend.latency.p50_ms,
        backend.latency.p99_ms, edge.calls_per_second, edge.latency.p50_ms,
        edge.latency.p99_ms, edge.calls_per_second / backend.calls_per_second,
        edge.latency.p99_ms / backend.latency.p99_ms);
  }
  // What a check-in code adds to registering: the same call for an event
  // online only (no code) and one with a door.
  new_event(/*online_only=*/true);
  const smz::testing::Throughput without_code =
      smz::testing::MeasureCalls(visitors, runs, warmup, register_backend);
  new_event();
  const smz::testing::Throughput with_code =
      smz::testing::MeasureCalls(visitors, runs, warmup, register_backend);
  std::printf(
      "\nCreateRegistration: %.0f/s (p99 %.2f ms) online only, %.0f/s (p99 "
      "%.2f ms) with a door and a check-in code: %.2fx\n\n",
      without_code.calls_per_second, without_code.latency.p99_ms,
      with_code.calls_per_second, with_code.latency.p99_ms,
      with_code.calls_per_second / without_code.calls_per_second);

  door_event();
  const smz::testing::Throughput backend =
      smz::testing::MeasureCalls(visitors, runs, warmup, check_in_backend);
  door_event();
  const smz::testing::Throughput edge =
      smz::testing::MeasureCalls(visitors, runs, warmup, check_in_edge);
  std::printf(
      "| %s | %.0f | %.2f · %.2f | %.0f | %.2f · %.2f | %.2fx | %.2fx |\n",
      "check-in: POST :checkIn  vs  CheckIn", backend.calls_per_second,
      backend.latency.p50_ms, backend.latency.p99_ms, edge.calls_per_second,
      edge.latency.p50_ms, edge.latency.p99_ms,
      edge.calls_per_second / backend.calls_per_second,
      edge.latency.p99_ms / backend.latency.p99_ms);
  // 200 people in 15 minutes: 0.22 check-ins a second.
  std::printf(
      "\ncheck-in through the edge: %.0fx the rate of 200 people in "
      "15 minutes (0.22/s)\n",
      edge.calls_per_second / (200.0 / (15 * 60)));
  return 0;
}
