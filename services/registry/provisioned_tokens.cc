#include "services/registry/provisioned_tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/config.h"

namespace smz::registry {
namespace {

bool IsServiceName(absl::string_view name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  return true;
}

// The hash of the token in `path`, for `what` ("admin", "stats"): the
// file's kind and mode are checked on the file opened (not a name that may
// change in between), because a secret others may read or replace is no
// secret.
absl::StatusOr<std::string> ReadSecretHash(const std::string& path,
                                           absl::string_view what) {
  const std::string where = absl::StrCat("the ", what, " token secret ", path);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(where, " does not exist"));
    }
    return absl::InvalidArgumentError(absl::StrCat(where, " cannot be read"));
  }
  struct stat info {};
  std::string content(kMaxTokenFileBytes + 1, '\0');
  ssize_t size = -1;
  if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
      (info.st_mode & (S_IWGRP | S_IWOTH | S_IROTH)) == 0) {
    size = read(fd, content.data(), content.size());
  }
  close(fd);
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " is not a regular file"));
  }
  if ((info.st_mode & (S_IWGRP | S_IWOTH | S_IROTH)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where,
                     " may be read by others or written by its group or others "
                     "(chmod 0400)"));
  }
  if (size < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, " cannot be read"));
  }
  if (static_cast<size_t>(size) > kMaxTokenFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " holds more than ", kMaxTokenFileBytes, " bytes"));
  }
  content.resize(static_cast<size_t>(size));
  absl::string_view secret = absl::StripAsciiWhitespace(content);
  if (absl::ConsumePrefix(&secret, "sha256:")) {
    if (!IsTokenHash(secret)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": after \"sha256:\" come 64 lowercase hex digits"));
    }
    return std::string(secret);
  }
  absl::Status checked = CheckProvisionedToken(secret);
  if (!checked.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", checked.message()));
  }
  return HashToken(secret);
}

}  // namespace

absl::StatusOr<std::vector<ProvisionedToken>> ReadProvisionedTokens(
    const std::string& admin_secret, absl::string_view service_secrets) {
  std::vector<ProvisionedToken> tokens;
  std::vector<std::string> problems;
  absl::Status missing;
  auto add = [&](std::string name, auth::v1::Role role,
                 const std::string& path) {
    absl::StatusOr<std::string> hash = ReadSecretHash(path, name);
    if (!hash.ok()) {
      if (absl::IsNotFound(hash.status()) && missing.ok()) {
        missing = hash.status();
      }
      problems.emplace_back(hash.status().message());
      return;
    }
    tokens.push_back({std::move(name), role, *std::move(hash)});
  };
  if (!admin_secret.empty()) add("admin", auth::v1::ADMIN, admin_secret);
  absl::flat_hash_set<std::string> names = {"admin"};
  int services = 0;
  for (absl::string_view entry :
       absl::StrSplit(service_secrets, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    if (++services > kMaxServiceTokenSecrets) {
      problems.push_back(absl::StrCat("more than ", kMaxServiceTokenSecrets,
                                      " service token secrets"));
      break;
    }
    const size_t equals = entry.find('=');
    const absl::string_view name = entry.substr(0, equals);
    if (equals == absl::string_view::npos || !IsServiceName(name) ||
        equals + 1 == entry.size()) {
      problems.push_back(
          absl::StrCat("service token secret entry ", services,
                       " is not name=path (a name of 1-40 of a-z 0-9 -)"));
      continue;
    }
    if (!names.insert(std::string(name)).second) {
      problems.push_back(
          absl::StrCat("service token secret \"", name, "\" given twice"));
      continue;
    }
    add(std::string(name), auth::v1::ANALYST,
        std::string(entry.substr(equals + 1)));
  }
  absl::flat_hash_set<std::string> seen;
  for (const ProvisionedToken& token : tokens) {
    if (!seen.insert(token.hash).second) {
      problems.push_back(absl::StrCat("the ", token.name,
                                      " token secret repeats another's token"));
    }
  }
  if (!problems.empty()) {
    // Only a missing file alone is NOT_FOUND; anything else was given wrong.
    if (problems.size() == 1 && !missing.ok()) return missing;
    return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  }
  return tokens;
}

}  // namespace smz::registry
