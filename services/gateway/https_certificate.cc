#include "services/gateway/https_certificate.h"

#include <gnutls/x509.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace smz::gateway {
namespace {

// At most this much of a file is read: a certificate chain or key is a few
// kilobytes.
constexpr size_t kMaxPemBytes = 256 * 1024;

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  std::string text(kMaxPemBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " is larger than 256 KiB"));
  }
  return text;
}

gnutls_datum_t Datum(const std::string& text) {
  return gnutls_datum_t{
      reinterpret_cast<unsigned char*>(const_cast<char*>(text.data())),
      static_cast<unsigned>(text.size())};
}

// The DER encoding of a public key ("" when it cannot be exported).
std::string PublicKeyDer(gnutls_pubkey_t key) {
  gnutls_datum_t out{nullptr, 0};
  if (gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &out) < 0) return "";
  std::string der(reinterpret_cast<const char*>(out.data), out.size);
  gnutls_free(out.data);
  return der;
}

}  // namespace

HttpsCertificate::Pair::~Pair() {
  for (unsigned i = 0; i < chain_length; ++i) gnutls_pcert_deinit(&chain[i]);
  if (key != nullptr) gnutls_privkey_deinit(key);
}

absl::StatusOr<std::unique_ptr<HttpsCertificate::Pair>> ParseCertificatePair(
    const std::string& cert_pem, const std::string& key_pem) {
  auto pair = std::make_unique<HttpsCertificate::Pair>();
  if (cert_pem.size() > kMaxPemBytes || key_pem.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError("larger than 256 KiB");
  }
  gnutls_datum_t cert_datum = Datum(cert_pem);
  unsigned length = sizeof(pair->chain) / sizeof(pair->chain[0]);
  if (int e = gnutls_pcert_list_import_x509_raw(
          pair->chain, &length, &cert_datum, GNUTLS_X509_FMT_PEM,
          GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED);
      e < 0 || length == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("http_tls_cert: no PEM certificate chain of at most 8 (",
                     e < 0 ? gnutls_strerror(e) : "none found", ")"));
  }
  pair->chain_length = length;
  if (gnutls_privkey_init(&pair->key) < 0) {
    pair->key = nullptr;
    return absl::ResourceExhaustedError("http_tls_key: out of memory");
  }
  gnutls_datum_t key_datum = Datum(key_pem);
  if (int e = gnutls_privkey_import_x509_raw(pair->key, &key_datum,
                                             GNUTLS_X509_FMT_PEM, nullptr, 0);
      e < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("http_tls_key: no unencrypted PEM private key (",
                     gnutls_strerror(e), ")"));
  }
  // A key that is not the certificate's would fail every handshake.
  gnutls_pubkey_t of_key = nullptr;
  std::string key_public;
  if (gnutls_pubkey_init(&of_key) >= 0) {
    if (gnutls_pubkey_import_privkey(of_key, pair->key, 0, 0) >= 0) {
      key_public = PublicKeyDer(of_key);
    }
    gnutls_pubkey_deinit(of_key);
  }
  if (key_public.empty() || key_public != PublicKeyDer(pair->chain[0].pubkey)) {
    return absl::InvalidArgumentError(
        "http_tls_key: the key is not the certificate's (http_tls_cert)");
  }
  gnutls_x509_crt_t first = nullptr;
  if (gnutls_x509_crt_init(&first) >= 0) {
    if (gnutls_x509_crt_import(first, &pair->chain[0].cert,
                               GNUTLS_X509_FMT_DER) >= 0) {
      pair->not_after =
          absl::FromTimeT(gnutls_x509_crt_get_expiration_time(first));
    }
    gnutls_x509_crt_deinit(first);
  }
  pair->pem = cert_pem;
  return pair;
}

absl::StatusOr<std::unique_ptr<HttpsCertificate>> HttpsCertificate::Load(
    std::string cert_file, std::string key_file, absl::Duration refresh,
    const Clock* clock, std::function<void(absl::Time)> on_loaded) {
  absl::StatusOr<std::string> cert = ReadPem(cert_file, "http_tls_cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(key_file, "http_tls_key");
  if (!key.ok()) return key.status();
  absl::StatusOr<std::unique_ptr<Pair>> pair =
      ParseCertificatePair(*cert, *key);
  if (!pair.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(pair.status().message(), ": ", cert_file, ", ", key_file));
  }
  if (on_loaded != nullptr) on_loaded((*pair)->not_after);
  std::unique_ptr<HttpsCertificate> certificate(
      new HttpsCertificate(std::move(cert_file), std::move(key_file), refresh,
                           clock, std::move(on_loaded)));
  absl::MutexLock lock(&certificate->mu_);
  certificate->last_look_ = clock->Now();
  certificate->pairs_.push_back(*std::move(pair));
  return certificate;
}

const HttpsCertificate::Pair* HttpsCertificate::Current() {
  std::string in_use;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    if (now - last_look_ < refresh_) return pairs_.back().get();
    // This handshake looks; the others meanwhile present the pair in use
    // (a slow file system stalls one handshake, not every one).
    last_look_ = now;
    in_use = pairs_.back()->pem;
  }
  absl::StatusOr<std::string> cert = ReadPem(cert_file_, "http_tls_cert");
  absl::StatusOr<std::string> key = ReadPem(key_file_, "http_tls_key");
  std::unique_ptr<Pair> renewed;
  if (!cert.ok() || !key.ok()) {
    Log(LogLevel::kWarning, "HTTPS certificate files unreadable; in use kept",
        {{"error", (cert.ok() ? key : cert).status().message()}});
  } else if (*cert != in_use) {
    absl::StatusOr<std::unique_ptr<Pair>> parsed =
        ParseCertificatePair(*cert, *key);
    if (parsed.ok()) {
      renewed = *std::move(parsed);
      Log(LogLevel::kInfo, "HTTPS certificate renewed",
          {{"file", cert_file_},
           {"not_after", absl::FormatTime(renewed->not_after)}});
    } else {
      Log(LogLevel::kWarning, "HTTPS certificate not renewed yet",
          {{"file", cert_file_}, {"error", parsed.status().message()}});
    }
  }
  if (renewed != nullptr && on_loaded_ != nullptr) {
    on_loaded_(renewed->not_after);
  }
  absl::MutexLock lock(&mu_);
  if (renewed != nullptr) pairs_.push_back(std::move(renewed));
  return pairs_.back().get();
}

absl::Time HttpsCertificate::not_after() {
  absl::MutexLock lock(&mu_);
  return pairs_.back()->not_after;
}

}  // namespace smz::gateway
