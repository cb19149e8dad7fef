// RuntimeClient over a fake transport: the commands each op becomes, answer checking, batching, servers().
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "haproxy/runtime_client.h"

namespace hasg::haproxy {
namespace {

using core::Op;
using core::OpKind;

class FakeTransport : public RuntimeTransport {
 public:
  std::function<std::string(const std::string&)> answer = [](const std::string& c) -> std::string {
    if (c.rfind("add server", 0) == 0) return "New server registered.\n";
    if (c.rfind("del server", 0) == 0) return "Server deleted.";
    return "";
  };
  std::vector<std::vector<std::string>> calls;
  Result<std::vector<std::string>> send(const std::vector<Command>& commands) override {
    std::vector<std::string> texts, out;
    for (const auto& c : commands) {
      texts.push_back(c.text);
      out.push_back(answer(c.text));
    }
    calls.push_back(texts);
    return out;
  }
};

// The texts of the commands an op becomes.
std::vector<std::string> texts_for(const Op& op) {
  std::vector<std::string> out;
  for (const auto& c : RuntimeClient::commands_for(op)) out.push_back(c.text);
  return out;
}

Op add(const std::string& s, const std::string& opts = "") {
  return Op{OpKind::Add, "be", s, "10.0.0.1", 80, opts, "test"};
}

TEST(CommandsFor, EachKind) {
  EXPECT_EQ(texts_for(add("i-1", "check inter 2s weight 10")),
            (std::vector<std::string>{"add server be/i-1 10.0.0.1:80 check inter 2s weight 10",
                                      "enable health be/i-1", "set server be/i-1 state ready"}));
  EXPECT_EQ(texts_for(add("i-1")),
            (std::vector<std::string>{"add server be/i-1 10.0.0.1:80", "set server be/i-1 state ready"}));
  // The server's stable id (core/server_id.h) goes right after the address, before the options.
  Op with_id = add("i-1", "check inter 2s");
  with_id.server_id = 654321;
  EXPECT_EQ(texts_for(with_id)[0], "add server be/i-1 10.0.0.1:80 id 654321 check inter 2s");
  // "check-ssl" alone does not turn checks on; only "check" does.
  EXPECT_EQ(texts_for(add("i-1", "check-ssl")).size(), 2u);
  Op v6{OpKind::Add, "be", "i-6", "fd00::1", 8080, "", ""};
  EXPECT_EQ(texts_for(v6)[0], "add server be/i-6 [fd00::1]:8080");
  EXPECT_EQ(texts_for(Op{OpKind::Enable, "be", "i-1", "", 0, "", ""}),
            (std::vector<std::string>{"set server be/i-1 state ready"}));
  EXPECT_EQ(texts_for(Op{OpKind::Drain, "be", "i-1", "", 0, "", ""}),
            (std::vector<std::string>{"set server be/i-1 state drain"}));
  EXPECT_EQ(texts_for(Op{OpKind::SetAddress, "be", "i-1", "10.0.0.9", 81, "", ""}),
            (std::vector<std::string>{"set server be/i-1 addr 10.0.0.9 port 81"}));
  EXPECT_EQ(texts_for(Op{OpKind::Remove, "be", "i-1", "", 0, "", ""}),
            (std::vector<std::string>{"set server be/i-1 state maint", "shutdown sessions server be/i-1",
                                      "del server be/i-1"}));
}

TEST(Apply, AllOnOneConnection) {
  FakeTransport t;
  RuntimeClient c(t);
  auto r = c.apply({add("a", "check"), Op{OpKind::Remove, "be", "b", "", 0, "", ""}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->applied, 2u);
  EXPECT_EQ(r->commands, 6u);
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].size(), 6u);
}

TEST(Apply, NothingToDoSendsNothing) {
  FakeTransport t;
  RuntimeClient c(t);
  auto r = c.apply({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->applied, 0u);
  EXPECT_TRUE(t.calls.empty());
}

TEST(Apply, FirstFailureNamesCommandAndAnswer) {
  FakeTransport t;
  t.answer = [](const std::string& c) -> std::string {
    if (c == "add server be/b 10.0.0.1:80") return "Already exists a server with the same name in backend.\n";
    if (c.rfind("add server", 0) == 0) return "New server registered.\n";
    return "";
  };
  RuntimeClient c(t);
  auto r = c.apply({add("a"), add("b"), add("c")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "HaproxyCommandFailed");
  const auto& m = r.error().message;
  EXPECT_NE(m.find("\"add server be/b 10.0.0.1:80\""), std::string::npos) << m;
  EXPECT_NE(m.find("Already exists a server with the same name in backend."), std::string::npos) << m;
  EXPECT_NE(m.find("op 2 of 3"), std::string::npos) << m;
  EXPECT_NE(m.find("1 ops applied before it"), std::string::npos) << m;
}

TEST(Apply, DelRetriedWhileConnectionsClose) {
  FakeTransport t;
  int refusals = 2;
  t.answer = [&](const std::string& c) -> std::string {
    if (c.rfind("del server", 0) == 0)
      return refusals-- > 0 ? "Server still has connections attached to it, cannot remove it." : "Server deleted.";
    return "";
  };
  RuntimeClient c(t);
  auto r = c.apply({Op{OpKind::Remove, "be", "a", "", 0, "", ""}, Op{OpKind::Drain, "be", "b", "", 0, "", ""}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->applied, 2u);
  EXPECT_EQ(r->commands, 6u);  // 4 in the batch + 2 retries of the del
  ASSERT_EQ(t.calls.size(), 3u);
  EXPECT_EQ(t.calls[1], (std::vector<std::string>{"del server be/a"}));
}

// A del HAProxy keeps refusing (an idle pooled connection that outlives the retries) does not hold the cycle: the
// server stays in maintenance, the op is reported deferred, and the ops after it are applied.
TEST(Apply, DelStillRefusedAfterTheRetriesIsDeferred) {
  FakeTransport t;
  t.answer = [&](const std::string& c) -> std::string {
    if (c == "del server be/a" || c == "del server be/c")
      return "Server still has connections attached to it, cannot remove it.";
    if (c.rfind("del server", 0) == 0) return "Server deleted.";
    return "";
  };
  RuntimeClient c(t);
  const auto start = std::chrono::steady_clock::now();
  auto r = c.apply({Op{OpKind::Remove, "be", "a", "", 0, "", ""}, Op{OpKind::Remove, "be", "b", "", 0, "", ""},
                    Op{OpKind::Remove, "be", "c", "", 0, "", ""}});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->applied, 3u);
  EXPECT_EQ(r->deferred, (std::vector<size_t>{0, 2}));
  EXPECT_GT(t.calls.size(), 2u) << "retried first";
  EXPECT_EQ(t.calls.front().back(), "del server be/c") << "the whole batch was sent";
  // One wait for all the dels of the apply (300 ms), not one each: the second refused del is deferred at once.
  EXPECT_EQ(std::count(t.calls.begin(), t.calls.end(), std::vector<std::string>{"del server be/c"}), 0);
  EXPECT_LT(took, std::chrono::seconds(1)) << "bounded retries, not 3 s a del";
}

// What a command expects and whether it is retried come from its fields, not from its text.
TEST(Execute, ExpectAndRetryAreFieldsOfTheCommand) {
  FakeTransport t;
  int refusals = 1;
  t.answer = [&](const std::string& c) -> std::string {
    if (c == "custom retried") return refusals-- > 0 ? "Server still has connections attached to it, ..." : "Done.";
    if (c == "del server be/x") return "Server still has connections attached to it, cannot remove it.";
    return "";
  };
  RuntimeClient c(t);
  auto r = c.execute(
      {Command{"custom retried", {}, Expect::ends_with("Done."), true}, Command{"quiet", {}, {}, false}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, 3u);  // 2 + 1 retry
  ASSERT_EQ(t.calls.size(), 2u);
  EXPECT_EQ(t.calls[1], (std::vector<std::string>{"custom retried"}));

  // Without the flag, the same refusal is a failure at once.
  t.calls.clear();
  auto no_retry = c.execute({Command{"del server be/x", {}, Expect::ends_with("Server deleted."), false}});
  ASSERT_FALSE(no_retry.ok());
  EXPECT_EQ(t.calls.size(), 1u);
  EXPECT_NE(no_retry.error().message.find("\"del server be/x\""), std::string::npos) << no_retry.error().message;
}

// A held add (launch lifecycle hook): checks start, the server stays in drain (no traffic) until an Enable.
TEST(CommandsFor, HeldAddEndsInDrain) {
  Op held = add("i-1", "check inter 2s agent-check agent-port 9999");
  held.hold = true;
  EXPECT_EQ(texts_for(held), (std::vector<std::string>{
                                 "add server be/i-1 10.0.0.1:80 check inter 2s agent-check agent-port 9999",
                                 "enable health be/i-1", "enable agent be/i-1", "set server be/i-1 state drain"}));
  Op held_nocheck = add("i-2");
  held_nocheck.hold = true;
  EXPECT_EQ(texts_for(held_nocheck),
            (std::vector<std::string>{"add server be/i-2 10.0.0.1:80", "set server be/i-2 state drain"}));
}

TEST(Sessions, OneBackendOrSeveralOnOneConnection) {
  FakeTransport t;
  t.answer = [](const std::string& c) -> std::string {
    if (c == "show stat be 4 -1") return "# pxname,svname,qcur,qmax,scur\nbe,a,0,0,3\nbe,b,0,0,0\n";
    if (c == "show stat empty 4 -1") return "# pxname,svname,qcur,qmax,scur\n";
    if (c == "show stat nope 4 -1") return "No such proxy.";
    return "?";
  };
  RuntimeClient c(t);
  auto one = c.sessions("be");
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  EXPECT_EQ(*one, (RuntimeClient::Sessions{{"a", 3}, {"b", 0}}));
  auto missing = c.sessions("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "NoSuchBackend");
  t.calls.clear();
  auto many = c.sessions_by_backend({"be", "empty", "nope"});
  ASSERT_TRUE(many.ok()) << many.error().to_string();
  EXPECT_EQ(*many, (std::map<std::string, RuntimeClient::Sessions>{{"be", {{"a", 3}, {"b", 0}}}, {"empty", {}}}));
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].size(), 3u);
}

TEST(CommandsFor, ExpectationsAndRetry) {
  auto rm = RuntimeClient::commands_for(Op{OpKind::Remove, "be", "i-1", "", 0, "", ""});
  ASSERT_EQ(rm.size(), 3u);
  EXPECT_FALSE(rm[0].retry_while_connected);
  EXPECT_TRUE(rm[2].retry_while_connected);
  EXPECT_EQ(rm[2].expect, Expect::ends_with("Server deleted."));
  EXPECT_EQ(RuntimeClient::commands_for(add("i-1"))[0].expect, Expect::ends_with("New server registered."));
  auto cert = RuntimeClient::ssl_cert_update("/etc/x.pem", "PEM\n");
  ASSERT_EQ(cert.size(), 2u);
  EXPECT_EQ(cert[0].text, "set ssl cert /etc/x.pem");
  EXPECT_EQ(cert[0].payload, "PEM\n");
  EXPECT_EQ(cert[1].text, "commit ssl cert /etc/x.pem");
  EXPECT_TRUE(cert[1].payload.empty());
}

TEST(Apply, LargeListsAreBatched) {
  FakeTransport t;
  RuntimeClient c(t);
  std::vector<Op> ops;
  for (int i = 0; i < 1200; ++i) ops.push_back(add("s" + std::to_string(i)));
  auto r = c.apply(ops);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->applied, 1200u);
  EXPECT_EQ(r->commands, 2400u);
  EXPECT_GE(t.calls.size(), 2u);
  size_t total = 0;
  for (const auto& call : t.calls) total += call.size();
  EXPECT_EQ(total, 2400u);
}

TEST(Apply, TransportErrorPropagates) {
  struct Down : RuntimeTransport {
    Result<std::vector<std::string>> send(const std::vector<Command>&) override {
      return make_error("ConnectionError", "HAProxy socket /x: connect: No such file or directory", true);
    }
  } t;
  RuntimeClient c(t);
  auto r = c.apply({add("a")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ConnectionError");
  EXPECT_TRUE(r.error().retryable);
}

TEST(Servers, CombinesStateAndStat) {
  FakeTransport t;
  t.answer = [](const std::string& c) -> std::string {
    if (c == "show servers state be")
      return "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
             "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
             "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
             "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
             "3 be 2 z 127.0.0.1 2 8 1 1 0 1 0 0 0 0 0 0 - 81 - 0 0 - - 0\n"
             "3 be 1 a 127.0.0.1 2 0 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n";
    if (c == "show servers state nope") return "Can't find backend.";
    if (c.rfind("show stat", 0) == 0) return "# pxname,svname,qcur,qmax,scur\nbe,z,0,0,4\nbe,BACKEND,0,0,4\n";
    return "?";
  };
  RuntimeClient c(t);
  auto r = c.servers({"be", "nope"});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].backend, "be");
  ASSERT_EQ((*r)[0].servers.size(), 2u);
  EXPECT_EQ((*r)[0].servers[0].name, "a");
  EXPECT_EQ((*r)[0].servers[1].name, "z");
  EXPECT_EQ((*r)[0].servers[1].current_sessions, 4);
  EXPECT_EQ((*r)[0].servers[1].admin, core::AdminState::Drain);
  EXPECT_EQ((*r)[1], (core::ActualBackend{"nope", false, {}}));
  ASSERT_EQ(t.calls.size(), 1u);  // one connection
}

// A sync cycle's read: "show servers state" alone while nothing drains; sessions ("show stat B 4 -1") only of the
// backends with a server in drain or named by the caller (its drain book).
TEST(RuntimeClient, ServersReadsSessionsOnlyWhereASyncCycleNeedsThem) {
  const std::string header =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
      "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";
  int admin_z = 0;  // z's srv_admin_state: 0 ready, 8 drain
  FakeTransport t;
  t.answer = [&](const std::string& c) -> std::string {
    if (c == "show servers state be")
      return header + "3 be 2 z 127.0.0.1 2 " + std::to_string(admin_z) +
             " 1 1 0 1 0 0 0 0 0 0 - 81 - 0 0 - - 0\n3 be 1 a 127.0.0.1 2 0 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n";
    if (c == "show servers state other")
      return header + "4 other 1 o 127.0.0.1 2 0 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n";
    if (c == "show stat be 4 -1") return "# pxname,svname,qcur,qmax,scur\nbe,a,0,0,2\nbe,z,0,0,4\n";
    if (c == "show stat other 4 -1") return "# pxname,svname,qcur,qmax,scur\nother,o,0,0,7\n";
    return "?";
  };
  RuntimeClient c(t);
  auto r = c.servers({"be", "other"}, {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(t.calls, (std::vector<std::vector<std::string>>{{"show servers state be", "show servers state other"}}));
  EXPECT_EQ((*r)[0].servers[1].current_sessions, 0);

  admin_z = 8;  // z drains: its backend's sessions are read
  t.calls.clear();
  r = c.servers({"be", "other"}, {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(t.calls.size(), 2u);
  EXPECT_EQ(t.calls[1], std::vector<std::string>{"show stat be 4 -1"});
  EXPECT_EQ((*r)[0].servers[0].current_sessions, 2);
  EXPECT_EQ((*r)[0].servers[1].current_sessions, 4);
  EXPECT_EQ((*r)[1].servers[0].current_sessions, 0);

  admin_z = 0;  // "other" is in the caller's drain book (a server shown ready whose drain command was lost)
  t.calls.clear();
  r = c.servers({"be", "other"}, {"other"});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(t.calls.size(), 2u);
  EXPECT_EQ(t.calls[1], std::vector<std::string>{"show stat other 4 -1"});
  EXPECT_EQ((*r)[1].servers[0].current_sessions, 7);
}

}  // namespace
}  // namespace hasg::haproxy
