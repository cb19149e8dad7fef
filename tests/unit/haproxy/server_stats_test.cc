// "show stat" server rows for the status screen, fed with output captured from Debian's HAProxy 2.6.12.
#include <gtest/gtest.h>

#include "haproxy/server_stats.h"

namespace hasg::haproxy {
namespace {

// "show stat -1 4 -1" (columns up to addr; the rest of 2.6.12's 100-odd columns cut here) after: s1 with check,
// set to drain; s2 with check, nothing listening (DOWN); s3 without check, set to maint.
const char* kStat =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,"
    "act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,"
    "check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,"
    "req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,"
    "ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,"
    "check_health,agent_rise,agent_fall,agent_health,addr,\n"
    "app,s1,0,0,1,1,,2,164,1166,,0,,0,0,0,0,DRAIN,1,1,0,1,1,5,1,,1,3,1,,2,,2,2,,2,* L7OK,200,5,0,2,0,0,0,0,,,,2,0,0,,,,"
    ",0,,,0,0,14,22,,,,Layer7 check passed,,2,3,4,,,,127.0.0.1:18992,\n"
    "app,s2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,7,1,0,1,1,12,2,,1,3,2,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,"
    "Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,127.0.0.1:18993,\n"
    "app,s3,0,0,0,1,,3,246,1749,,0,,0,0,0,0,MAINT,1,1,0,,,5,,,1,3,3,,3,,2,3,,3,,,,0,3,0,0,0,0,,,,3,0,0,,,,,0,,,0,0,"
    "9,9,,,,,,,,,,,,127.0.0.1:18992,\n"
    "app,BACKEND,0,0,1,1,200,5,410,2915,0,0,,0,0,0,0,UP,1,1,0,,0,12,0,,1,3,0,,5,,1,2,,2,,,,0,5,0,0,0,0,,,,5,0,0,0,0,"
    "0,0,0,,,0,0,11,16,,,,,,,,,,,,,\n";

TEST(ParseServerStats, CapturedOutput) {
  auto r = parse_server_stats(kStat);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 3u);  // the BACKEND row is not a server
  const auto& s1 = (*r)[0];
  EXPECT_EQ(s1.backend, "app");
  EXPECT_EQ(s1.server, "s1");
  EXPECT_EQ(s1.status, "DRAIN");
  EXPECT_EQ(s1.address, "127.0.0.1:18992");
  EXPECT_EQ(s1.sessions, 1);
  EXPECT_EQ(s1.weight, 1);
  EXPECT_EQ(s1.requests, 2);
  EXPECT_EQ(s1.last_change_s, 5);
  EXPECT_EQ(s1.check_status, "L7OK");  // "* L7OK": a check running now, its last result L7OK
  EXPECT_EQ(s1.check_code, "200");
  EXPECT_EQ(s1.check_ms, 5);
  EXPECT_EQ(s1.check_detail, "");
  const auto& s2 = (*r)[1];
  EXPECT_EQ(s2.status, "DOWN");
  EXPECT_EQ(s2.weight, 7);
  EXPECT_EQ(s2.check_status, "L4CON");
  EXPECT_EQ(s2.check_code, "");
  EXPECT_EQ(s2.check_detail, "Connection refused");
  EXPECT_EQ(s2.last_change_s, 12);
  const auto& s3 = (*r)[2];
  EXPECT_EQ(s3.status, "MAINT");
  EXPECT_EQ(s3.check_status, "");
  EXPECT_EQ(s3.check_ms, -1);
  EXPECT_EQ(s3.requests, 3);
}

TEST(ParseServerStats, QuotedFieldsAndTcpMode) {
  // A text field with a comma comes quoted; in TCP mode req_tot is empty and sessions (stot) are the count.
  const char* text =
      "# pxname,svname,scur,stot,status,weight,lastchg,check_status,check_code,check_duration,req_tot,last_chk,addr,\n"
      "db,a,2,40,UP,3,9,L7STS,503,4,,\"HTTP status check returned code <503>, \"\"busy\"\"\",10.0.0.1:5432,\n";
  auto r = parse_server_stats(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].check_detail, "HTTP status check returned code <503>, \"busy\"");
  EXPECT_EQ((*r)[0].requests, 40);
  EXPECT_EQ((*r)[0].address, "10.0.0.1:5432");
}

TEST(ParseServerStats, RefusesWhatIsNotShowStat) {
  EXPECT_FALSE(parse_server_stats("Unknown command.\n").ok());
  EXPECT_FALSE(parse_server_stats("# pxname,svname,scur,status,\napp,s1,x,UP,\n").ok());
  EXPECT_FALSE(parse_server_stats("# pxname,svname,scur,status,\napp,s1\n").ok());
  // Counts are never negative, and an int holds them (the show_stat fuzz target's finding, as for scur).
  EXPECT_FALSE(parse_server_stats("# pxname,svname,scur,status,\napp,s1,-1,UP,\n").ok());
  EXPECT_FALSE(parse_server_stats("# pxname,svname,scur,status,weight\napp,s1,0,UP,4294967297\n").ok());
  EXPECT_TRUE(parse_server_stats("# pxname,svname,scur,status,weight\napp,s1,2147483647,UP,1\n").ok());
}

}  // namespace
}  // namespace hasg::haproxy
