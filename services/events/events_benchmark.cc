// events_benchmark: registration throughput for one popular event, and list
// and calendar latency over ten years of events, each against plain MariaDB
// doing the least the same job needs, measured in the same run.
//
//   build/services/events/events_benchmark --callers=64 --registrations=4000
//
// It starts its own MariaDB, registry and events server on loopback, then
//  1. registrations: `--callers` concurrent clients register
//     `--registrations` distinct people for one event with `--capacity`
//     seats through CreateRegistration over gRPC (authentication, validation,
//     event row lock, duplicate-person check, insert, counts, idempotency
//     key, overlap warnings, one durable commit each); checks that exactly
//     `capacity` are confirmed and the rest wait, in arrival order. Baseline:
//     the minimal seat transaction (lock a counter row, insert a row, update
//     the counter, commit) through Connector/C++ at the same concurrency;
//  2. reads: `--events_per_year` x 10 years of events, then ListEvents
//     (a page of 50 for a random month), the month's calendar feed and a
//     whole year's feed over gRPC; baseline: the same rows selected by a
//     plain indexed query through Connector/C++.
// Client and servers share the machine's cores.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/events/event_rules.h"
#include "services/events/events_server.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/benchmark_support.h"
#include "tests/harness/local_registry.h"
#include "tests/harness/mariadb_server.h"

ABSL_FLAG(int, callers, 64, "concurrent registering clients");
ABSL_FLAG(int, registrations, 4000, "registrations for the popular event");
ABSL_FLAG(int, capacity, 500, "seats of the popular event");
ABSL_FLAG(int, events_per_year, 2000, "events per year, for ten years");
ABSL_FLAG(int, query_runs, 200, "runs per read query");
ABSL_FLAG(int, buffer_pool_mb, 512, "InnoDB buffer pool for the run");

namespace {

using ::smz::testing::Check;
using ::smz::testing::CheckGrpc;
using ::smz::testing::Latency;
using ::smz::testing::Percentiles;
using ::smz::testing::RunParallel;
namespace v1 = ::smz::events::v1;
using ::smz::Database;
using ::smz::Session;
using ::smz::SqlInt;
using ::smz::events::LoadZone;
using ::smz::events::ToTimestamp;

void Report(const char* what, const Latency& ours, const Latency& raw) {
  std::printf(
      "%-34s p50 %8.2f ms  p99 %8.2f ms | raw p50 %7.2f ms  p99 %7.2f "
      "ms | p50 ratio %.1fx\n",
      what, ours.p50_ms, ours.p99_ms, raw.p50_ms, raw.p99_ms,
      raw.p50_ms > 0 ? ours.p50_ms / raw.p50_ms : 0);
}

}  // namespace

// Long by design: a benchmark's script, set-up then each measurement in the
// order the report prints them, read top to bottom.
int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  smz::ConfigureServiceProcess();
  const int callers = absl::GetFlag(FLAGS_callers);
  const int registrations = absl::GetFlag(FLAGS_registrations);
  const int capacity = absl::GetFlag(FLAGS_capacity);
  const int per_year = absl::GetFlag(FLAGS_events_per_year);
  const int runs = absl::GetFlag(FLAGS_query_runs);
  std::FILE* log = std::fopen("/tmp/events_benchmark.log", "w");
  smz::SetLogSink(log);

  std::unique_ptr<smz::testing::MariaDbServer> mariadb =
      smz::testing::StartBenchmarkMariaDb(absl::GetFlag(FLAGS_buffer_pool_mb));
  const absl::TimeZone seoul = *LoadZone("Asia/Seoul");
  smz::FakeClock clock(
      absl::FromCivil(absl::CivilSecond(2026, 1, 5, 9, 0, 0), seoul));

  absl::StatusOr<std::unique_ptr<smz::testing::LocalRegistry>> registry =
      smz::testing::LocalRegistry::Start(*mariadb, &clock);
  Check(registry.status(), "registry");
  auto issue = [&](smz::auth::v1::Role role) {
    absl::StatusOr<std::string> token =
        (*registry)->IssueToken(role, "benchmark");
    Check(token.status(), "IssueToken");
    return *token;
  };
  const std::string service_token = issue(smz::auth::v1::ANALYST);
  const std::string organizer = issue(smz::auth::v1::ORGANIZER);
  const std::string analyst = issue(smz::auth::v1::ANALYST);

  auto events_db = mariadb->CreateServiceDatabase("smz_events");
  Check(events_db.status(), "events database");
  smz::events::EventsServerOptions options;
  options.database = *events_db;
  options.database.pool_size = callers + 8;
  options.database.acquire_timeout = absl::Seconds(60);
  options.server.listen = "127.0.0.1:0";
  options.registry_target =
      absl::StrCat("127.0.0.1:", (*registry)->server().port());
  options.registry_token = service_token;
  options.clock = &clock;
  auto server = smz::events::EventsServer::Start(options);
  Check(server.status(), "events");
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials());
  auto stub = v1::EventsService::NewStub(channel);

  // 1. Registrations for one popular event.
  v1::CreateEventRequest create;
  v1::Event& popular = *create.mutable_event();
  popular.set_type(v1::BRIEFING_SESSION);
  (*popular.mutable_title())["ko"] = "인기 설명회";
  popular.set_venue("Bench venue");
  popular.set_room("Popular hall");
  popular.set_capacity(capacity);
  *popular.mutable_start_time() = ToTimestamp(
      absl::FromCivil(absl::CivilSecond(2026, 6, 1, 10, 0, 0), seoul));
  *popular.mutable_end_time() = ToTimestamp(
      absl::FromCivil(absl::CivilSecond(2026, 6, 1, 17, 0, 0), seoul));
  v1::EventResponse created;
  CheckGrpc(stub->CreateEvent(
                smz::BearerContext(organizer, smz::kBulkCallDeadline).get(),
                create, &created),
            "CreateEvent");
  v1::TransitionRequest publish;
  publish.set_id(created.event().id());
  CheckGrpc(stub->PublishEvent(
                smz::BearerContext(organizer, smz::kBulkCallDeadline).get(),
                publish, &created),
            "PublishEvent");
  const int64_t event_id = created.event().id();
  std::printf("# registrations: %d people, %d seats, %d concurrent callers\n",
              registrations, capacity, callers);
  std::vector<std::unique_ptr<v1::EventsService::Stub>> stubs;
  for (int t = 0; t < callers; ++t) {
    // One channel per few callers, like separate client processes.
    stubs.push_back(v1::EventsService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                            grpc::InsecureChannelCredentials())));
  }
  std::vector<v1::Registration> results(registrations);
  std::atomic<int> next_stub{0};
  const double service_seconds =
      RunParallel(registrations, callers, [&](int i) {
        v1::CreateRegistrationRequest request;
        v1::Registration& r = *request.mutable_registration();
        r.set_event_id(event_id);
        r.set_name(absl::StrCat("Visitor ", i));
        r.set_organization("Agency");
        r.set_country("MN");
        r.set_email(absl::StrCat("visitor", i, "@example.mn"));
        request.set_request_id(absl::StrCat("bench-reg-", i));
        v1::RegistrationResponse response;
        CheckGrpc(
            stubs[next_stub++ % callers]->CreateRegistration(
                smz::BearerContext(organizer, smz::kBulkCallDeadline).get(),
                request, &response),
            "CreateRegistration");
        results[i] = response.registration();
      });
  std::sort(results.begin(), results.end(),
            [](const v1::Registration& a, const v1::Registration& b) {
              return a.arrival() < b.arrival();
            });
  int confirmed = 0;
  bool in_order = true;
  for (int i = 0; i < registrations; ++i) {
    const bool seat = results[i].state() == v1::CONFIRMED;
    confirmed += seat ? 1 : 0;
    if (seat != (i < capacity) || results[i].arrival() != i + 1) {
      in_order = false;
    }
  }
  v1::GetEventRequest get;
  get.set_id(event_id);
  v1::Event after;
  CheckGrpc(stub->GetEvent(
                smz::BearerContext(organizer, smz::kBulkCallDeadline).get(),
                get, &after),
            "GetEvent");
  const bool exact = after.confirmed_count() == capacity &&
                     confirmed == capacity &&
                     after.waitlisted_count() == registrations - capacity;

  // Baseline: the least a seat needs, through the same driver and pool.
  smz::DatabaseOptions raw_options = options.database;
  raw_options.io_timeout = absl::Minutes(5);
  Database raw(raw_options);
  Check(raw.Run([](Session& s) -> absl::Status {
    for (const char* sql :
         {"CREATE TABLE raw_seats (event_id BIGINT PRIMARY KEY, "
          "capacity INT, confirmed INT, waitlisted INT, next_arrival "
          "BIGINT) ENGINE=InnoDB",
          "CREATE TABLE raw_registrations (id BIGINT AUTO_INCREMENT "
          "PRIMARY KEY, event_id BIGINT, arrival BIGINT, state TINYINT, "
          "body BLOB, KEY (event_id, arrival)) ENGINE=InnoDB",
          "INSERT INTO raw_seats VALUES (1, 0, 0, 0, 1)"}) {
      absl::StatusOr<int64_t> r = s.Execute(sql, {});
      if (!r.ok()) return r.status();
    }
    return s
        .Execute("UPDATE raw_seats SET capacity = ?",
                 {SqlInt(absl::GetFlag(FLAGS_capacity))})
        .status();
  }),
        "raw tables");
  const double raw_seconds = RunParallel(registrations, callers, [&](int i) {
    Check(raw.Transact([&](Session& s) -> absl::Status {
      absl::StatusOr<std::vector<smz::Row>> row = s.Query(
          "SELECT capacity, confirmed, next_arrival FROM raw_seats "
          "WHERE event_id = 1 FOR UPDATE",
          {});
      if (!row.ok()) return row.status();
      const bool seat = row->front().Int(1) < row->front().Int(0);
      absl::StatusOr<int64_t> r = s.Execute(
          "INSERT INTO raw_registrations (event_id, arrival, state, "
          "body) VALUES (1, ?, ?, ?)",
          {SqlInt(row->front().Int(2)), SqlInt(seat ? 1 : 2),
           std::string(absl::StrCat("Visitor ", i))});
      if (!r.ok()) return r.status();
      return s
          .Execute(seat ? "UPDATE raw_seats SET confirmed = confirmed "
                          "+ 1, next_arrival = next_arrival + 1"
                        : "UPDATE raw_seats SET waitlisted = waitlisted "
                          "+ 1, next_arrival = next_arrival + 1",
                   {})
          .status();
    }),
          "raw seat");
  });
  const double service_rate = registrations / service_seconds;
  const double raw_rate = registrations / raw_seconds;
  std::printf(
      "registrations: service %.0f/s (%d confirmed + %d waitlisted in %.2f s; "
      "%s, %s) | raw seat transaction %.0f/s | ratio %.2f\n",
      service_rate, after.confirmed_count(), after.waitlisted_count(),
      service_seconds, exact ? "no oversell" : "OVERSOLD OR MISCOUNTED",
      in_order ? "seats in arrival order" : "ORDER BROKEN", raw_rate,
      service_rate / raw_rate);

  // 2. Ten years of events (2017-2026), straight through the store (the
  // same transaction CreateEvent runs, without the network).
  const int total = per_year * 10;
  std::printf("# reads: %d events over 2017-2026\n", total);
  constexpr const char* kZones[] = {"Asia/Seoul", "Asia/Seoul", "Asia/Seoul",
                                    "Asia/Ulaanbaatar", "Asia/Ho_Chi_Minh"};
  const double load_seconds = RunParallel(total, 8, [&](int i) {
    std::mt19937 random(static_cast<uint32_t>(i));
    const std::string zone_name = kZones[i % 5];
    const absl::TimeZone zone = *LoadZone(zone_name);
    const absl::CivilDay day =
        absl::CivilDay(2017, 1, 1) + static_cast<int>(random() % 3650);
    smz::events::Event e;
    e.set_type(static_cast<v1::EventType>(1 + random() % 12));
    (*e.mutable_title())["ko"] = absl::StrCat("행사 ", i);
    (*e.mutable_title())["en"] = absl::StrCat("Event ", i);
    (*e.mutable_description())["ko"] = std::string(300, 'x');
    e.set_organizer("영등포구 보건소");
    e.set_venue(absl::StrCat("Venue ", i % 50));
    e.set_room(absl::StrCat("Room ", i));  // no conflicts in the load
    e.set_time_zone(zone_name);
    e.set_country(i % 5 == 3 ? "MN" : i % 5 == 4 ? "VN" : "KR");
    e.set_capacity(50);
    const int hour = 9 + static_cast<int>(random() % 8);
    *e.mutable_start_time() = ToTimestamp(absl::FromCivil(
        absl::CivilSecond(day.year(), day.month(), day.day(), hour, 0, 0),
        zone));
    *e.mutable_end_time() = ToTimestamp(absl::FromCivil(
        absl::CivilSecond(day.year(), day.month(), day.day(), hour + 2, 0, 0),
        zone));
    smz::RequestKey context{"bench", "CreateEvent", "", ""};
    absl::StatusOr<smz::events::StoredEvent> stored =
        (*server)->store().CreateEvent(e, context);
    Check(stored.status(), "store CreateEvent");
    // Most are published; some completed, cancelled or left as drafts.
    const int fate = i % 10;
    if (fate == 0) return;  // draft
    Check((*server)
              ->store()
              .ModifyEvent(stored->event.id(), "", "PUBLISH", "bench",
                           [&](smz::events::Event& ev) {
                             ev.set_state(fate == 1  ? v1::CANCELLED
                                          : fate < 6 ? v1::COMPLETED
                                                     : v1::PUBLISHED);
                             return absl::OkStatus();
                           })
              .status(),
          "store ModifyEvent");
  });
  std::printf("loaded %d events in %.1f s (%.0f/s through the store)\n", total,
              load_seconds, total / load_seconds);

  std::mt19937 random(42);
  auto random_month = [&] {
    return absl::CivilMonth(2017, 1) + static_cast<int>(random() % 120);
  };
  auto day_text = [](absl::CivilDay d) {
    return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
  };
  // The baseline selects the same rows with the same index bounds the store
  // uses (the longest event's span read once, not per query).
  int64_t longest = 0;
  Check(raw.Run([&](Session& s) -> absl::Status {
    absl::StatusOr<std::vector<smz::Row>> rows =
        s.Query("SELECT MAX(span_days) FROM events", {});
    if (!rows.ok()) return rows.status();
    longest = rows->front().Int(0);
    return absl::OkStatus();
  }),
        "longest span");
  auto raw_rows = [&](absl::CivilDay from, absl::CivilDay to, int limit) {
    const absl::Time start = absl::Now();
    const absl::CivilDay earliest = from - longest;
    Check(raw.Run([&](Session& s) -> absl::Status {
      absl::StatusOr<std::vector<smz::Row>> rows = s.Query(
          "SELECT id, state, body FROM events WHERE local_end_date >= ? "
          "AND local_start_date >= ? AND start_us >= ? AND "
          "local_start_date <= ? AND start_us < ? AND state <> 1 "
          "ORDER BY start_us, id LIMIT ?",
          {day_text(from), day_text(earliest),
           SqlInt(absl::ToUnixMicros(
               absl::FromCivil(earliest - 1, absl::UTCTimeZone()))),
           day_text(to),
           SqlInt(absl::ToUnixMicros(
               absl::FromCivil(to + 2, absl::UTCTimeZone()))),
           SqlInt(limit)});
      return rows.status();
    }),
          "raw select");
    return smz::testing::MillisecondsSince(start);
  };

  std::vector<double> list_ms, list_raw_ms, month_ms, month_raw_ms, year_ms,
      year_raw_ms;
  int month_events = 0;
  int year_events = 0;
  for (int run = 0; run < runs; ++run) {
    const absl::CivilMonth month = random_month();
    const absl::CivilDay from(month);
    const absl::CivilDay to = absl::CivilDay(month + 1) - 1;
    v1::ListEventsRequest list;
    list.set_local_date_from(day_text(from));
    list.set_local_date_to(day_text(to));
    list.set_page_size(50);
    v1::ListEventsResponse page;
    absl::Time start = absl::Now();
    CheckGrpc(stub->ListEvents(
                  smz::BearerContext(analyst, smz::kBulkCallDeadline).get(),
                  list, &page),
              "ListEvents");
    list_ms.push_back(smz::testing::MillisecondsSince(start));
    list_raw_ms.push_back(raw_rows(from, to, 51));

    v1::ExportCalendarFeedRequest feed;
    feed.set_local_date_from(day_text(from));
    feed.set_local_date_to(day_text(to));
    v1::CalendarFile file;
    start = absl::Now();
    CheckGrpc(stub->ExportCalendarFeed(
                  smz::BearerContext(analyst, smz::kBulkCallDeadline).get(),
                  feed, &file),
              "ExportCalendarFeed");
    month_ms.push_back(smz::testing::MillisecondsSince(start));
    month_events += file.event_count();
    month_raw_ms.push_back(raw_rows(from, to, 20001));

    if (run % 10 == 0) {
      const int year = 2017 + static_cast<int>(random() % 10);
      feed.set_local_date_from(absl::StrCat(year, "-01-01"));
      feed.set_local_date_to(absl::StrCat(year, "-12-31"));
      start = absl::Now();
      CheckGrpc(stub->ExportCalendarFeed(
                    smz::BearerContext(analyst, smz::kBulkCallDeadline).get(),
                    feed, &file),
                "ExportCalendarFeed (year)");
      year_ms.push_back(smz::testing::MillisecondsSince(start));
      year_events += file.event_count();
      year_raw_ms.push_back(raw_rows(absl::CivilDay(year, 1, 1),
                                     absl::CivilDay(year, 12, 31), 20001));
    }
  }
  Report("ListEvents (one month, page of 50)", Percentiles(list_ms),
         Percentiles(list_raw_ms));
  std::printf("  month feeds: %.0f events each on average\n",
              static_cast<double>(month_events) / runs);
  Report("ExportCalendarFeed (one month)", Percentiles(month_ms),
         Percentiles(month_raw_ms));
  std::printf("  year feeds: %.0f events each on average\n",
              static_cast<double>(year_events) / year_ms.size());
  Report("ExportCalendarFeed (one year)", Percentiles(year_ms),
         Percentiles(year_raw_ms));
  std::printf(
      "\npeak resident set of this process (services and clients): "
      "%s\n",
      smz::testing::PeakResidentSet().c_str());
  (*server)->Shutdown();
  (*registry)->server().Shutdown();
  return exact && in_order ? 0 : 1;
}
