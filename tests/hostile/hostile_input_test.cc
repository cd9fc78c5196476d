// No request can take smz down. The real stack (the five service binaries on
// loopback, configured as deployed, over a private MariaDB) receives, through
// protobuf reflection over every smz method with a real ADMIN token:
// megabyte strings, invalid UTF-8, extreme numbers, huge repeated fields,
// deeply nested and garbage wire bytes. Its HTTP edge receives bad
// Authorization headers, an oversized body, a gzip bomb, deep JSON, slow
// clients, and every route of every method with hostile path values. After
// every method, and at the end, every process must still be running and
// SERVING.
//
// Usage (from CTest): hostile_input_test <registry> <stats> <events>
//   <programme> <gateway>   (the binaries' paths)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/gateway/http_routes.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"
#include "smz/programme/v1/programme.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"
#include "tests/harness/mariadb_server.h"
#include "tests/harness/raw_http.h"

namespace smz {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::Reflection;
using google::protobuf::ServiceDescriptor;

std::map<std::string, std::string>* g_binaries = nullptr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// One service binary, started as deployed: configured by SMZ_* variables.
struct Process {
  std::string name;
  int port = 0;
  int http_port = 0;
  pid_t pid = -1;
  std::string log;

  void Start(const std::vector<std::string>& environment) {
    std::vector<std::string> env = environment;
    env.push_back("PATH=/usr/bin:/bin");
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string binary = (*g_binaries)[name];
    char* argv[] = {binary.data(), nullptr};
    pid = fork();
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      execve(argv[0], argv, envp.data());
      _exit(127);
    }
  }
  // Whether the process is still running (reaps it if not).
  bool Alive() {
    if (pid <= 0) return false;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return false;
    }
    return true;
  }
  std::string LogTail() const {
    const std::string text = ReadFile(log);
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  }
  void Stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline && Alive()) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
};

// The kinds of hostile request built from a method's request type.
enum class Hostility {
  kLongStrings,     // every string field 64 KiB (all of them at once)
  kInvalidUtf8,     // every string field invalid UTF-8
  kExtremeNumbers,  // numbers at their limits, unknown enum values, NaN
  kHugeRepeated,    // repeated fields and maps with many elements
};

constexpr int kMaxDepth = 4;

std::string HostileString(Hostility h) {
  switch (h) {
    case Hostility::kLongStrings:
      return absl::StrCat("영등포", std::string(64 << 10, 'a'), "@x.kr");
    case Hostility::kInvalidUtf8:
      return std::string("\xFF\xFE\xC0\xAF\xED\xA0\x80 \x01\x7F", 11);
    case Hostility::kExtremeNumbers:
      return "-99999999999999999999999";
    case Hostility::kHugeRepeated:
      return "x";
  }
  return "";
}

void SetScalar(Message* m, const FieldDescriptor* f, Hostility h, int i) {
  const Reflection* r = m->GetReflection();
  const bool repeated = f->is_repeated();
  const bool extreme = h == Hostility::kExtremeNumbers;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      const int32_t v = !extreme ? 1
                        : i % 2  ? std::numeric_limits<int32_t>::min()
                                 : std::numeric_limits<int32_t>::max();
      repeated ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      const int64_t v = !extreme ? 1
                        : i % 2  ? std::numeric_limits<int64_t>::min()
                                 : std::numeric_limits<int64_t>::max();
      repeated ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      const uint32_t v = extreme ? std::numeric_limits<uint32_t>::max() : 1;
      repeated ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      const uint64_t v = extreme ? std::numeric_limits<uint64_t>::max() : 1;
      repeated ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const double v = !extreme     ? 1.5
                       : i % 3 == 0 ? std::numeric_limits<double>::quiet_NaN()
                       : i % 3 == 1 ? std::numeric_limits<double>::infinity()
                                    : -1e308;
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
      } else {
        repeated ? r->AddFloat(m, f, static_cast<float>(v))
                 : r->SetFloat(m, f, static_cast<float>(v));
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      repeated ? r->AddBool(m, f, true) : r->SetBool(m, f, true);
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      // An unknown value (proto3 enums are open) or the last known one.
      const int v = extreme ? 1 << 29
                            : f->enum_type()
                                  ->value(f->enum_type()->value_count() - 1)
                                  ->number();
      repeated ? r->AddEnumValue(m, f, v) : r->SetEnumValue(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v = HostileString(h);
      repeated ? r->AddString(m, f, std::move(v))
               : r->SetString(m, f, std::move(v));
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
}

void Fill(Message* m, Hostility h, int depth) {
  const Descriptor* d = m->GetDescriptor();
  const Reflection* r = m->GetReflection();
  for (int k = 0; k < d->field_count(); ++k) {
    const FieldDescriptor* f = d->field(k);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (depth >= kMaxDepth) continue;
      if (f->is_map()) {
        const int entries = h == Hostility::kHugeRepeated ? 5000 : 2;
        for (int i = 0; i < entries; ++i) {
          Message* entry = r->AddMessage(m, f);
          const FieldDescriptor* key = f->message_type()->map_key();
          const FieldDescriptor* value = f->message_type()->map_value();
          if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
            entry->GetReflection()->SetString(entry, key,
                                              h == Hostility::kHugeRepeated
                                                  ? absl::StrCat("k", i)
                                                  : HostileString(h));
          } else {
            SetScalar(entry, key, h, i);
          }
          if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
            Fill(entry->GetReflection()->MutableMessage(entry, value), h,
                 depth + 1);
          } else {
            SetScalar(entry, value, h, i);
          }
        }
      } else if (f->is_repeated()) {
        const int elements = h == Hostility::kHugeRepeated ? 2000 : 2;
        for (int i = 0; i < elements; ++i) {
          Message* child = r->AddMessage(m, f);
          if (h != Hostility::kHugeRepeated || i < 2) Fill(child, h, depth + 1);
        }
      } else {
        Fill(r->MutableMessage(m, f), h, depth + 1);
      }
      continue;
    }
    const int elements = !f->is_repeated()               ? 1
                         : h == Hostility::kHugeRepeated ? 100000
                                                         : 3;
    for (int i = 0; i < elements; ++i) SetScalar(m, f, h, i);
  }
}

// Wire bytes no serializer makes.
std::vector<std::pair<std::string, std::string>> RawPayloads() {
  std::vector<std::pair<std::string, std::string>> payloads;
  std::string nested;  // field 1, length-delimited, 3000 levels deep
  for (int i = 0; i < 3000; ++i) {
    std::string varint;
    for (uint64_t n = nested.size();; n >>= 7) {
      varint.push_back(static_cast<char>((n & 0x7F) | (n >= 0x80 ? 0x80 : 0)));
      if (n < 0x80) break;
    }
    nested = absl::StrCat("\x0A", varint, nested);
  }
  payloads.push_back({"nested", nested});
  std::string groups;  // 50000 nested groups of an unknown field 1000
  for (int i = 0; i < 50000; ++i) groups += "\xC3\x3E";
  for (int i = 0; i < 50000; ++i) groups += "\xC4\x3E";
  payloads.push_back({"groups", groups});
  std::string garbage(64 << 10, '\0');
  uint32_t state = 12345;
  for (char& c : garbage) {
    state = state * 1103515245 + 12345;
    c = static_cast<char>(state >> 16);
  }
  payloads.push_back({"garbage", garbage});
  payloads.push_back({"truncated", "\x0A\xFF\xFF\xFF\xFF\x0F"});
  return payloads;
}

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mariadb = testing::MariaDbServer::Start();
    ASSERT_TRUE(mariadb.ok()) << mariadb.status();
    mariadb_ = *std::move(mariadb);
    std::string pattern = ::testing::TempDir() + "/hostile_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    for (const char* name : {"registry", "stats", "events", "programme"}) {
      auto database =
          mariadb_->CreateServiceDatabase(absl::StrCat("smz_", name));
      ASSERT_TRUE(database.ok()) << database.status();
      databases_[name] = *database;
      std::ofstream credentials(absl::StrCat(dir_, "/", name, ".mysql"));
      credentials << "password=" << database->password << "\n";
    }
    for (const char* name :
         {"registry", "stats", "events", "programme", "gateway"}) {
      Process& p = processes_[name];
      p.name = name;
      p.port = testing::PickUnusedPort();
      p.log = absl::StrCat(dir_, "/", name, ".log");
    }
    processes_["gateway"].http_port = testing::PickUnusedPort();

    Process& registry = processes_["registry"];
    registry.Start(Environment("registry"));
    ASSERT_TRUE(testing::WaitServing(registry.port, absl::Seconds(60)))
        << registry.LogTail();
    admin_ = std::string(
        absl::StripAsciiWhitespace(ReadFile(dir_ + "/admin.token")));
    ASSERT_FALSE(admin_.empty());
    // The services' own read-only token for the registry.
    auto stub = registry::v1::RegistryService::NewStub(Channel("registry"));
    registry::v1::IssueTokenRequest issue;
    issue.set_role(auth::v1::ANALYST);
    issue.set_display_name("services");
    registry::v1::IssueTokenResponse issued;
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", admin_));
    ASSERT_TRUE(stub->IssueToken(&context, issue, &issued).ok());
    std::ofstream(dir_ + "/services.token") << issued.token() << "\n";

    for (const char* name : {"stats", "events", "programme", "gateway"}) {
      Process& p = processes_[name];
      p.Start(Environment(name));
      ASSERT_TRUE(testing::WaitServing(p.port, absl::Seconds(60)))
          << p.LogTail();
    }
    // The gateway's HTTP side comes up beside its gRPC side, not before it:
    // under a loaded machine the first requests found it not yet
    // accepting.
    const int http = processes_["gateway"].http_port;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    int fd = -1;
    while ((fd = testing::ConnectLoopback(http)) < 0 &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_GE(fd, 0) << processes_["gateway"].LogTail();
    close(fd);
  }

  void TearDown() override {
    for (const char* name :
         {"gateway", "programme", "events", "stats", "registry"}) {
      processes_[name].Stop();
    }
    std::error_code ignored;
    if (!dir_.empty() && !HasFailure()) {
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  std::vector<std::string> Environment(const std::string& name) {
    const Process& p = processes_[name];
    std::vector<std::string> env = {
        absl::StrCat("SMZ_LISTEN=127.0.0.1:", p.port),
        "SMZ_METRICS_LISTEN=off"};
    auto target = [&](const char* service) {
      return absl::StrCat("127.0.0.1:", processes_[service].port);
    };
    if (name != "gateway") {
      const DatabaseOptions& db = databases_[name];
      env.push_back(absl::StrCat("SMZ_MYSQL_DSN=mysql://", db.user,
                                 "@127.0.0.1:", db.port, "/", db.database));
      env.push_back(absl::StrCat("SMZ_MYSQL_CREDENTIALS_FILE=", dir_, "/", name,
                                 ".mysql"));
    }
    if (name == "registry") {
      env.push_back(absl::StrCat("SMZ_BOOTSTRAP_ADMIN_TOKEN_FILE=", dir_,
                                 "/admin.token"));
    } else {
      env.push_back(absl::StrCat("SMZ_REGISTRY_TARGET=", target("registry")));
    }
    if (name == "stats" || name == "events") {
      env.push_back(
          absl::StrCat("SMZ_REGISTRY_TOKEN_FILE=", dir_, "/services.token"));
    }
    if (name == "gateway") {
      env.push_back(absl::StrCat("SMZ_STATS_TARGET=", target("stats")));
      env.push_back(absl::StrCat("SMZ_EVENTS_TARGET=", target("events")));
      env.push_back(absl::StrCat("SMZ_PROGRAMME_TARGET=", target("programme")));
      env.push_back(absl::StrCat("SMZ_HTTP_LISTEN=127.0.0.1:", p.http_port));
    }
    return env;
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& name) {
    std::shared_ptr<grpc::Channel>& channel = channels_[name];
    if (channel == nullptr) {
      grpc::ChannelArguments args;
      args.SetMaxSendMessageSize(-1);
      args.SetMaxReceiveMessageSize(64 << 20);
      channel = grpc::CreateCustomChannel(
          absl::StrCat("127.0.0.1:", processes_[name].port),
          grpc::InsecureChannelCredentials(), args);
    }
    return channel;
  }

  // Every process still runs and is SERVING; names the first that is not.
  void ExpectAllServing(const std::string& after) {
    for (auto& [name, p] : processes_) {
      ASSERT_TRUE(p.Alive()) << name << " exited after " << after << ":\n"
                             << p.LogTail();
      ASSERT_TRUE(testing::WaitServing(p.port, absl::Seconds(10)))
          << name << " is not SERVING after " << after;
    }
  }

  // Sends raw request bytes to a method with the admin token; the answer
  // does not matter, only that one comes.
  grpc::Status Send(const std::string& service, const MethodDescriptor* method,
                    const std::string& bytes) {
    grpc::GenericStub stub(Channel(service));
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", admin_));
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(
        &context,
        absl::StrCat("/", method->service()->full_name(), "/", method->name()),
        grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
          status = std::move(s);
          done.Notify();
        });
    done.WaitForNotification();
    return status;
  }

  std::unique_ptr<testing::MariaDbServer> mariadb_;
  std::string dir_;
  std::map<std::string, DatabaseOptions> databases_;
  std::map<std::string, Process> processes_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::string admin_;
};

void ExpectNotInternal(const grpc::Status& status,
                       const MethodDescriptor* method,
                       const std::string& what) {
  EXPECT_THAT(status.error_code(),
              ::testing::Not(::testing::AnyOf(grpc::StatusCode::INTERNAL,
                                              grpc::StatusCode::UNKNOWN,
                                              grpc::StatusCode::DATA_LOSS)))
      << method->full_name() << " with " << what << ": "
      << status.error_message();
}

// The paths of every string field (depth <= 2) of a message type.
void StringPaths(const Descriptor* d, std::vector<const FieldDescriptor*> path,
                 std::vector<std::vector<const FieldDescriptor*>>* out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    std::vector<const FieldDescriptor*> here = path;
    here.push_back(f);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      out->push_back(here);
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               !f->is_map() && path.size() < 2) {
      StringPaths(f->message_type(), here, out);
    }
  }
}

// A request with one string field, at `path`, of `bytes` bytes.
std::string OneLongString(const Descriptor* type,
                          const std::vector<const FieldDescriptor*>& path,
                          size_t bytes) {
  std::unique_ptr<Message> request(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(type)
          ->New());
  Message* m = request.get();
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    m = path[i]->is_repeated() ? m->GetReflection()->AddMessage(m, path[i])
                               : m->GetReflection()->MutableMessage(m, path[i]);
  }
  std::string value = absl::StrCat(std::string(bytes, 'a'), "@example.kr");
  path.back()->is_repeated()
      ? m->GetReflection()->AddString(m, path.back(), value)
      : m->GetReflection()->SetString(m, path.back(), value);
  return request->SerializeAsString();
}

TEST_F(HostileInputTest, EveryMethodSurvivesHostileRequests) {
  // Through a message of each file, so that its descriptors are linked in.
  const std::map<std::string, const ServiceDescriptor*> services = {
      {"registry",
       registry::v1::Partner::descriptor()->file()->FindServiceByName(
           "RegistryService")},
      {"stats", stats::v1::Report::descriptor()->file()->FindServiceByName(
                    "StatsService")},
      {"events", events::v1::Event::descriptor()->file()->FindServiceByName(
                     "EventsService")},
      {"programme",
       programme::v1::Project::descriptor()->file()->FindServiceByName(
           "ProgrammeService")},
      {"gateway",
       gateway::v1::KpiTable::descriptor()->file()->FindServiceByName(
           "GatewayService")},
  };
  for (const auto& [name, service] : services) {
    ASSERT_NE(service, nullptr) << name;
  }
  const auto raw = RawPayloads();
  int calls = 0;
  for (const auto& [name, service] : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      const Descriptor* type = method->input_type();
      for (Hostility h :
           {Hostility::kLongStrings, Hostility::kInvalidUtf8,
            Hostility::kExtremeNumbers, Hostility::kHugeRepeated}) {
        std::unique_ptr<Message> request(
            google::protobuf::MessageFactory::generated_factory()
                ->GetPrototype(type)
                ->New());
        Fill(request.get(), h, 0);
        const grpc::Status status =
            Send(name, method, request->SerializeAsString());
        ++calls;
        // Invalid UTF-8 does not parse (the framework's own error); every
        // other well-formed request gets an answer of the service's, never
        // an internal error.
        if (h != Hostility::kInvalidUtf8) {
          ExpectNotInternal(status, method, "hostile fields");
        }
      }
      for (const auto& [what, bytes] : raw) {
        Send(name, method, bytes);
        ++calls;
      }
      // One megabyte in each string field in turn (as in a 1 MiB e-mail
      // address, which once overflowed the registry's stack).
      std::vector<std::vector<const FieldDescriptor*>> paths;
      StringPaths(type, {}, &paths);
      for (const auto& path : paths) {
        ExpectNotInternal(
            Send(name, method, OneLongString(type, path, 1 << 20)), method,
            absl::StrCat("1 MiB in ", path.back()->full_name()));
        ++calls;
      }
      ExpectAllServing(method->full_name());
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_GT(calls, 500);
  ExpectAllServing("every method");
}

// --- The HTTP edge of the real gateway. ---

TEST_F(HostileInputTest, HttpEdgeSurvivesHostileClients) {
  const int http = processes_["gateway"].http_port;
  auto get = [&](const std::string& target, const std::string& headers) {
    return testing::HttpRoundtrip(http, absl::StrCat("GET ", target,
                                                     " HTTP/1.1\r\nHost: x\r\n"
                                                     "Connection: close\r\n",
                                                     headers, "\r\n"));
  };
  const std::string auth =
      absl::StrCat("Authorization: Bearer ", admin_, "\r\n");
  ASSERT_EQ(testing::HttpStatusOf(get("/v1/council/zoneOverviews/2020", auth)),
            200);

  for (const std::string& value :
       {std::string("Bearer smz_\xFF"), std::string("Bearer \x01\x02"),
        std::string("Bearer a b c"),
        absl::StrCat("Bearer ", std::string(8000, 'a')),
        std::string("Basic YTpi")}) {
    const std::string response =
        get("/v1/council/zoneOverviews/2020",
            absl::StrCat("Authorization: ", value, "\r\n"));
    EXPECT_EQ(testing::HttpStatusOf(response), 401) << response.substr(0, 200);
  }
  ExpectAllServing("bad Authorization headers");

  const std::string big = testing::HttpRoundtrip(
      http,
      "POST /v1/partners HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nContent-Length: 209715200\r\n\r\n",
      absl::Seconds(3));
  EXPECT_EQ(testing::HttpStatusOf(big), 413) << big.substr(0, 200);
  std::string bomb = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
  bomb.append(1000, '\0');
  const std::string gzip = testing::HttpRoundtrip(
      http, absl::StrCat("POST /v1/partners HTTP/1.1\r\nHost: x\r\n", auth,
                         "Connection: close\r\nContent-Type: application/json"
                         "\r\nContent-Encoding: gzip\r\nContent-Length: ",
                         bomb.size(), "\r\n\r\n", bomb));
  EXPECT_EQ(testing::HttpStatusOf(gzip), 415) << gzip.substr(0, 200);
  // JSON nested far beyond any request message, and numbers out of range.
  for (const std::string& body :
       {absl::StrCat(std::string(200000, '['), std::string(200000, ']')),
        absl::StrCat("{\"partner\":", std::string(400000, '{')),
        std::string("{\"partner\":{\"id\":1e999999}}"),
        std::string("{\"partner\":{\"id\":99999999999999999999999}}")}) {
    const std::string response = testing::HttpRoundtrip(
        http, absl::StrCat("POST /v1/partners HTTP/1.1\r\nHost: x\r\n", auth,
                           "Connection: close\r\nContent-Type: "
                           "application/json\r\nContent-Length: ",
                           body.size(), "\r\n\r\n", body));
    EXPECT_EQ(testing::HttpStatusOf(response), 400) << response.substr(0, 300);
  }
  ExpectAllServing("bodies");

  // 64 slow clients: the dashboard and the API still answer within 1 s.
  {
    testing::SlowClients slow(http, 64, absl::Milliseconds(250));
    ASSERT_EQ(slow.connected(), 64);
    for (int round = 0; round < 3; ++round) {
      const absl::Time start = absl::Now();
      EXPECT_EQ(testing::HttpStatusOf(get("/", "")), 200);
      EXPECT_EQ(
          testing::HttpStatusOf(get("/v1/council/zoneOverviews/2020", auth)),
          200);
      EXPECT_LT(absl::Now() - start, absl::Seconds(1));
    }
  }
  ExpectAllServing("slow clients");
}

// Every HTTP route of every service, with hostile values in each path
// variable, as the admin (who may call them all): refused with a 4xx,
// never a 5xx, and every process keeps serving.
TEST_F(HostileInputTest, EveryHttpRouteSurvivesHostilePathValues) {
  const int http = processes_["gateway"].http_port;
  absl::StatusOr<gateway::HttpRouteTable> routes =
      gateway::HttpRouteTable::Build(gateway::SmzHttpServices());
  ASSERT_TRUE(routes.ok()) << routes.status();
  const std::vector<std::string> hostile = {
      "%00",       "%FF%FE",
      "..",        "%2E%2E%2F%2E%2E",
      "-1",        "99999999999999999999",
      "1e999",     "%27%3B%20DROP%20TABLE%20x",
      "%E0%80%80", "%C0%AF",
      "%25",       std::string(3000, 'a')};
  int requests = 0;
  for (const gateway::HttpRoute& route : routes->routes()) {
    if (route.path.Fields().empty()) continue;
    for (const std::string& value : hostile) {
      std::string target = route.path.text();
      for (const std::string& field : route.path.Fields()) {
        target = absl::StrReplaceAll(target,
                                     {{absl::StrCat("{", field, "}"), value}});
      }
      const std::string body = route.body.empty() ? "" : "{}";
      const std::string response = testing::HttpRoundtrip(
          http, absl::StrCat(route.http_method, " ", target,
                             " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             "Authorization: Bearer ",
                             admin_,
                             "\r\nContent-Type: application/json\r\n"
                             "Content-Length: ",
                             body.size(), "\r\n\r\n", body));
      const int status = testing::HttpStatusOf(response);
      EXPECT_TRUE(status >= 400 && status < 500)
          << route.http_method << " " << target.substr(0, 100) << ": "
          << response.substr(0, 400);
      ++requests;
    }
  }
  EXPECT_GT(requests, 500);
  ExpectAllServing("hostile path values");
}

}  // namespace
}  // namespace smz

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  static std::map<std::string, std::string> binaries;
  const char* names[] = {"registry", "stats", "events", "programme", "gateway"};
  for (int i = 1; i < argc && i <= 5; ++i) binaries[names[i - 1]] = argv[i];
  if (binaries.size() != 5) {
    std::fprintf(stderr,
                 "usage: %s <registry> <stats> <events> <programme> "
                 "<gateway>\n",
                 argv[0]);
    return 2;
  }
  smz::g_binaries = &binaries;
  return RUN_ALL_TESTS();
}
