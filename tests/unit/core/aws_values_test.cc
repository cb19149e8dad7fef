// AWS's formats for the values discovery passes on to HAProxy: what is taken, and the hostile values refused.
#include "core/aws_values.h"

#include <gtest/gtest.h>

namespace hasg::core {
namespace {

TEST(AwsValues, InstanceIdsAsEc2IssuesThem) {
  EXPECT_TRUE(is_instance_id("i-0123456789abcdef0"));  // 17 hex digits (since 2016)
  EXPECT_TRUE(is_instance_id("i-1a2b3c4d"));           // 8 (older instances)
  for (const char* bad : {"", "i-", "i-1", "i-0123456789abcdef", "i-0123456789abcdef01", "i-0123456789ABCDEF0",
                          "i-0123456789abcdefg", "x-0123456789abcdef0", "i-1a2b3c4d ", " i-1a2b3c4d", "i-1a2b3c4d\n",
                          "i-1a2b;c4d", "i-1a2b#c4d", "i-1a2b\tc4d"})
    EXPECT_FALSE(is_instance_id(bad)) << "'" << bad << "'";
  EXPECT_FALSE(is_instance_id(std::string_view("i-1a2b3c4d\0", 11)));
}

TEST(AwsValues, AddressesParseOrAreRefused) {
  EXPECT_TRUE(is_ipv4_address("127.0.0.2"));
  EXPECT_TRUE(is_ipv6_address("::1"));
  EXPECT_TRUE(is_ipv6_address("fd00:ec2::254"));
  for (const char* bad : {"", "127.0.0", "127.0.0.256", "127.0.0.1 ", "127.0.0.1\nserver x 127.0.0.3:80",
                          "127.0.0.1#", "127.0.0.1;disable server app/x", "localhost", "::1", "0x7f.0.0.1"})
    EXPECT_FALSE(is_ipv4_address(bad)) << "'" << bad << "'";
  for (const char* bad : {"", "::1 ", "[::1]", "::1%eth0", "::1/64", "::1\n", "127.0.0.1", ":::1", "::1;"})
    EXPECT_FALSE(is_ipv6_address(bad)) << "'" << bad << "'";
  EXPECT_FALSE(is_ipv4_address(std::string_view("127.0.0.1\0x", 11)));
  EXPECT_FALSE(is_ipv6_address(std::string(100, '1')));
}

TEST(AwsValues, OneLineAllowsSpacesButNoControlCharacters) {
  EXPECT_TRUE(is_one_line("my app group"));  // Auto Scaling allows spaces in group names
  EXPECT_TRUE(is_one_line("gruppe-ä"));
  for (const char* bad : {"a\nb", "a\rb", "a\tb", "a\x7f", "a\x01"}) EXPECT_FALSE(is_one_line(bad)) << bad;
}

TEST(AwsValues, PrintableKeepsALogLineOneLine) {
  EXPECT_EQ(printable("i-1\nserver x"), "i-1\\x0aserver x");
  EXPECT_EQ(printable("a\\b\x7f"), "a\\x5cb\\x7f");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  EXPECT_EQ(printable("grüße"), "grüße");
}

}  // namespace
}  // namespace hasg::core
