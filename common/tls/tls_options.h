// Transport security for smz's gRPC servers and clients: TLS from PEM files,
// mutual TLS as an option, and certificates re-read while the process runs
// (a renewed certificate is picked up without a restart).
//
//   --tls_cert         SMZ_TLS_CERT         this process's certificate chain
//   --tls_key          SMZ_TLS_KEY          its private key
//   --tls_ca           SMZ_TLS_CA           the CA bundle peers are checked
//                                           against
//   --tls_client_auth  SMZ_TLS_CLIENT_AUTH  "require": a server accepts only
//                                           clients whose certificate the CA
//                                           signed (mutual TLS); "optional"
//                                           (default): a certificate sent is
//                                           verified, none is needed
//   --trusted_edges    SMZ_TRUSTED_EDGES    certificate names (comma-
//                                           separated, default "gateway")
//                                           whose calls may report the
//                                           address of the client they
//                                           call for
//
// None set: plaintext, as on loopback in development and the tests. With TLS
// the CA is always required (peers are never checked against the system's
// public roots); a server needs cert and key, a client them too when servers
// require client certificates. deploy/tls/make_certs.sh makes a private CA
// and a certificate per service.
//
//   absl::StatusOr<smz::TlsOptions> tls = smz::LoadTlsOptions();
//   if (!tls.ok()) return smz::ExitForBadConfiguration(tls.status().message());
//   server_options.tls = *tls;  // ServiceRuntime serves with it
//   // Between services: smz::CreateServiceChannel(target, *tls, "registry",
//   //                                              &metrics)
//   // (common/clients/service_channel.h), which uses ChannelCredentialsFor.
//
// Also here, as they rest on the peer's verified certificate: who may
// report a client's address (TrustedEdge, --trusted_edges), the caller's
// own address (PeerAddress) and a certificate's end (CertificateNotAfter).
#ifndef SMZ_COMMON_TLS_TLS_OPTIONS_H_
#define SMZ_COMMON_TLS_TLS_OPTIONS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"

namespace smz {

struct TlsOptions {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool require_client_cert = false;
  // How often the files are looked at again for a renewed certificate.
  absl::Duration refresh = absl::Seconds(60);
  // A server believes the client address a caller reports (the HTTP edge's
  // smz-client-address) only when the caller's verified certificate names
  // one of these, or over plaintext from this host (TrustedEdge).
  std::vector<std::string> trusted_edges = {"gateway"};

  bool enabled() const {
    return !cert_file.empty() || !key_file.empty() || !ca_file.empty();
  }
};

// The options from the flags and variables above, after
// absl::ParseCommandLine. INVALID_ARGUMENT for a cert without its key (or the
// reverse), TLS or client authentication without a CA, a file that cannot
// be read or holds no PEM block of the kind expected (said at start, not at
// the first handshake), or a trusted edge that is no certificate name, is a
// name every local certificate carries (localhost, a loopback address), or
// an empty list.
absl::StatusOr<TlsOptions> LoadTlsOptions();

// Checks `options` as LoadTlsOptions does (for options built in code).
absl::Status CheckTlsOptions(const TlsOptions& options);
// And that a server has its own certificate and key (what a client may
// lack); ServiceRuntime::Start asks it.
absl::Status CheckServerTlsOptions(const TlsOptions& options);

// Whether the file at `path` can be read and holds a PEM block whose
// "-----BEGIN ..." line ends with `kind` ("CERTIFICATE-----", "PRIVATE
// KEY-----", which also matches "RSA PRIVATE KEY-----"); INVALID_ARGUMENT
// naming `flag` otherwise.
absl::Status CheckPemFile(const std::string& path, absl::string_view flag,
                          absl::string_view kind);

// When the first certificate in a PEM file ends; INVALID_ARGUMENT when the
// file cannot be read or holds none, or (with `key_file`) when that key is
// not the certificate's: a renewal half done, which the TLS provider does
// not take into use either.
absl::StatusOr<absl::Time> CertificateNotAfter(
    const std::string& pem_file, const std::string& key_file = "");

// Plaintext when !options.enabled(). Give a server only options that
// CheckServerTlsOptions accepts.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const TlsOptions& options);
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(
    const TlsOptions& options);

// The verified identity of the client of `context`: its certificate's
// subject alternative names (else its common name) joined by ',', e.g.
// "gateway,localhost,127.0.0.1" for make_certs.sh's gateway certificate;
// "" over plaintext or without a client certificate. For the call log.
std::string PeerIdentity(const grpc::ServerContextBase& context);

// Whether the caller of `context` is an edge that may speak for its clients:
// its verified certificate names one of `trusted_edges`, or (no TLS at all,
// the single-host set-up) it calls from this host's loopback. A client
// without a certificate over TLS, or with another service's, is not.
bool TrustedEdge(const grpc::ServerContextBase& context,
                 const std::vector<std::string>& trusted_edges);

// The IP address of the caller's own end of the connection ("" when it is
// not an IP connection), e.g. "127.0.0.1" or "::1".
std::string PeerAddress(const grpc::ServerContextBase& context);

}  // namespace smz

#endif  // SMZ_COMMON_TLS_TLS_OPTIONS_H_
