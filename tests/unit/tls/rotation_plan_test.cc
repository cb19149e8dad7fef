// The rotation decision as values: what HAProxy serves against the files on disk.
#include "tls/rotation_plan.h"

#include <gtest/gtest.h>

namespace hasg::tls {
namespace {

DiskCert valid(const std::string& sha1, const std::string& content) {
  DiskCert d;
  d.present = true;
  d.content = content;
  d.payload = "PEM " + content + "\n";
  d.info = CertificateInfo{sha1, "/CN=" + content, 0};
  return d;
}

DiskCert broken(const std::string& content, const std::string& why) {
  DiskCert d;
  d.present = true;
  d.content = content;
  d.error = why;
  return d;
}

// A crt-list (or directory) on disk listing these certificates, without options.
DiskList listing(const std::vector<std::string>& certs) {
  DiskList l{true, {}, ""};
  for (const auto& c : certs) l.entries.push_back({c, c, static_cast<int>(l.entries.size()) + 1});
  return l;
}

// The plan's one action (a failure, and an empty action, when it has another number of them).
CertAction only_action(const CertPlan& plan) {
  EXPECT_EQ(plan.actions.size(), 1u);
  return plan.actions.size() == 1 ? plan.actions[0] : CertAction{};
}

CertAction update(const std::string& file, const DiskCert& d, const std::string& old_sha1) {
  return CertAction{CertActionKind::Update, file, "", "", false, d.payload, d.content,
                    d.info->subject.substr(1) + " (SHA-1 " + d.info->sha1 + ") replaces SHA-1 " + old_sha1};
}

TEST(RotationPlan, NothingWhenDiskMatchesWhatIsServed) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}}, {}};
  DiskTls disk{{{"/c/a.pem", valid("AA", "a1")}}, {}};
  EXPECT_EQ(plan_certificates(served, disk, {}), CertPlan{});
}

TEST(RotationPlan, ChangedFileIsPushed) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}, {"/c/b.pem", {"BB", 10}}}, {}};
  DiskTls disk{{{"/c/a.pem", valid("A2", "a2")}, {"/c/b.pem", valid("BB", "b1")}}, {}};
  auto plan = plan_certificates(served, disk, {});
  EXPECT_EQ(plan.actions, std::vector<CertAction>{update("/c/a.pem", disk.certs["/c/a.pem"], "AA")});
  EXPECT_TRUE(plan.refused.empty());
}

TEST(RotationPlan, BrokenFileIsRefusedOnceAndKeptInTheBook) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}}, {}};
  DiskTls disk{{{"/c/a.pem", broken("x1", "the private key does not match the certificate's public key")}}, {}};
  auto first = plan_certificates(served, disk, {});
  ASSERT_EQ(first.actions.size(), 1u);
  EXPECT_EQ(first.actions[0].kind, CertActionKind::Refuse);
  EXPECT_EQ(first.actions[0].reason, "the private key does not match the certificate's public key");
  EXPECT_EQ(first.refused, (RefusedBook{{"/c/a.pem", "x1"}}));
  // The same bytes again: no action, still booked.
  auto again = plan_certificates(served, disk, first.refused);
  EXPECT_TRUE(again.actions.empty());
  EXPECT_EQ(again.refused, first.refused);
  // Other broken bytes are judged again; fixed bytes leave the book and are pushed.
  disk.certs["/c/a.pem"] = broken("x2", "no PEM certificate in it");
  EXPECT_EQ(plan_certificates(served, disk, first.refused).actions.size(), 1u);
  disk.certs["/c/a.pem"] = valid("A3", "a3");
  auto fixed = plan_certificates(served, disk, first.refused);
  EXPECT_EQ(fixed.actions, std::vector<CertAction>{update("/c/a.pem", disk.certs["/c/a.pem"], "AA")});
  EXPECT_TRUE(fixed.refused.empty());
}

TEST(RotationPlan, MissingFileIsRefusedNotPushed) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}}, {}};
  DiskCert gone;
  gone.error = "the file is missing";
  auto plan = plan_certificates(served, DiskTls{{{"/c/a.pem", gone}}, {}}, {});
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].kind, CertActionKind::Refuse);
  EXPECT_EQ(plan.actions[0].reason, "the file is missing");
}

TEST(RotationPlan, BytesHaproxyRefusedAreNotRetried) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}}, {}};
  DiskTls disk{{{"/c/a.pem", valid("A2", "a2")}}, {}};
  auto plan = plan_certificates(served, disk, RefusedBook{{"/c/a.pem", "a2"}});
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(plan.refused, (RefusedBook{{"/c/a.pem", "a2"}}));
}

TEST(RotationPlan, NewCrtListLineIsAddedWithANewCertificate) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}}, {{"/c/list", {"/c/a.pem"}}}};
  DiskTls disk;
  disk.certs["/c/a.pem"] = valid("AA", "a1");
  disk.certs["/c/b.pem"] = valid("BB", "b1");
  disk.lists["/c/list"] = DiskList{true,
                                   {{"/c/a.pem", "/c/a.pem", 1}, {"/c/b.pem", "/c/b.pem [alpn h2] b.test", 2}},
                                   ""};
  auto plan = plan_certificates(served, disk, {});
  ASSERT_EQ(plan.actions.size(), 1u);
  const auto& a = plan.actions[0];
  EXPECT_EQ(a.kind, CertActionKind::Add);
  EXPECT_EQ(a.file, "/c/b.pem");
  EXPECT_EQ(a.list, "/c/list");
  EXPECT_EQ(a.line, "/c/b.pem [alpn h2] b.test");
  EXPECT_FALSE(a.loaded);
  EXPECT_EQ(a.payload, "PEM b1\n");
}

TEST(RotationPlan, CertificateLoadedElsewhereIsOnlyAddedToTheList) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}}, {{"/c/list", {}}}};
  DiskTls disk;
  disk.certs["/c/a.pem"] = valid("AA", "a1");
  disk.lists["/c/list"] = listing({"/c/a.pem"});
  auto add = only_action(plan_certificates(served, disk, {}));
  EXPECT_EQ(add.kind, CertActionKind::Add);
  EXPECT_TRUE(add.loaded);
}

TEST(RotationPlan, BrokenNewLineIsRefusedAndNotAdded) {
  ServedTls served{{}, {{"/c/dir", {}}}};
  DiskTls disk;
  disk.certs["/c/dir/n.pem"] = broken("n1", "no private key: neither in the file nor in a .key file beside it");
  disk.lists["/c/dir"] = listing({"/c/dir/n.pem"});
  auto refuse = only_action(plan_certificates(served, disk, {}));
  EXPECT_EQ(refuse.kind, CertActionKind::Refuse);
  EXPECT_EQ(refuse.file, "/c/dir/n.pem");
}

TEST(RotationPlan, LineGoneFromAListNeedsAReload) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}, {"/c/b.pem", {"BB", 10}}}, {{"/c/list", {"/c/a.pem", "/c/b.pem"}}}};
  DiskTls disk;
  disk.certs["/c/a.pem"] = valid("AA", "a1");
  disk.certs["/c/b.pem"] = valid("BB", "b1");
  disk.lists["/c/list"] = listing({"/c/a.pem"});
  auto reload = only_action(plan_certificates(served, disk, {}));
  EXPECT_EQ(reload.kind, CertActionKind::Reload);
  EXPECT_EQ(reload.file, "/c/list");
  EXPECT_EQ(reload.reason, "/c/list no longer lists /c/b.pem");
}

TEST(RotationPlan, InvalidListIsRefusedOnce) {
  ServedTls served{{}, {{"/c/list", {}}}};
  DiskTls disk;
  disk.lists["/c/list"] = DiskList{true, {}, "/c/list:3: the bind options' '[' has no closing ']'"};
  auto plan = plan_certificates(served, disk, {});
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].kind, CertActionKind::Refuse);
  EXPECT_TRUE(plan_certificates(served, disk, plan.refused).actions.empty());
}

TEST(RotationPlan, CertificatesToReadIncludeNewListLines) {
  ServedTls served{{{"/c/a.pem", {"AA", 10}}}, {{"/c/list", {"/c/a.pem"}}}};
  std::map<std::string, DiskList> lists{{"/c/list", listing({"/c/n.pem"})}};
  EXPECT_EQ(certificates_to_read(served, lists), (std::set<std::string>{"/c/a.pem", "/c/n.pem"}));
}

}  // namespace
}  // namespace hasg::tls
