#include "common/status_util.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FieldViolationsTest, EmptyIsOk) {
  FieldViolations violations;
  EXPECT_TRUE(violations.ToStatus().ok());
}

TEST(FieldViolationsTest, NamesEveryFieldInMessageAndPayload) {
  FieldViolations violations;
  violations.Add("partner.name", "'ko' is required");
  violations.Add("partner.floor_area_m2", "must not be negative");
  const absl::Status status = violations.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("partner.name"));
  EXPECT_THAT(status.message(), HasSubstr("partner.floor_area_m2"));
  EXPECT_THAT(GetFieldViolations(status),
              ElementsAre(FieldViolation{"partner.name", "'ko' is required"},
                          FieldViolation{"partner.floor_area_m2",
                                         "must not be negative"}));
}

TEST(StatusMappingTest, RoundTripsThroughGrpcWithViolations) {
  const absl::Status original = InvalidField("etag", "is required");
  const grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(wire.error_details().empty());
  const absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), original.message());
  EXPECT_THAT(GetFieldViolations(back),
              ElementsAre(FieldViolation{"etag", "is required"}));
}

TEST(StatusMappingTest, KeepsCodesWithoutDetails) {
  for (absl::StatusCode code :
       {absl::StatusCode::kNotFound, absl::StatusCode::kAborted,
        absl::StatusCode::kUnavailable, absl::StatusCode::kPermissionDenied,
        absl::StatusCode::kUnauthenticated,
        absl::StatusCode::kFailedPrecondition,
        absl::StatusCode::kAlreadyExists}) {
    const grpc::Status wire = ToGrpcStatus(absl::Status(code, "why"));
    EXPECT_EQ(static_cast<int>(wire.error_code()), static_cast<int>(code));
    EXPECT_EQ(wire.error_message(), "why");
    EXPECT_TRUE(wire.error_details().empty());
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace smz
