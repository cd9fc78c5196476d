#include "common/server/raw_messages.h"

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/support/slice.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

TEST(RawMessagesTest, ASharedAnswerIsSentAsItIsAndReleasedAfter) {
  auto page =
      std::make_shared<const std::string>(std::string("\x0a\x03kim\x00z", 7));
  {
    grpc::ByteBuffer response;
    ShareAsResponse(page, &response);
    EXPECT_EQ(page.use_count(), 2);  // the buffer's own reference
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(response.Dump(&slices).ok());
    ASSERT_EQ(slices.size(), 1u);
    // Not a copy: the very bytes kept.
    EXPECT_EQ(static_cast<const void*>(slices[0].begin()),
              static_cast<const void*>(page->data()));
    std::string read;
    ASSERT_TRUE(ReadRawMessage(response, &read));
    EXPECT_EQ(read, *page);
  }
  EXPECT_EQ(page.use_count(), 1);
}

TEST(RawMessagesTest, AMessageInPiecesIsReadWhole) {
  // Longer than the 23 bytes gRPC keeps inside a slice (and merges), so the
  // buffer holds three slices.
  const std::string a(40, 'a'), b(30, 'b'), c(50, 'c');
  const grpc::Slice pieces[] = {grpc::Slice(a), grpc::Slice(b), grpc::Slice(c)};
  grpc::ByteBuffer message(pieces, 3);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(message.Dump(&slices).ok());
  ASSERT_EQ(slices.size(), 3u);
  std::string read = "left over";
  ASSERT_TRUE(ReadRawMessage(message, &read));
  EXPECT_EQ(read, a + b + c);
}

TEST(RawMessagesTest, NoBytesIsTheEmptyMessageAndNoBufferIsNone) {
  grpc::ByteBuffer empty;
  ShareAsResponse(std::make_shared<const std::string>(), &empty);
  std::string read = "left over";
  ASSERT_TRUE(ReadRawMessage(empty, &read));
  EXPECT_EQ(read, "");
  EXPECT_FALSE(ReadRawMessage(grpc::ByteBuffer(), &read));
}

}  // namespace
}  // namespace smz
