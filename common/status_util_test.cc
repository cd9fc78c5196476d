#include "common/status_util.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

TEST(StatusJsonTest, IsGoogleRpcStatusWithBadRequest) {
  FieldViolations violations;
  violations.Add("partner.name", "is \"required\"");
  violations.Add("year", "is not a number");
  EXPECT_EQ(
      StatusToJson(violations.ToStatus()),
      absl::StrCat(
          "{\"code\":3,\"message\":\"",
          "invalid request: partner.name: is \\\"required\\\"; year: is not "
          "a number\",\"details\":[{\"@type\":\"type.googleapis.com/"
          "google.rpc.BadRequest\",\"field_violations\":[{\"field\":"
          "\"partner.name\",\"description\":\"is \\\"required\\\"\"},"
          "{\"field\":\"year\",\"description\":\"is not a number\"}]}]}"));
  EXPECT_EQ(StatusToJson(absl::NotFoundError("no partner 7")),
            "{\"code\":5,\"message\":\"no partner 7\"}");
  // Text that is no UTF-8 is made valid before it is printed.
  EXPECT_EQ(StatusToJson(absl::InternalError("bad \xff")),
            "{\"code\":13,\"message\":\"bad ?\"}");
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

TEST(FieldViolationsTest, ManyAndHugeViolationsStayWithinTrailerLimits) {
  // A CSV import with 500 bad lines, each quoting a megabyte of input.
  const std::string huge(1 << 20, 'x');
  FieldViolations violations;
  for (int i = 0; i < 500; ++i) {
    violations.Add(absl::StrCat("csv line ", i + 2, ": ", huge),
                   absl::StrCat("'", huge, "' is not a nationality"));
  }
  const absl::Status status = violations.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LE(status.message().size(), kMaxMessageBytes);
  EXPECT_THAT(status.message(), HasSubstr("500 problems, the first 20 listed"));
  const std::vector<FieldViolation> listed = GetFieldViolations(status);
  ASSERT_EQ(listed.size(), kMaxDetailedViolations);
  EXPECT_LE(listed[0].field.size(), kMaxFieldBytes);
  EXPECT_LE(listed[0].description.size(), kMaxDescriptionBytes);
  const grpc::Status wire = ToGrpcStatus(status);
  // grpc-message is percent-encoded (at most 3 bytes a byte) and the details
  // base64-encoded (4 bytes per 3): both well inside gRPC's 8 KiB.
  EXPECT_LT(
      3 * wire.error_message().size() + wire.error_details().size() * 4 / 3,
      7000u);
  EXPECT_FALSE(GetFieldViolations(FromGrpcStatus(wire)).empty());
}

TEST(StatusMappingTest, LongMessagesAreCut) {
  const grpc::Status wire = ToGrpcStatus(absl::NotFoundError(
      absl::StrCat("no partner named '", std::string(1 << 20, 'x'), "'")));
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LE(wire.error_message().size(), kMaxMessageBytes);
}

}  // namespace
}  // namespace smz
