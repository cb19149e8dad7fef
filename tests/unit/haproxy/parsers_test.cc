// Parsers of HAProxy's answers, fed with outputs captured from Debian's HAProxy 2.6.12.
#include <gtest/gtest.h>

#include "haproxy/load_sampler.h"
#include "haproxy/master_client.h"
#include "haproxy/runtime_client.h"
#include "haproxy/ssl_state.h"
#include "haproxy/unix_socket.h"

namespace hasg::haproxy {
namespace {

using core::AdminState;

// "show servers state be" after: s1 static (set to drain), s2 static with check (down: nothing listens), d1 added
// dynamically (still in maintenance), d2 dynamic set ready, s3 "disabled" in the config, v6 added as [::1]:18001.
const char* kServersState = R"(1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 be 1 s1 127.0.0.1 2 8 7 7 0 1 0 4 0 0 0 0 - 18081 - 0 0 - - 0
3 be 2 s2 127.0.0.1 0 0 7 7 12 8 2 0 6 0 0 0 - 18082 - 0 0 - - 0
3 be 3 d1 127.0.0.1 0 1 1 1 3 1 0 0 0 0 0 0 - 18090 - 0 0 - - 0
3 be 4 d2 127.0.0.1 2 0 1 1 0 1 0 0 0 0 0 0 - 18091 - 0 0 - - 0
3 be 5 s3 127.0.0.1 0 5 7 7 12 1 0 0 14 0 0 0 - 18083 - 0 0 - - 0
3 be 6 v6 ::1 0 1 1 1 0 1 0 0 0 0 0 0 - 18001 - 0 0 - - 0
4 other 1 a 127.0.0.2 2 0 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0
)";

TEST(ParseServersState, CapturedOutput) {
  auto r = parse_servers_state(kServersState);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  const auto& be = (*r)[0];
  EXPECT_EQ(be.backend, "be");
  EXPECT_TRUE(be.exists);
  ASSERT_EQ(be.servers.size(), 6u);
  // Sorted by name: d1 d2 s1 s2 s3 v6.
  EXPECT_EQ(be.servers[0], (core::ActualServer{"d1", "127.0.0.1", 18090, AdminState::Maint, false, 0, false, false, 3}));
  EXPECT_EQ(be.servers[1], (core::ActualServer{"d2", "127.0.0.1", 18091, AdminState::Ready, true, 0, false, false, 4}));
  EXPECT_EQ(be.servers[2], (core::ActualServer{"s1", "127.0.0.1", 18081, AdminState::Drain, true, 0, false, false, 1}));
  // s2: checks enabled (check_state 6), last one failed (result 2). s3: paused by maintenance (check_state 14).
  EXPECT_EQ(be.servers[3], (core::ActualServer{"s2", "127.0.0.1", 18082, AdminState::Ready, false, 0, true, false, 2}));
  EXPECT_EQ(be.servers[4], (core::ActualServer{"s3", "127.0.0.1", 18083, AdminState::Maint, false, 0, false, false, 5}));
  EXPECT_EQ(be.servers[5], (core::ActualServer{"v6", "::1", 18001, AdminState::Maint, false, 0, false, false, 6}));
  EXPECT_EQ((*r)[1].backend, "other");
  ASSERT_EQ((*r)[1].servers.size(), 1u);
  EXPECT_EQ((*r)[1].servers[0].address, "127.0.0.2");
}

// Seen on 2.6.12 for dynamic servers added with "check" (option httpchk): n0 just added (checks configured, not
// enabled); n1 after "enable health" and "state drain", before its first check (op_state 2 already: not a pass);
// n2 in drain after a passed check (L7OK); n3 after a failed one (L4CON, closed port); n4 set to maint after
// passing (check paused, result stale).
TEST(ParseServersState, LastCheckResult) {
  auto r = parse_servers_state(
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
      "srv_check_addr srv_agent_addr srv_agent_port\n"
      "3 be 1 n0 127.0.0.1 0 1 1 1 0 1 0 0 2 0 0 0 - 18081 - 0 0 - - 0\n"
      "3 be 2 n1 127.0.0.1 2 8 1 1 0 1 0 2 6 0 0 0 - 18083 - 0 0 - - 0\n"
      "3 be 3 n2 127.0.0.1 2 8 1 1 0 15 3 4 6 0 0 0 - 18083 - 0 0 - - 0\n"
      "3 be 4 n3 127.0.0.1 0 1 1 1 14 8 2 0 6 0 0 0 - 18097 - 0 0 - - 0\n"
      "3 be 5 n4 127.0.0.1 0 1 1 1 14 15 3 0 14 0 0 0 - 18083 - 0 0 - - 0\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  const auto& s = (*r)[0].servers;
  ASSERT_EQ(s.size(), 5u);
  EXPECT_FALSE(s[0].check_enabled);
  EXPECT_FALSE(s[0].check_passed);
  EXPECT_TRUE(s[1].check_enabled);
  EXPECT_FALSE(s[1].check_passed);
  EXPECT_TRUE(s[1].up);
  EXPECT_EQ(s[1].admin, AdminState::Drain);
  EXPECT_TRUE(s[2].check_enabled);
  EXPECT_TRUE(s[2].check_passed);
  EXPECT_TRUE(s[3].check_enabled);
  EXPECT_FALSE(s[3].check_passed);
  EXPECT_FALSE(s[4].check_enabled);
  EXPECT_FALSE(s[4].check_passed);
}

// 2.6.12 after "add server be/i-a 127.0.0.1:18081 id 123456" (balance uri, hash-type consistent): srv_id is the
// id given.
TEST(ParseServersState, ReadsTheServerId) {
  auto r = parse_servers_state(
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
      "srv_check_addr srv_agent_addr srv_agent_port\n"
      "3 be 123456 i-a 127.0.0.1 2 0 1 1 0 1 0 0 0 0 0 0 - 18081 - 0 0 - - 0\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  ASSERT_EQ((*r)[0].servers.size(), 1u);
  EXPECT_EQ((*r)[0].servers[0].id, 123456);
  auto bad = parse_servers_state(
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_port\n3 be x s1 127.0.0.1 2 0 80\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("srv_id"), std::string::npos) << bad.error().message;
}

TEST(ParseServersState, EmptyBackendHasHeaderOnly) {
  auto r = parse_servers_state(
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
      "srv_check_addr srv_agent_addr srv_agent_port\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->empty());
}

TEST(ParseServersState, RejectsOtherAnswers) {
  EXPECT_FALSE(parse_servers_state("Can't find backend.").ok());
  EXPECT_FALSE(parse_servers_state("").ok());
  EXPECT_FALSE(parse_servers_state("2\n# be_id be_name\n").ok());
  auto bad = parse_servers_state(
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_port\n3 be 1 s1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("malformed"), std::string::npos);
}

// Found by the servers_state fuzz target (fuzz/regressions/servers_state/port-out-of-range): a port HAProxy never
// prints (130880, -1) was taken as it came, so the planner compared the desired servers with a port no server has.
TEST(ParseServersState, PortsOutOfRangeAreMalformed) {
  const std::string head =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_port\n";
  for (const char* port : {"130880", "-1", "65536"}) {
    auto r = parse_servers_state(head + "3 be 1 s1 127.0.0.1 2 0 " + port + "\n");
    ASSERT_FALSE(r.ok()) << port;
    EXPECT_NE(r.error().message.find("malformed line"), std::string::npos) << r.error().message;
  }
  auto edge = parse_servers_state(head + "3 be 1 s1 127.0.0.1 2 0 65535\n3 be 2 s2 127.0.0.1 2 0 0\n");
  ASSERT_TRUE(edge.ok()) << edge.error().message;
  EXPECT_EQ((*edge)[0].servers[0].port, 65535);
}

// "show stat -1 4 -1" with two requests in flight on s1 (a slow server) and s3 disabled.
const char* kStat = R"(# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,
be,s1,0,0,2,2,,2,0,0,,0,,0,0,0,0,no check,1,1,0,,,2,,,1,3,1,,2,,2,2,,2,,,,0,0,0,0,0,0,,,,0,0,0,,,,,0,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18081,,http,,,,,,,,0,2,0,,,0,,0,0,0,0,0,0,0,2,2,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
be,s3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,,,2,,,1,3,2,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18083,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
fe,FRONTEND,,,0,0,9979,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,0,0,0,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
be,BACKEND,0,0,2,2,998,0,0,0,0,0,,0,0,0,0,UP,8,2,0,,1,15,9,,1,3,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,8,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
)";

TEST(ParseStatSessions, ServerRowsOnlyScurByHeader) {
  auto r = parse_stat_sessions(kStat);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], (std::pair<std::string, std::pair<std::string, int>>{"be", {"s1", 2}}));
  EXPECT_EQ((*r)[1], (std::pair<std::string, std::pair<std::string, int>>{"be", {"s3", 0}}));
}

TEST(ParseStatSessions, ColumnFoundByName) {
  auto r = parse_stat_sessions("# svname,pxname,scur\nx,b,7\nBACKEND,b,9\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].first, "b");
  EXPECT_EQ((*r)[0].second, (std::pair<std::string, int>{"x", 7}));
  EXPECT_FALSE(parse_stat_sessions("Unknown command").ok());
  EXPECT_FALSE(parse_stat_sessions("# pxname,svname\n").ok());
}

// Found by the show_stat fuzz target (fuzz/regressions/show_stat/negative-scur, '0' + the answer): a negative session
// count was taken, and a drain would have looked finished before it was.
TEST(ParseStatSessions, NegativeSessionsAreAnError) {
  auto r = parse_stat_sessions("# pxname,svname,scur\nb,s1,-1\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bad scur"), std::string::npos) << r.error().message;
}

// Bytes of an interactive session: "prompt", "set server be/s1 state ready", "show servers state nope",
// "add server be/d1 ...", "del server be/d1" (refused), then "quit".
TEST(SplitPromptAnswers, CapturedFraming) {
  std::string raw =
      "\n> "
      "\n> "
      "Can't find backend.\n\n> "
      "New server registered.\n\n> "
      "Only servers in maintenance mode can be deleted.\n> ";
  auto r = split_prompt_answers(raw, 4);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, (std::vector<std::string>{"", "Can't find backend.", "New server registered.",
                                          "Only servers in maintenance mode can be deleted."}));
  auto short_read = split_prompt_answers(raw, 5);
  ASSERT_FALSE(short_read.ok());
  EXPECT_NE(short_read.error().message.find("expected 5 answers"), std::string::npos);
  EXPECT_FALSE(split_prompt_answers("Permission denied\n", 1).ok());
}

// Whether `answer` is a success for `command`, judged by the Expect of the Command that commands_for() makes with
// that text (the command must be one of them).
bool is_success_answer(const std::string& command, const std::string& answer) {
  using core::Op;
  using core::OpKind;
  const std::vector<Op> ops{Op{OpKind::Add, "be", "a", "127.0.0.1", 80, "check", ""},
                            Op{OpKind::Add, "be", "a", "127.0.0.1", 80, "", ""},
                            Op{OpKind::Remove, "be", "a", "", 0, "", ""},
                            Op{OpKind::SetAddress, "be", "a", "127.0.0.5", 19000, "", ""}};
  for (const auto& op : ops)
    for (const auto& c : RuntimeClient::commands_for(op))
      if (c.text == command) return c.expect.matches(answer);
  ADD_FAILURE() << "no op makes the command \"" << command << "\"";
  return false;
}

TEST(SuccessAnswers, AsObservedOn2612) {
  EXPECT_TRUE(is_success_answer("add server be/a 127.0.0.1:80", "New server registered.\n"));
  EXPECT_FALSE(is_success_answer("add server be/a 127.0.0.1:80",
                                 "Already exists a server with the same name in backend."));
  EXPECT_TRUE(is_success_answer("del server be/a", "Server deleted."));
  EXPECT_FALSE(is_success_answer("del server be/a", "Only servers in maintenance mode can be deleted."));
  EXPECT_TRUE(is_success_answer("set server be/a state ready", ""));
  EXPECT_FALSE(is_success_answer("set server be/a state ready", "No such server."));
  EXPECT_TRUE(is_success_answer("enable health be/a", ""));
  EXPECT_FALSE(is_success_answer("enable health be/a",
                                 "Health check was not configured on this server, cannot enable."));
  EXPECT_TRUE(is_success_answer("shutdown sessions server be/a", ""));
  EXPECT_TRUE(is_success_answer(
      "set server be/a addr 127.0.0.5 port 19000",
      "IP changed from '127.0.0.1' to '127.0.0.5', port changed from '18091' to '19000' by 'stats socket command'"));
  EXPECT_TRUE(is_success_answer("set server be/a addr 127.0.0.5 port 19000",
                                "no need to change the addr, no need to change the port by 'stats socket command'"));
  EXPECT_FALSE(is_success_answer("set server be/a addr 127.0.0.5 port 19000", "No such server."));
}

TEST(ExpectMatches, EachKind) {
  EXPECT_TRUE(Expect::empty().matches(" \n"));
  EXPECT_FALSE(Expect::empty().matches("No such server."));
  EXPECT_TRUE(Expect::ends_with("Success!").matches("Committing /x.pem.\nSuccess!\n"));
  EXPECT_FALSE(Expect::ends_with("Success!").matches("No ongoing transaction!"));
  auto any = Expect::starts_with_any({"IP changed from", "no need to change the addr"});
  EXPECT_TRUE(any.matches("no need to change the addr, no need to change the port"));
  EXPECT_FALSE(any.matches("No such server."));
  EXPECT_TRUE(Expect::anything().matches("whatever"));
}

Command with_payload(std::string payload) { return Command{"set ssl cert /x.pem", std::move(payload), {}, false}; }

TEST(CheckCommand, FramingRules) {
  EXPECT_TRUE(check_command(Command{"show info", {}, {}, false}).ok());
  for (const char* bad : {"", "  ", "a;b", "a\nb", "a\rb", "set ssl cert x <<", "add map m<<"}) {
    auto st = check_command(Command{bad, {}, {}, false});
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, "InvalidCommand");
  }
  // A payload: ';' and "<<" are plain bytes there; one trailing newline (or CRLF) is allowed.
  EXPECT_TRUE(check_command(with_payload("a;b\nc << d")).ok());
  EXPECT_TRUE(check_command(with_payload("a\nb\n")).ok());
  EXPECT_TRUE(check_command(with_payload("a\r\nb\r\n")).ok());
  // An empty line anywhere would end the payload early and send the rest as commands.
  for (const char* bad : {"a\n\nb", "a\n\n", "\na", "\n", "a\n\r\nb"}) {
    auto st = check_command(with_payload(bad));
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, "InvalidCommand");
    EXPECT_NE(st.error().message.find("empty line"), std::string::npos) << st.error().message;
  }
  EXPECT_NE(check_command(with_payload("-----BEGIN-----\nx\n\n-----BEGIN KEY-----\n")).error().message.find(
                "(line 3)"),
            std::string::npos);
}

TEST(FrameCommand, LineOrPayloadEndedByAnEmptyLine) {
  EXPECT_EQ(frame_command(Command{"show info", {}, {}, false}), "show info\n");
  EXPECT_EQ(frame_command(with_payload("a\nb")), "set ssl cert /x.pem <<\na\nb\n\n");
  EXPECT_EQ(frame_command(with_payload("a\nb\n")), "set ssl cert /x.pem <<\na\nb\n\n");
  EXPECT_EQ(payload_lines(with_payload("a\nb\n")), 2u);
  EXPECT_EQ(payload_lines(with_payload("a")), 1u);
  EXPECT_EQ(payload_lines(Command{"show info", {}, {}, false}), 0u);
}

// 2.6.12 in prompt mode, "set ssl cert F <<" with a 2-line payload: "+ " after the command line and after each
// payload line, then the answer.
TEST(SplitPromptAnswers, PayloadPromptsStripped) {
  std::string raw = "\n> + + + Transaction created for certificate /x.pem!\n\n> Committing /x.pem.\nSuccess!\n\n> ";
  auto r = split_prompt_answers(raw, 2);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(strip_payload_prompts((*r)[0], 3), "Transaction created for certificate /x.pem!");
  EXPECT_EQ((*r)[1], "Committing /x.pem.\nSuccess!");
  // Never more than asked for: an answer may itself start with "+ ".
  EXPECT_EQ(strip_payload_prompts("+ + + x", 2), "+ x");
  EXPECT_EQ(strip_payload_prompts("x", 2), "x");
}

// "show proc" on the master CLI, captured: fresh; after a reload with an old worker still finishing a request;
// after a failed reload (the current worker's own count shows 1, yet it is the current generation).
TEST(ParseShowProc, Fresh) {
  auto r = parse_show_proc(
      "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
      "6426            master          0 [failed: 0]   0d00h00m08s     2.6.12-1+deb12u4\n"
      "# workers\n"
      "6427            worker          0               0d00h00m08s     2.6.12-1+deb12u4\n"
      "# programs\n"
      "\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, (ProcInfo{6426, 0, 0, {6427}, {}}));
}

// Counts are never negative, nor pids 0 or below (the show_proc fuzz target found "-1" taken as a reload count).
TEST(ParseShowProc, RefusesNegativeCountsAndPids) {
  const std::string head = "#<PID>          <type>          <reloads>       <uptime>        <version>\n";
  EXPECT_FALSE(parse_show_proc(head + "6426            master          -1 [failed: 0]   0d00h00m08s     2.6.12\n").ok());
  EXPECT_FALSE(parse_show_proc(head + "6426            master          1 [failed: -2]   0d00h00m08s     2.6.12\n").ok());
  EXPECT_FALSE(parse_show_proc(head + "-5              master          1 [failed: 0]   0d00h00m08s     2.6.12\n").ok())
      << "a master line with a pid below 1 is no master line";
  auto r = parse_show_proc(head + "6426            master          1 [failed: 0]   0d00h00m08s     2.6.12\n# workers\n"
                                  "0               worker          0               0d00h00m08s     2.6.12\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->current_worker_pids.empty());
}

TEST(ParseShowProc, OldWorkersAreNotCurrent) {
  auto r = parse_show_proc(
      "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
      "6426            master          2 [failed: 0]   0d00h00m15s     2.6.12-1+deb12u4\n"
      "# workers\n"
      "6745            worker          0               0d00h00m00s     2.6.12-1+deb12u4\n"
      "# old workers\n"
      "6644            worker          1               0d00h00m07s     2.6.12-1+deb12u4\n"
      "# programs\n"
      "\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, (ProcInfo{6426, 2, 0, {6745}, {6644}}));
}

TEST(ParseShowProc, AfterFailedReload) {
  auto r = parse_show_proc(
      "#<PID>          <type>          <reloads>       <uptime>        <version>      \n"
      "6426            master          3 [failed: 1]   0d00h00m16s     2.6.12-1+deb12u4\n"
      "# workers\n"
      "6745            worker          1               0d00h00m01s     2.6.12-1+deb12u4\n"
      "# old workers\n"
      "6644            worker          2               0d00h00m08s     2.6.12-1+deb12u4\n"
      "# programs\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, (ProcInfo{6426, 3, 1, {6745}, {6644}}));
}

TEST(ParseShowProc, NoMasterLineIsAnError) {
  EXPECT_FALSE(parse_show_proc("").ok());
  EXPECT_FALSE(parse_show_proc("Unknown command.\n").ok());
}

// Captured from 2.6.12 ("show stat -1 2 -1" through the master's "@1"), trimmed to the columns' header and rows:
// backend rows carry req_tot, hrsp_5xx, qcur and rtime; other rows are skipped.
TEST(ParseBackendCounters, BackendRowsOnly) {
  auto r = parse_backend_counters(
      "# pxname,svname,qcur,qmax,scur,hrsp_5xx,req_tot,rtime,\n"
      "web,FRONTEND,,,3,0,120,,\n"
      "app,BACKEND,2,9,4,3,5300,17,\n"
      "app,i-0abc,0,0,1,0,,5,\n"
      "stats,BACKEND,0,0,0,0,,0,\n"
      "\n");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(r->at("app"), (core::BackendCounters{5300, 3, 2, 17}));
  EXPECT_EQ(r->at("stats"), (core::BackendCounters{0, 0, 0, 0})) << "empty fields (a TCP backend) are 0";
}

TEST(ParseBackendCounters, MissingColumnsAndBadNumbersAreErrors) {
  EXPECT_FALSE(parse_backend_counters("# pxname,svname,qcur\napp,BACKEND,1\n").ok());
  EXPECT_FALSE(parse_backend_counters("Unknown command\n").ok());
  EXPECT_FALSE(parse_backend_counters("# pxname,svname,qcur,hrsp_5xx,req_tot,rtime\napp,BACKEND,x,0,1,1\n").ok());
  EXPECT_FALSE(parse_backend_counters("# pxname,svname,qcur,hrsp_5xx,req_tot,rtime\napp,BACKEND,1\n").ok());
}

TEST(ParseInfoPid, ThePidLine) {
  auto r = parse_info_pid("Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nPid: 6745\nProcess_num: 1\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 6745);
  EXPECT_FALSE(parse_info_pid("Name: HAProxy\n").ok());
}

}  // namespace
}  // namespace hasg::haproxy

// TLS answers as Debian's 2.6.12 prints them.
namespace hasg::haproxy {
namespace {

TEST(SslState, CertificateNamesSkipATransaction) {
  EXPECT_EQ(parse_ssl_cert_names("# transaction\n*/c/side.pem\n# filename\n/c/l1.pem\n/c/side.pem\n/d/d1.pem\n"),
            (std::vector<std::string>{"/c/l1.pem", "/c/side.pem", "/d/d1.pem"}));
  EXPECT_TRUE(parse_ssl_cert_names("# filename\n").empty());
}

TEST(SslState, CertificateDetail) {
  auto d = parse_ssl_cert_detail("Filename: /c/site.pem\nStatus: Used\nSerial: 253E\n"
                                 "notBefore: Dec  1 15:42:27 2026 GMT\nnotAfter: Dec  3 15:42:27 2026 GMT\n"
                                 "Subject Alternative Name: \nAlgorithm: RSA2048\n"
                                 "SHA1 FingerPrint: 0DA24BDE25214565B63F60B5E4E96B583B5BF1C8\n"
                                 "Subject: /CN=one.test\nIssuer: /CN=one.test\nOCSP Response Key: \n");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->sha1, "0DA24BDE25214565B63F60B5E4E96B583B5BF1C8");
  EXPECT_EQ(d->not_after, 1796312547);  // date -d "Dec  3 15:42:27 2026 GMT" +%s
  auto unknown = parse_ssl_cert_detail("Can't display the certificate: Not found or the certificate is a bundle!\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("Not found"), std::string::npos);
}

TEST(SslState, CrtLists) {
  EXPECT_EQ(parse_crt_list_names("/c/list.txt\n/d\n"), (std::vector<std::string>{"/c/list.txt", "/d"}));
  EXPECT_EQ(parse_crt_list_certs("# /c/list.txt\n/c/l1.pem [alpn h2,http/1.1 ] l1.test\n/c/l2.pem\n"),
            (std::vector<std::string>{"/c/l1.pem", "/c/l2.pem"}));
}

TEST(SslState, AddCommands) {
  auto cmds = ssl_cert_add("/c/list.txt", "/c/n.pem", "PEM\n", "/c/n.pem [alpn h2] n.test", false);
  std::vector<std::string> texts;
  for (const auto& c : cmds) texts.push_back(c.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"new ssl cert /c/n.pem", "set ssl cert /c/n.pem",
                                             "commit ssl cert /c/n.pem", "add ssl crt-list /c/list.txt"}));
  EXPECT_EQ(cmds.back().payload, "/c/n.pem [alpn h2] n.test\n");
  EXPECT_TRUE(cmds.back().expect.matches("Inserting certificate '/c/n.pem' in crt-list '/c/list.txt'.\nSuccess!"));
  EXPECT_FALSE(cmds.back().expect.matches("Can't edit the crt-list: certificate '/c/n.pem' does not exist!"));
  EXPECT_TRUE(cmds.front().expect.matches("New empty certificate store '/c/n.pem'!"));
  EXPECT_FALSE(cmds.front().expect.matches("Certificate '/c/n.pem' already exists!"));
  EXPECT_EQ(ssl_cert_add("/c/list.txt", "/c/n.pem", "PEM\n", "/c/n.pem", true).size(), 1u);
}

}  // namespace
}  // namespace hasg::haproxy
