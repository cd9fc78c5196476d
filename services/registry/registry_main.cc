// registry: the zone's partner directory service.
//
//   registry --listen=127.0.0.1:50051 --metrics_listen=127.0.0.1:9464
//     --mysql_dsn=mysql://smz_registry@127.0.0.1:3306/smz_registry
//     --mysql_credentials_file=/path/registry.mysql
//     --bootstrap_admin_token_file=/path/admin.token
//
// With secrets an operator made instead (Kubernetes Secrets, systemd
// credentials; deploy/secrets/make_secrets.sh), registered on start:
//
//   registry ... --bootstrap_admin_token_secret=/run/secrets/admin.token.hash
//     --service_token_secrets=stats=/run/secrets/stats.registry-token.hash
//
// Break-glass, when every ADMIN token is lost: on the registry's host, with
// the registry's database configuration, issue a new ADMIN token into a new
// 0600 file and exit (audited as BREAK_GLASS by the OS user):
//
//   registry --mysql_dsn=... --issue_admin_token=/root/smz-admin.token
//
// The same for people: make `kim` an enabled ADMIN account (created when
// missing) and write the one-time link that sets its password (72 h) into
// a new 0600 file; the first administrator of a deployment starts here:
//
//   registry --mysql_dsn=... --admin_account=kim
//     --admin_account_link_file=/root/kim.link
//
// Every flag also reads an SMZ_* environment variable (common/config.h,
// common/server/service_main.h).
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/mail/mail_config.h"
#include "common/server/service_main.h"
#include "common/text_checks.h"
#include "services/registry/provisioned_tokens.h"
#include "services/registry/registry_schema.h"
#include "services/registry/registry_server.h"

ABSL_FLAG(std::string, public_url, "",
          "where people reach the workspace (the gateway), e.g. "
          "https://smz.example.org: the account links mailed to invited "
          "people start with it (SMZ_PUBLIC_URL; unset: links are not "
          "mailed, only shown to the administrator)");
ABSL_FLAG(std::string, district_mail, "",
          "the district's addresses, comma-separated, for the weekly digest "
          "of designation terms and attraction registrations ending within "
          "90 days (SMZ_DISTRICT_MAIL; empty: none)");
ABSL_FLAG(std::string, bootstrap_admin_token_file, "",
          "on first start (no active ADMIN token), write a new admin token "
          "here with mode 0600 (env SMZ_BOOTSTRAP_ADMIN_TOKEN_FILE)");
ABSL_FLAG(std::string, bootstrap_admin_token_secret, "",
          "a read-only file holding an ADMIN token the operator made, or "
          "only its hash (deploy/secrets/make_secrets.sh's admin.token.hash),"
          " registered on start instead of minting one "
          "(SMZ_BOOTSTRAP_ADMIN_TOKEN_SECRET)");
ABSL_FLAG(std::string, service_token_secrets, "",
          "name=path pairs, comma-separated: read-only files holding each "
          "service's registry token (ANALYST) or its hash, registered on "
          "start, e.g. stats=/run/secrets/stats.registry-token.hash "
          "(SMZ_SERVICE_TOKEN_SECRETS)");

ABSL_FLAG(std::string, issue_admin_token, "",
          "break-glass: issue a new ADMIN token into this new file (mode "
          "0600; refused if it exists) and exit without serving");

ABSL_FLAG(std::string, admin_account, "",
          "break-glass: make this login an enabled ADMIN account (created "
          "when missing) and exit, writing its one-time password link to "
          "--admin_account_link_file");

ABSL_FLAG(std::string, admin_account_link_file, "",
          "with --admin_account: the new file (mode 0600) for the link");

namespace {

// Writes the token atomically with owner-only permissions.
absl::Status WriteSecretFile(const std::string& path,
                             const std::string& token) {
  const std::string temporary = absl::StrCat(path, ".tmp");
  unlink(temporary.c_str());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", temporary));
  }
  const std::string content = absl::StrCat(token, "\n");
  const bool written = write(fd, content.data(), content.size()) ==
                           static_cast<ssize_t>(content.size()) &&
                       fsync(fd) == 0;
  close(fd);
  if (!written || rename(temporary.c_str(), path.c_str()) != 0) {
    unlink(temporary.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

// Writes a secret to a file that must not exist yet, owner-only.
absl::Status WriteNewSecretFile(const std::string& path,
                                const std::string& token) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("cannot create ", path,
                     " (it must not exist yet): ", std::strerror(errno)));
  }
  const std::string content = absl::StrCat(token, "\n");
  const bool written = write(fd, content.data(), content.size()) ==
                           static_cast<ssize_t>(content.size()) &&
                       fsync(fd) == 0;
  close(fd);
  if (!written) {
    unlink(path.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

// The OS account running the command, for the audit trail: the real user
// id's name (not $USER, which the caller sets), and the sudo caller's name
// where there is one, kept to a name's characters.
std::string BreakGlassActor() {
  const passwd* account = getpwuid(getuid());
  std::string actor = absl::StrCat(
      "break-glass:", account != nullptr ? std::string(account->pw_name)
                                         : absl::StrCat(getuid()));
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr) {
    std::string name;
    for (const char* c = sudo; *c != '\0' && name.size() < 32; ++c) {
      if (absl::ascii_isalnum(static_cast<unsigned char>(*c)) || *c == '.' ||
          *c == '_' || *c == '-') {
        name.push_back(*c);
      }
    }
    if (!name.empty()) absl::StrAppend(&actor, " (sudo by ", name, ")");
  }
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(actor, "@", smz::Abbreviate(host, 64));
}

int IssueAdminTokenAndExit(const smz::registry::RegistryServerOptions& options,
                           const std::string& path) {
  const std::string actor = BreakGlassActor();
  bool written = false;
  absl::StatusOr<smz::registry::v1::TokenInfo> issued =
      smz::registry::RegistryServer::IssueBreakGlassAdminToken(
          options, actor, [&](const std::string& token) {
            absl::Status status = WriteNewSecretFile(path, token);
            written = status.ok();
            return status;
          });
  if (!issued.ok()) {
    // The file is worthless without its stored hash.
    if (written) unlink(path.c_str());
    smz::Log(smz::LogLevel::kError, "break-glass admin token not issued",
             {{"error", issued.status().message()}});
    return 1;
  }
  smz::Log(smz::LogLevel::kWarning, "break-glass admin token issued",
           {{"file", path},
            {"token_id", absl::StrCat(issued->id())},
            {"actor", actor}});
  return 0;
}

int BreakGlassAdminAccountAndExit(
    const smz::registry::RegistryServerOptions& options,
    const std::string& login, const std::string& path) {
  if (path.empty()) {
    return smz::ExitForBadConfiguration(
        "--admin_account needs --admin_account_link_file");
  }
  const std::string actor = BreakGlassActor();
  absl::StatusOr<smz::registry::v1::AccountLinkResponse> link =
      smz::registry::RegistryServer::BreakGlassAdminAccount(options, login,
                                                            actor);
  if (!link.ok()) {
    smz::Log(smz::LogLevel::kError, "break-glass admin account not set up",
             {{"error", link.status().message()}});
    return 1;
  }
  if (absl::Status written = WriteNewSecretFile(path, link->link().path());
      !written.ok()) {
    smz::Log(smz::LogLevel::kError, "admin account link not written",
             {{"error", written.message()}});
    return 1;
  }
  smz::Log(smz::LogLevel::kWarning, "break-glass admin account link issued",
           {{"file", path},
            {"account_id", absl::StrCat(link->account().id())},
            {"actor", actor}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const smz::ServiceMainSpec spec{"registry", "127.0.0.1:50051",
                                  smz::RegistryUse::kIsRegistry,
                                  &smz::registry::RegistryMigrations};
  absl::StatusOr<smz::MainConfig> config =
      smz::BeginServiceMain(argc, argv, spec);
  if (!config.ok()) {
    return smz::ExitForBadConfiguration(config.status().message());
  }
  smz::registry::RegistryServerOptions options;
  smz::ApplyMainConfig(*config, &options);
  const std::string token_file =
      smz::FlagOrEnv(absl::GetFlag(FLAGS_bootstrap_admin_token_file),
                     "SMZ_BOOTSTRAP_ADMIN_TOKEN_FILE", "");
  const std::string admin_secret =
      smz::FlagOrEnv(absl::GetFlag(FLAGS_bootstrap_admin_token_secret),
                     "SMZ_BOOTSTRAP_ADMIN_TOKEN_SECRET", "");
  if (!token_file.empty() && !admin_secret.empty()) {
    return smz::ExitForBadConfiguration(
        "--bootstrap_admin_token_file (the registry mints the token) and "
        "--bootstrap_admin_token_secret (the operator made it): one of them");
  }
  absl::StatusOr<std::vector<smz::registry::ProvisionedToken>> provisioned =
      smz::registry::ReadProvisionedTokens(
          admin_secret,
          smz::FlagOrEnv(absl::GetFlag(FLAGS_service_token_secrets),
                         "SMZ_SERVICE_TOKEN_SECRETS", ""));
  if (!provisioned.ok()) {
    return smz::ExitForBadConfiguration(provisioned.status().message());
  }
  options.provisioned_tokens = *std::move(provisioned);
  if (!token_file.empty()) {
    options.deliver_bootstrap_admin_token =
        [token_file](const std::string& token) {
          absl::Status written = WriteSecretFile(token_file, token);
          if (written.ok()) {
            smz::Log(smz::LogLevel::kInfo, "bootstrap admin token written",
                     {{"file", token_file}});
          }
          return written;
        };
  }
  if (!absl::GetFlag(FLAGS_issue_admin_token).empty() &&
      !absl::GetFlag(FLAGS_admin_account).empty()) {
    return smz::ExitForBadConfiguration(
        "--issue_admin_token and --admin_account: one break-glass at a time");
  }
  if (const std::string path = absl::GetFlag(FLAGS_issue_admin_token);
      !path.empty()) {
    return IssueAdminTokenAndExit(options, path);
  }
  if (const std::string login = absl::GetFlag(FLAGS_admin_account);
      !login.empty()) {
    return BreakGlassAdminAccountAndExit(
        options, login, absl::GetFlag(FLAGS_admin_account_link_file));
  }
  absl::StatusOr<smz::MailConfig> mail = smz::LoadMailConfig("registry");
  if (!mail.ok()) return smz::ExitForBadConfiguration(mail.status().message());
  options.outbox = mail->outbox;
  options.smtp = mail->smtp;
  options.public_url = smz::FlagOrEnv(absl::GetFlag(FLAGS_public_url),
                                      "SMZ_PUBLIC_URL", options.public_url);
  for (absl::string_view address :
       absl::StrSplit(smz::FlagOrEnv(absl::GetFlag(FLAGS_district_mail),
                                     "SMZ_DISTRICT_MAIL", ""),
                      ',', absl::SkipWhitespace())) {
    options.district_mail.emplace_back(absl::StripAsciiWhitespace(address));
  }
  return smz::ServeStarted(spec, *config,
                           smz::registry::RegistryServer::Start(options));
}
