#include "common/mail/smtp_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
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
  char error[CURL_ERROR_SIZE] = {};
  Upload upload{&*bytes};
  const std::string from = absl::StrCat("<", mail.from, ">");
  const std::string to = absl::StrCat("<", mail.to, ">");
  curl_slist* recipients = curl_slist_append(nullptr, to.c_str());
  // 0 would mean "no limit" to libcurl: at least a millisecond.
  const long timeout_ms = static_cast<long>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.timeout)));
  // The URL's path is the name this host gives in EHLO.
  const std::string url = absl::StrCat(options_.url, "/", options_.ehlo_name);
  // A password never crosses the network in the clear.
  const bool tls = options_.require_tls || !options_.username.empty();
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  const CURLcode protocols =
      curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   tls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
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
  // SIZE= in MAIL FROM: a relay refuses an oversized mail before the data.
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                   static_cast<curl_off_t>(bytes->size()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code =
      protocols == CURLE_OK ? curl_easy_perform(curl) : protocols;
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  if (code == CURLE_OK) return absl::OkStatus();
  const std::string what = absl::StrCat(
      "mail ", mail.message_id, " to the relay: ", curl_easy_strerror(code),
      reply > 0 ? absl::StrCat(" (reply ", reply, ")") : "",
      error[0] != '\0' ? absl::StrCat(": ", error) : "");
  // The relay's reply decides first: 4xx is "later", 5xx is "never".
  if (reply >= 400 && reply < 500) return absl::UnavailableError(what);
  if (reply >= 500) return absl::FailedPreconditionError(what);
  if (code == CURLE_LOGIN_DENIED || code == CURLE_USE_SSL_FAILED ||
      code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT ||
      code == CURLE_UNKNOWN_OPTION || code == CURLE_NOT_BUILT_IN) {
    return absl::FailedPreconditionError(what);
  }
  return absl::UnavailableError(what);
}

}  // namespace smz
