#include "tests/harness/mail_capture.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"

namespace smz::testing {
namespace {

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MailCapture>> MailCapture::Start(
    const std::string& dir, absl::Duration hold) {
  std::unique_ptr<MailCapture> capture(new MailCapture());
  capture->dir_ = dir;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  const std::string command =
      absl::StrCat("exec /usr/bin/python3 '", SMZ_SMTP_CAPTURE, "' --dir '",
                   dir, "' --hold_seconds ", absl::ToDoubleSeconds(hold));
  capture->pipe_ = popen(command.c_str(), "r");
  if (capture->pipe_ == nullptr) {
    return absl::InternalError("cannot run the capture server");
  }
  char line[64] = {};
  if (fgets(line, sizeof(line), capture->pipe_) == nullptr ||
      sscanf(line, "PORT %d PID %d", &capture->port_, &capture->pid_) != 2) {
    return absl::FailedPreconditionError(
        "the capture server did not start (python3-aiosmtpd installed?)");
  }
  return capture;
}

MailCapture::~MailCapture() {
  if (pid_ > 0) kill(pid_, SIGTERM);
  if (pipe_ != nullptr) pclose(pipe_);
}

std::string MailCapture::Url() const {
  return absl::StrCat("smtp://127.0.0.1:", port_);
}

smz::SmtpOptions MailCapture::SmtpOptions() const {
  smz::SmtpOptions options;
  options.url = Url();
  options.require_tls = false;
  options.timeout = absl::Seconds(10);
  return options;
}

std::vector<google::protobuf::Struct> MailCapture::Received() const {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<google::protobuf::Struct> out;
  for (const auto& file : files) {
    google::protobuf::Struct mail;
    if (google::protobuf::util::JsonStringToMessage(ReadAll(file), &mail)
            .ok()) {
      out.push_back(std::move(mail));
    }
  }
  return out;
}

std::vector<google::protobuf::Struct> MailCapture::WaitFor(
    size_t count, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<google::protobuf::Struct> received = Received();
  while (received.size() < count && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    received = Received();
  }
  return received;
}

std::vector<google::protobuf::Struct> MailCapture::WaitForMailTo(
    const std::string& address, size_t count, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<google::protobuf::Struct> mine;
  while (true) {
    mine.clear();
    for (google::protobuf::Struct& mail : Received()) {
      auto to = mail.fields().find("rcpt_tos");
      if (to != mail.fields().end() &&
          to->second.list_value().values_size() > 0 &&
          to->second.list_value().values(0).string_value() == address) {
        mine.push_back(std::move(mail));
      }
    }
    if (mine.size() >= count || absl::Now() >= deadline) return mine;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

std::vector<std::string> MailCapture::Duplicates() const {
  std::vector<std::string> out;
  const std::string text =
      ReadAll(std::filesystem::path(dir_) / "duplicates.jsonl");
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    google::protobuf::Struct entry;
    if (google::protobuf::util::JsonStringToMessage(std::string(line), &entry)
            .ok()) {
      out.push_back(entry.fields().at("message_id").string_value());
    }
  }
  return out;
}

std::string MailCapture::QrCodeOf(const google::protobuf::Struct& mail) {
  auto images = mail.fields().find("images");
  if (images == mail.fields().end()) return "";
  for (const auto& image : images->second.list_value().values()) {
    const auto& fields = image.struct_value().fields();
    auto id = fields.find("content_id");
    auto qr = fields.find("qr");
    if (id != fields.end() && qr != fields.end() &&
        absl::StartsWith(id->second.string_value(), "qr.")) {
      return qr->second.string_value();
    }
  }
  return "";
}

}  // namespace smz::testing
