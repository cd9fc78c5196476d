#include "common/mail/smtp_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace smz {
namespace {

// What libcurl reads the message from.
struct Upload {
  const std::string* bytes;
  size_t sent = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  Upload* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->bytes->size() - upload->sent);
  std::memcpy(buffer, upload->bytes->data() + upload->sent, n);
  upload->sent += n;
  return n;
}

// curl_global_init is not thread-safe: once per process.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

SmtpSender::SmtpSender(SmtpOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock) {
  InitCurlOnce();
}

// Long by design: one libcurl option per line, then the outcome mapped.
absl::Status SmtpSender::Send(const MailMessage& mail) {
  absl::StatusOr<std::string> bytes = FormatMime(mail, clock_->Now());
  if (!bytes.ok()) return bytes.status();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init");
  Upload upload{&*bytes};
  const std::string from = absl::StrCat("<", mail.from, ">");
  const std::string to = absl::StrCat("<", mail.to, ">");
  curl_slist* recipients = curl_slist_append(nullptr, to.c_str());
  const long timeout_ms =
      static_cast<long>(absl::ToInt64Milliseconds(options_.timeout));
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   options_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
  if (!options_.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  if (!options_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  if (code == CURLE_OK) return absl::OkStatus();
  const std::string what = absl::StrCat(
      "mail ", mail.message_id, " to the relay: ", curl_easy_strerror(code),
      reply > 0 ? absl::StrCat(" (reply ", reply, ")") : "");
  if (reply >= 500 || code == CURLE_LOGIN_DENIED ||
      code == CURLE_USE_SSL_FAILED || code == CURLE_UNSUPPORTED_PROTOCOL ||
      code == CURLE_URL_MALFORMAT) {
    return absl::FailedPreconditionError(what);
  }
  return absl::UnavailableError(what);
}

}  // namespace smz
