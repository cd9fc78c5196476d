#include "common/pagination.h"

#include "gtest/gtest.h"

namespace smz {
namespace {

TEST(PaginationTest, PageSizeDefaultsClampsAndRejectsNegative) {
  FieldViolations violations;
  EXPECT_EQ(ResolvePageSize(0, &violations), kDefaultPageSize);
  EXPECT_EQ(ResolvePageSize(7, &violations), 7);
  EXPECT_EQ(ResolvePageSize(100000, &violations), kMaxPageSize);
  EXPECT_TRUE(violations.empty());
  ResolvePageSize(-1, &violations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations.violations()[0].field, "page_size");
}

TEST(PaginationTest, TokenRoundTrips) {
  const uint64_t query = QueryFingerprint({"kind=1", "order=name"});
  PageCursor cursor;
  cursor.last_key = "김안과병원|with|separators";
  cursor.last_id = 42;
  absl::StatusOr<PageCursor> decoded =
      DecodePageToken(EncodePageToken(query, cursor), query);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->has_position);
  EXPECT_EQ(decoded->last_key, cursor.last_key);
  EXPECT_EQ(decoded->last_id, 42);
}

TEST(PaginationTest, EmptyTokenIsFirstPage) {
  absl::StatusOr<PageCursor> decoded = DecodePageToken("", 1);
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->has_position);
}

TEST(PaginationTest, RejectsGarbageAndTokensOfOtherQueries) {
  EXPECT_EQ(DecodePageToken("not a token!", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string token = EncodePageToken(QueryFingerprint({"a"}), {});
  EXPECT_EQ(DecodePageToken(token, QueryFingerprint({"b"})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(QueryFingerprint({"ab", "c"}), QueryFingerprint({"a", "bc"}));
  PageCursor forged;
  forged.last_id = -50;  // would become a negative OFFSET
  EXPECT_EQ(DecodePageToken(EncodePageToken(7, forged), 7).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace smz
