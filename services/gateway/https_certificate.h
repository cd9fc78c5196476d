// The certificate and key the gateway's HTTPS side presents, from PEM files
// that are looked at again while it runs: a certificate renewed in place
// (same paths) serves new handshakes without a restart, as the gRPC side's
// do (common/tls/tls_options.h). For libmicrohttpd's certificate callback
// (GnuTLS).
//
//   absl::StatusOr<std::unique_ptr<HttpsCertificate>> certificate =
//       HttpsCertificate::Load("/etc/smz/tls/gateway.crt",
//                              "/etc/smz/tls/gateway.key", absl::Minutes(1),
//                              &smz::SystemClock::Get());
//   // In a handshake:
//   const HttpsCertificate::Pair* pair = (*certificate)->Current();
//   // pair->chain, pair->chain_length, pair->key
//
// A renewal that cannot be used (a file half written, a key that does not
// belong to the certificate, the key's rename seen before the
// certificate's) keeps the pair in use and is tried again at the next look.
#ifndef SMZ_SERVICES_GATEWAY_HTTPS_CERTIFICATE_H_
#define SMZ_SERVICES_GATEWAY_HTTPS_CERTIFICATE_H_

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace smz::gateway {

class HttpsCertificate {
 public:
  // A certificate chain with its private key, as GnuTLS takes them.
  struct Pair {
    Pair() = default;
    Pair(const Pair&) = delete;
    Pair& operator=(const Pair&) = delete;
    ~Pair();

    gnutls_pcert_st chain[8];
    unsigned chain_length = 0;
    gnutls_privkey_t key = nullptr;
    std::string pem;       // the certificate file as read
    absl::Time not_after;  // of the first certificate
  };

  // INVALID_ARGUMENT naming the flag (http_tls_cert, http_tls_key) when a
  // file cannot be read, holds no certificate or key, or the key is not the
  // certificate's.
  // `on_loaded` (may be empty) hears the end date of each pair taken into
  // use, the first included (for the metrics).
  static absl::StatusOr<std::unique_ptr<HttpsCertificate>> Load(
      std::string cert_file, std::string key_file, absl::Duration refresh,
      const Clock* clock,
      std::function<void(absl::Time not_after)> on_loaded = nullptr);

  // The pair to present now, after a look at the files when `refresh` has
  // passed since the last one. Stays valid as long as this object: a
  // handshake under way keeps what it was given.
  const Pair* Current();

  // When the certificate in use ends (for the log and the metrics).
  absl::Time not_after();

 private:
  HttpsCertificate(std::string cert_file, std::string key_file,
                   absl::Duration refresh, const Clock* clock,
                   std::function<void(absl::Time)> on_loaded)
      : cert_file_(std::move(cert_file)),
        key_file_(std::move(key_file)),
        refresh_(refresh),
        clock_(clock),
        on_loaded_(std::move(on_loaded)) {}

  const std::string cert_file_;
  const std::string key_file_;
  const absl::Duration refresh_;
  const Clock* const clock_;
  const std::function<void(absl::Time)> on_loaded_;
  absl::Mutex mu_;
  absl::Time last_look_ ABSL_GUARDED_BY(mu_);
  // Every pair ever loaded, the last one current: renewals are rare (months
  // apart), and a pair handed to a handshake must outlive it.
  std::vector<std::unique_ptr<Pair>> pairs_ ABSL_GUARDED_BY(mu_);
};

// Reads a certificate chain and key from PEM text; INVALID_ARGUMENT saying
// what is wrong (for Load and each renewal: the files are the operator's,
// but a half-written one must not crash the gateway).
absl::StatusOr<std::unique_ptr<HttpsCertificate::Pair>> ParseCertificatePair(
    const std::string& cert_pem, const std::string& key_pem);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_HTTPS_CERTIFICATE_H_
