// Early returns for absl::Status and absl::StatusOr, which Abseil 20220623
// does not ship (ABSL_RETURN_IF_ERROR came later):
//
//   absl::StatusOr<Partner> LoadAndCheck(Session& session, int64_t id) {
//     SMZ_ASSIGN_OR_RETURN(Partner partner, ReadPartner(session, id));
//     SMZ_RETURN_IF_ERROR(CheckActive(partner));
//     return partner;
//   }
//
// Each evaluates its expression once; the status is returned unchanged.
// SMZ_ASSIGN_OR_RETURN expands to several statements: use it in a block,
// never as the body of an unbraced if.
#ifndef SMZ_COMMON_AIP_STATUS_MACROS_H_
#define SMZ_COMMON_AIP_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SMZ_RETURN_IF_ERROR(expr)                               \
  do {                                                          \
    if (absl::Status smz_status_ = (expr); !smz_status_.ok()) { \
      return smz_status_;                                       \
    }                                                           \
  } while (false)

#define SMZ_STATUS_CONCAT_INNER_(a, b) a##b
#define SMZ_STATUS_CONCAT_(a, b) SMZ_STATUS_CONCAT_INNER_(a, b)

// `lhs` may declare a variable ("auto x", "Partner p") or name one.
#define SMZ_ASSIGN_OR_RETURN(lhs, expr)                                        \
  SMZ_ASSIGN_OR_RETURN_IMPL_(SMZ_STATUS_CONCAT_(smz_statusor_, __LINE__), lhs, \
                             expr)

#define SMZ_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  if (!statusor.ok()) return statusor.status();         \
  lhs = *std::move(statusor)

#endif  // SMZ_COMMON_AIP_STATUS_MACROS_H_
