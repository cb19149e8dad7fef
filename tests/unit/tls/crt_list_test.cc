#include "tls/crt_list.h"

#include <gtest/gtest.h>

namespace hasg::tls {
namespace {

TEST(CrtList, CrtBaseIsTheGlobalSectionsLast) {
  EXPECT_EQ(crt_base_of("global\n    crt-base /etc/ssl/private\n    ca-base /etc/ssl/certs\n"
                        "defaults\n    mode http\n"),
            "/etc/ssl/private");
  EXPECT_EQ(crt_base_of("defaults\n  crt-base /nope\nglobal\n  # crt-base /comment\n"), "");
  EXPECT_EQ(crt_base_of("global\n crt-base /a\nglobal\n crt-base /b\n"), "/b");
}

TEST(CrtList, RelativePathsGetTheCrtBase) {
  EXPECT_EQ(resolve_crt_path("site.pem", "/etc/ssl/private"), "/etc/ssl/private/site.pem");
  EXPECT_EQ(resolve_crt_path("site.pem", "/etc/ssl/private/"), "/etc/ssl/private/site.pem");
  EXPECT_EQ(resolve_crt_path("/abs/site.pem", "/etc/ssl/private"), "/abs/site.pem");
  EXPECT_EQ(resolve_crt_path("site.pem", ""), "site.pem");
}

TEST(CrtList, LinesAreParsedAsHaproxyReadsThem) {
  auto entries = parse_crt_list("# certificates\n\n"
                                "a.pem\n"
                                "  /x/b.pem [alpn h2,http/1.1 ssl-min-ver TLSv1.2] b.test !c.b.test\n"
                                "c.pem *.c.test\n",
                                "/etc/ssl/private", "list.txt");
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  EXPECT_EQ(*entries,
            (std::vector<CrtListEntry>{
                {"/etc/ssl/private/a.pem", "/etc/ssl/private/a.pem", 3},
                {"/x/b.pem", "/x/b.pem [alpn h2,http/1.1 ssl-min-ver TLSv1.2] b.test !c.b.test", 4},
                {"/etc/ssl/private/c.pem", "/etc/ssl/private/c.pem *.c.test", 5}}));
}

TEST(CrtList, UnclosedOptionsNameFileAndLine) {
  auto entries = parse_crt_list("a.pem\nb.pem [alpn h2 b.test\n", "", "/etc/haproxy/list.txt");
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.error().code, "CrtListInvalid");
  EXPECT_NE(entries.error().message.find("/etc/haproxy/list.txt:2"), std::string::npos) << entries.error().message;
}

TEST(CrtList, DirectoryFilterSkipsExtraFilesAndHiddenOnes) {
  EXPECT_TRUE(loaded_from_directory("site.pem"));
  EXPECT_TRUE(loaded_from_directory("site"));
  EXPECT_TRUE(loaded_from_directory("site.crt"));
  for (const char* skipped : {"site.pem.key", "site.pem.ocsp", "site.pem.issuer", "site.pem.sctl", ".site.pem.swp"})
    EXPECT_FALSE(loaded_from_directory(skipped)) << skipped;
}

}  // namespace
}  // namespace hasg::tls
