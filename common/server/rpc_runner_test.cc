#include "common/server/rpc_runner.h"

#include <string>

#include "gtest/gtest.h"

namespace smz {
namespace {

// What the HTTP edge says about its client reaches the log only when it is
// an IP address: nothing else a direct caller might send.
TEST(ClientAddressTest, OnlyIpAddressesAreKept) {
  EXPECT_EQ(CheckedClientAddress("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(CheckedClientAddress("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(CheckedClientAddress(""), "");
  for (const std::string& bad :
       {std::string("127.0.0.1\n{\"level\":\"error\"}"),
        std::string("evil.example"), std::string("1.2.3.4, 5.6.7.8"),
        std::string(46, '1'), std::string("\xff")}) {
    EXPECT_EQ(CheckedClientAddress(bad), "") << bad;
  }
}

}  // namespace
}  // namespace smz
