#include "common/tls/tls_options.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of this process (env SMZ_TLS_CERT)");
ABSL_FLAG(std::string, tls_key, "",
          "PEM private key of this process (env SMZ_TLS_KEY)");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle peers are verified against (env SMZ_TLS_CA)");
ABSL_FLAG(std::string, tls_client_auth, "",
          "'require': servers accept only clients with a certificate the CA "
          "signed; 'optional' (the default): a client certificate is "
          "verified when one is sent (env SMZ_TLS_CLIENT_AUTH)");
ABSL_FLAG(std::string, trusted_edges, "",
          "certificate names, comma-separated, of the edges whose calls may "
          "report their client's address (env SMZ_TRUSTED_EDGES; default "
          "gateway)");

namespace smz {
namespace {

unsigned int RefreshSeconds(const TlsOptions& options) {
  return static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(options.refresh)));
}

}  // namespace

absl::Status CheckPemFile(const std::string& path, absl::string_view flag,
                          absl::string_view kind) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  std::stringstream content;
  content << in.rdbuf();
  const std::string text = content.str();
  size_t at = 0;
  while ((at = text.find("-----BEGIN ", at)) != std::string::npos) {
    const size_t end = text.find('\n', at);
    const absl::string_view line = absl::string_view(text).substr(
        at, end == std::string::npos ? std::string::npos : end - at);
    if (absl::EndsWith(absl::StripTrailingAsciiWhitespace(line), kind)) {
      return absl::OkStatus();
    }
    at += std::string("-----BEGIN ").size();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": ", path, " holds no PEM ", kind));
}

absl::Status CheckTlsOptions(const TlsOptions& options) {
  if (!options.enabled()) {
    if (options.require_client_cert) {
      return absl::InvalidArgumentError(
          "tls_client_auth: needs --tls_ca (and the server's --tls_cert and "
          "--tls_key)");
    }
    return absl::OkStatus();
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert and tls_key: give both, or neither");
  }
  // Without it a client would trust the system's public roots: anyone with
  // a public certificate for the name dialled could stand in for a service.
  if (options.ca_file.empty()) {
    return absl::InvalidArgumentError(
        options.require_client_cert
            ? "tls_client_auth: needs --tls_ca, the CA client certificates "
              "must be signed by"
            : "tls_ca: required with TLS (peers are checked against it, "
              "never against the system's roots)");
  }
  if (!options.cert_file.empty()) {
    if (absl::Status s =
            CheckPemFile(options.cert_file, "tls_cert", "CERTIFICATE-----");
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            CheckPemFile(options.key_file, "tls_key", "PRIVATE KEY-----");
        !s.ok()) {
      return s;
    }
  }
  if (!options.ca_file.empty()) {
    if (absl::Status s =
            CheckPemFile(options.ca_file, "tls_ca", "CERTIFICATE-----");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckServerTlsOptions(const TlsOptions& options) {
  if (absl::Status s = CheckTlsOptions(options); !s.ok()) return s;
  if (options.enabled() &&
      (options.cert_file.empty() || options.key_file.empty())) {
    return absl::InvalidArgumentError(
        "tls_cert and tls_key: a server with TLS needs its own certificate");
  }
  return absl::OkStatus();
}

absl::StatusOr<TlsOptions> LoadTlsOptions() {
  TlsOptions options;
  options.cert_file =
      FlagOrEnv(absl::GetFlag(FLAGS_tls_cert), "SMZ_TLS_CERT", "");
  options.key_file = FlagOrEnv(absl::GetFlag(FLAGS_tls_key), "SMZ_TLS_KEY", "");
  options.ca_file = FlagOrEnv(absl::GetFlag(FLAGS_tls_ca), "SMZ_TLS_CA", "");
  const std::string client_auth = FlagOrEnv(
      absl::GetFlag(FLAGS_tls_client_auth), "SMZ_TLS_CLIENT_AUTH", "");
  if (client_auth == "require") {
    options.require_client_cert = true;
  } else if (!client_auth.empty() && client_auth != "optional") {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls_client_auth: '", client_auth, "' is not 'require' or 'optional'"));
  }
  const std::string edges =
      FlagOrEnv(absl::GetFlag(FLAGS_trusted_edges), "SMZ_TRUSTED_EDGES", "");
  if (!edges.empty()) {
    options.trusted_edges.clear();
    for (absl::string_view name :
         absl::StrSplit(edges, ',', absl::SkipWhitespace())) {
      name = absl::StripAsciiWhitespace(name);
      // A certificate name: letters, digits, '-', '.' (and ':' of an IP).
      const bool is_name =
          !name.empty() && name.size() <= 253 &&
          std::all_of(name.begin(), name.end(), [](char ch) {
            return absl::ascii_isalnum(static_cast<unsigned char>(ch)) ||
                   ch == '-' || ch == '.' || ch == ':';
          });
      if (!is_name) {
        return absl::InvalidArgumentError(absl::StrCat(
            "trusted_edges: '", name, "' is not a certificate name"));
      }
      // Names every certificate of make_certs.sh carries: trusting them
      // would trust every service.
      if (name == "localhost" || absl::StartsWith(name, "127.") ||
          name == "::1") {
        return absl::InvalidArgumentError(absl::StrCat(
            "trusted_edges: '", name,
            "' is on every local certificate; name the edge itself"));
      }
      options.trusted_edges.emplace_back(name);
    }
    if (options.trusted_edges.empty()) {
      return absl::InvalidArgumentError(
          "trusted_edges: no name given (leave it unset for 'gateway')");
    }
  }
  if (absl::Status s = CheckTlsOptions(options); !s.ok()) return s;
  return options;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const TlsOptions& options) {
  if (!options.enabled()) return grpc::InsecureServerCredentials();
  // The watcher re-reads the files every `refresh`: a renewed certificate
  // (same paths) serves new handshakes without a restart.
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          options.key_file, options.cert_file, options.ca_file,
          RefreshSeconds(options));
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  tls.watch_root_certs();  // the CA is always given (CheckTlsOptions)
  tls.set_cert_request_type(
      options.require_client_cert
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(tls);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(
    const TlsOptions& options) {
  if (!options.enabled()) return grpc::InsecureChannelCredentials();
  grpc::experimental::TlsChannelCredentialsOptions tls;
  if (!options.cert_file.empty()) {
    tls.set_certificate_provider(
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            options.key_file, options.cert_file, options.ca_file,
            RefreshSeconds(options)));
    tls.watch_identity_key_cert_pairs();
  } else {
    tls.set_certificate_provider(
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            options.ca_file, RefreshSeconds(options)));
  }
  tls.watch_root_certs();  // the CA is always given (CheckTlsOptions)
  tls.set_verify_server_certs(true);
  // The server's certificate must name the host dialled, as a browser's
  // would; said here rather than left to the library's default.
  tls.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::experimental::TlsCredentials(tls);
}

std::string PeerIdentity(const grpc::ServerContextBase& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  std::vector<std::string> names;
  for (const grpc::string_ref& name : auth->GetPeerIdentity()) {
    names.emplace_back(name.data(), name.size());
  }
  return absl::StrJoin(names, ",");
}

absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& pem_file,
                                               const std::string& key_file) {
  // OpenSSL keeps errors per thread; one left behind here could be taken
  // for the next TLS read's (the database's, on the same thread).
  ERR_clear_error();
  BIO* bio = BIO_new_file(pem_file.c_str(), "r");
  if (bio == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", pem_file));
  }
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (certificate == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(pem_file, " holds no PEM certificate"));
  }
  bool key_fits = true;
  if (!key_file.empty()) {
    key_fits = false;
    if (BIO* key_bio = BIO_new_file(key_file.c_str(), "r");
        key_bio != nullptr) {
      EVP_PKEY* key =
          PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
      BIO_free(key_bio);
      if (key != nullptr) {
        key_fits = X509_check_private_key(certificate, key) == 1;
        EVP_PKEY_free(key);
      }
    }
  }
  struct tm end {};
  const bool ok = ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &end) == 1;
  X509_free(certificate);
  ERR_clear_error();
  if (!key_fits) {
    return absl::InvalidArgumentError(
        absl::StrCat(pem_file, ": not the certificate of ", key_file));
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(pem_file, ": unreadable end date"));
  }
  return absl::FromTimeT(timegm(&end));
}

std::string PeerAddress(const grpc::ServerContextBase& context) {
  // "ipv4:127.0.0.1:5000" or "ipv6:[::1]:5000", which gRPC percent-encodes
  // as "ipv6:%5B::1%5D:5000".
  const std::string peer = absl::StrReplaceAll(
      context.peer(), {{"%5B", "["}, {"%5D", "]"}, {"%5b", "["}, {"%5d", "]"}});
  absl::string_view rest = peer;
  if (absl::ConsumePrefix(&rest, "ipv4:")) {
    return std::string(rest.substr(0, rest.rfind(':')));
  }
  if (absl::ConsumePrefix(&rest, "ipv6:[")) {
    return std::string(rest.substr(0, rest.find(']')));
  }
  return "";
}

bool TrustedEdge(const grpc::ServerContextBase& context,
                 const std::vector<std::string>& trusted_edges) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& name : auth->GetPeerIdentity()) {
      const absl::string_view view(name.data(), name.size());
      if (std::find(trusted_edges.begin(), trusted_edges.end(), view) !=
          trusted_edges.end()) {
        return true;
      }
    }
    return false;
  }
  // Without a certificate, only a plaintext call from this host: with TLS
  // on, anyone may connect without one ('optional') and claim anything.
  if (auth != nullptr) {
    for (const grpc::string_ref& type :
         auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
      if (absl::string_view(type.data(), type.size()) != "insecure") {
        return false;
      }
    }
  }
  const std::string address = PeerAddress(context);
  return absl::StartsWith(address, "127.") || address == "::1";
}

}  // namespace smz
