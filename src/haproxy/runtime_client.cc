#include "haproxy/runtime_client.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <string_view>
#include <thread>

#include "util/backoff.h"
#include "util/strings.h"

namespace hasg::haproxy {

namespace {

// Ops per connection in apply(). All commands of a batch are pipelined before any answer is read, so a failure is
// noticed only at the end of its batch (the rest of that batch was already executed by HAProxy); smaller batches
// stop sooner, larger ones cost more connections. 500 ops (up to 1500 commands) is one short connection on 2.6.12.
constexpr size_t kOpsPerBatch = 500;

// "del server" right after "shutdown sessions server" races with the sessions being killed (asynchronous), and an
// idle keep-alive connection to the server also blocks it; 2.6.12 then answers "Server still has connections
// attached to it, cannot remove it." (seen with one request in flight: deleted on the retry ~20 ms later; with an
// idle pooled connection to a static server: deleted ~1 s later). The server is already in maintenance (no new
// traffic, its sessions cut), so the del alone is retried briefly (300 ms for all the dels of an apply()), then left
// to the next cycle: its plan removes a server in maintenance that is not a member. Waiting here instead (3 s a del,
// before) made cycles outlast their interval under load (the soak: 19 of 465 over 1 s).
constexpr std::string_view kStillConnected = "Server still has connections attached to it";
constexpr std::chrono::milliseconds kDelRetryFor{3000};       // a caller that cannot leave it to a next cycle
constexpr std::chrono::milliseconds kDelRetryPerApply{300};   // apply(): for all its dels together

// srv_admin_state bits (HAProxy 2.6 enum srv_admin): 0x01 forced maint ("set server state maint"), 0x02 inherited
// from a tracked server, 0x04 "disabled" in the config (always with 0x01: seen as 5), 0x20 address resolution
// failure; 0x08 forced drain ("set server state drain"), 0x10 inherited drain. Observed on 2.6.12: a fresh dynamic
// server shows 1, after "state drain" 8 (drain clears the forced maint), after "state ready" 0.
constexpr int kAdminMaintMask = 0x01 | 0x02 | 0x04 | 0x20;
constexpr int kAdminDrainMask = 0x08 | 0x10;

core::AdminState admin_from_bits(int bits) {
  if (bits & kAdminMaintMask) return core::AdminState::Maint;
  if (bits & kAdminDrainMask) return core::AdminState::Drain;
  return core::AdminState::Ready;
}

// The last health check, from "show servers state" (HAProxy 2.6 include/haproxy/check-t.h):
// srv_check_state holds CHK_ST_* bits: 0x02 configured ("check" given), 0x04 enabled, 0x08 paused by maintenance;
// srv_check_result is enum chk_result: 0 unknown (no check finished yet), 1 neutral, 2 failed, 3 passed,
// 4 conditionally passed (e.g. 404 with "http-check disable-on-404": the server wants no new sessions; not a pass);
// srv_check_status is enum healthcheck_status (1 INI, 6 L4OK, 8 L4CON, 15 L7OK, 17 L7STS, ...).
// Observed on 2.6.12, a dynamic server added with "check" (option httpchk, a Python HTTP server on loopback):
//   after add:                        check_state 2, status 1 (INI), result 0; show stat check_status ""
//   after "enable health":            check_state 6, status 1 (INI), result 0; show stat check_status "INI"
//   then "state drain", before its first check: op_state 2 and check_health 2 (= rise): it looks up before any
//                                     check ran, which is why check_passed reads the result, not op_state
//   after a passing check (drain or maint): status 15 (L7OK), result 3, check_health 4 (rise+fall-1)
//   after a failing check (closed loopback port): status 8 (L4CON), result 2, check_health 0, op_state 0
//   then its first passing check: result 3 but check_health 1, op_state 0 ("DOWN 1/2" with rise 2): passed, not
//                                     yet up, and set ready then it took no request
//   "set server state maint" after it ran: check_state 14 (paused), result keeps its last value (3): stale, so
//                                     a paused check counts as neither enabled nor passed.
// (A fresh dynamic server whose checks were enabled while it stayed in maintenance is not paused: its checks run.)
constexpr int kCheckEnabled = 0x04;
constexpr int kCheckPaused = 0x08;
constexpr int kCheckResultPassed = 3;

bool has_keyword(std::string_view options, std::string_view keyword) {
  for (auto tok : split_ws(options))
    if (tok == keyword) return true;
  return false;
}

Error command_failed(const Command& cmd, const std::string& answer, const std::string& context) {
  std::string what = cmd.text;
  if (!cmd.payload.empty()) what += " <<\" (with a " + std::to_string(cmd.payload.size()) + "-byte payload)";
  else what += "\"";
  return make_error("HaproxyCommandFailed",
                    "runtime command \"" + what + " failed: HAProxy answered \"" + one_line(answer) + "\"" +
                        (context.empty() ? "" : " (" + context + ")"));
}

// Success answers observed on 2.6.12 (and the failures seen instead):
//   add server        -> "New server registered."   (errors: "Already exists a server with the same name in
//                        backend.", "unknown keyword 'x'.", "No such backend.")
//   del server        -> "Server deleted."          (error: "Only servers in maintenance mode can be deleted.")
//   set server addr   -> "IP changed from 'A' to 'B', port changed from 'P' to 'Q' by 'stats socket command'",
//                        or "no need to change the addr[, ...]" when already so
//   set server state, enable health, enable agent, shutdown sessions -> "" (errors: "No such server.",
//                        "No such backend.", "Health check was not configured on this server, cannot enable.")
//   set ssl cert F << -> "Transaction created for certificate F!" (errors: "Can't replace a certificate which is
//                        not referenced by the configuration!", "unable to load certificate from file 'F'.")
//   commit ssl cert F -> "Committing F.\nSuccess!"  (error: "No ongoing transaction! ...")
Command simple(std::string text) { return Command{std::move(text), {}, Expect::empty(), false}; }

// Sends `cmds` on one connection and checks the answers in order: `on_ok(k)` after command k succeeded, and the
// first unexpected answer is an Error completed by `context(k)`. `sent` counts every command sent, retries too.
// A "del server" HAProxy still refuses for its connections is retried until `*retry_until` (set at the first
// refusal, shared by the caller's batches: the wait is bounded for all its dels together, not for each); then, when
// `on_deferred` is given, it is passed to it (and counts as done: the caller says the server stays in maintenance),
// else it is an Error. Without `retry_until`, each refused command has kDelRetryFor.
template <typename OnOk, typename Context>
Status run_batch(RuntimeTransport& t, const std::vector<Command>& cmds, size_t& sent, OnOk&& on_ok,
                 Context&& context, const std::function<void(size_t)>& on_deferred = nullptr,
                 std::optional<std::chrono::steady_clock::time_point>* retry_until = nullptr) {
  auto answers = t.send(cmds);
  if (!answers) return answers.error();
  for (size_t k = 0; k < cmds.size(); ++k) {
    ++sent;
    std::string& answer = (*answers)[k];
    if (cmds[k].retry_while_connected && answer.find(kStillConnected) != std::string::npos) {
      auto deadline = std::chrono::steady_clock::now() + kDelRetryFor;
      if (retry_until != nullptr) {
        if (!*retry_until) *retry_until = std::chrono::steady_clock::now() + kDelRetryPerApply;
        deadline = **retry_until;
      }
      for (int attempt = 0;
           answer.find(kStillConnected) != std::string::npos && std::chrono::steady_clock::now() < deadline;
           ++attempt) {
        // No jitter: one client waiting for its own connections to close, nobody to spread out from.
        std::this_thread::sleep_for(
            backoff_ceiling(std::chrono::milliseconds(20), std::chrono::milliseconds(400), attempt));
        auto again = t.send({cmds[k]});
        if (!again) return again.error();
        ++sent;
        answer = again->front();
      }
      if (on_deferred && answer.find(kStillConnected) != std::string::npos) {
        on_deferred(k);
        on_ok(k);
        continue;
      }
    }
    if (!cmds[k].expect.matches(answer)) {
      size_t later = cmds.size() - k - 1;
      std::string ctx = context(k);
      if (later)
        ctx += (ctx.empty() ? "" : "; ") + std::to_string(later) +
               " later commands of the same batch were already sent";
      return command_failed(cmds[k], answer, ctx);
    }
    on_ok(k);
  }
  return Ok{};
}

}  // namespace

std::vector<Command> RuntimeClient::commands_for(const core::Op& op) {
  const std::string bs = core::server_key(op.backend, op.server);
  switch (op.kind) {
    case core::OpKind::Add: {
      // A dynamic server starts in maintenance with its checks disabled (2.6.12: srv_admin_state 1,
      // srv_check_state 2 = configured, not enabled); "enable health" is refused ("Health check was not
      // configured...") unless "check" was given, so it is sent only then.
      std::string add = "add server " + bs + " " + core::endpoint(op.address, op.port);
      // "id N" (2.6.12 accepts it on "add server": "show servers state" then shows srv_id N): the stable id every
      // load balancer gives this instance, its place on a consistent-hashing ring (core/server_id.h).
      if (op.server_id > 0) add += " id " + std::to_string(op.server_id);
      std::string_view opts = trim(op.server_options);
      if (!opts.empty()) add += " " + std::string(opts);
      std::vector<Command> cmds{{add, {}, Expect::ends_with("New server registered."), false}};
      if (has_keyword(opts, "check")) cmds.push_back(simple("enable health " + bs));
      // Agent checks likewise stay off on a dynamic server until "enable agent" (2.6.12: empty answer; "Agent was
      // not configured on this server, cannot enable." without agent-check), while a reload would start them.
      if (has_keyword(opts, "agent-check")) cmds.push_back(simple("enable agent " + bs));
      // Held (the launch lifecycle hook): drain instead of ready. On 2.6.12 a server in drain runs its health checks
      // (the result went INI -> L7OK, then L4CON when its HTTP server stopped, then L7OK again) and gets no new
      // requests (20 of 20 went to the ready server beside it); "set server state ready" (Op::Enable) then puts it
      // in rotation (10 of the next 20). Limit: an agent check answering "ready" clears that drain (2.6
      // srv_adm_set_ready, seen on 2.6.12: admin 8 -> 0 at the agent's first answer), so with such an agent the
      // agent, not the hold, decides when traffic starts.
      cmds.push_back(simple("set server " + bs + (op.hold ? " state drain" : " state ready")));
      return cmds;
    }
    case core::OpKind::Enable:
      return {simple("set server " + bs + " state ready")};
    case core::OpKind::SetAddress:
      return {{"set server " + bs + " addr " + op.address + " port " + std::to_string(op.port), {},
               Expect::starts_with_any({"IP changed from", "no need to change the addr"}), false}};
    case core::OpKind::Drain:
      return {simple("set server " + bs + " state drain")};
    case core::OpKind::Remove:
      // "del server" only takes a server in maintenance; the sessions still on it are cut first. On 2.6.12 this
      // deletes static servers (declared in the file) as well as dynamic ones.
      return {simple("set server " + bs + " state maint"), simple("shutdown sessions server " + bs),
              {"del server " + bs, {}, Expect::ends_with("Server deleted."), /*retry_while_connected=*/true}};
    case core::OpKind::CompleteLifecycle:
    case core::OpKind::Heartbeat:
    case core::OpKind::ReportUnhealthy:
    case core::OpKind::RecordDrained:
      return {};  // Auto Scaling's, applied by the syncer's lifecycle edge
  }
  return {};
}

std::vector<Command> RuntimeClient::ssl_cert_update(const std::string& file, const std::string& pem) {
  return {{"set ssl cert " + file, pem, Expect::starts_with_any({"Transaction created for certificate"}), false},
          {"commit ssl cert " + file, {}, Expect::ends_with("Success!"), false}};
}

Result<RuntimeClient::ApplyResult> RuntimeClient::apply(const std::vector<core::Op>& ops) {
  ApplyResult res;
  std::optional<std::chrono::steady_clock::time_point> retry_until;
  for (size_t first = 0; first < ops.size(); first += kOpsPerBatch) {
    size_t last = std::min(ops.size(), first + kOpsPerBatch);
    std::vector<Command> cmds;
    std::vector<size_t> op_of;  // index into ops for each command
    for (size_t i = first; i < last; ++i)
      for (auto& c : commands_for(ops[i])) {
        cmds.push_back(std::move(c));
        op_of.push_back(i);
      }
    auto st = run_batch(
        t_, cmds, res.commands,
        [&](size_t k) {
          if (k + 1 == cmds.size() || op_of[k + 1] != op_of[k]) ++res.applied;
        },
        [&](size_t k) {
          const auto& op = ops[op_of[k]];
          return "op " + std::to_string(op_of[k] + 1) + " of " + std::to_string(ops.size()) + ": " +
                 core::to_string(op.kind) + " " + op.backend + "/" + op.server + "; " + std::to_string(op_of[k]) +
                 " ops applied before it";
        },
        [&](size_t k) { res.deferred.push_back(op_of[k]); }, &retry_until);
    if (!st) {
      Error e = st.error();
      if (e.code != "HaproxyCommandFailed")  // the transport failed: say where in the list
        e.message += " (while applying ops " + std::to_string(first + 1) + "-" + std::to_string(last) + " of " +
                     std::to_string(ops.size()) + "; " + std::to_string(res.applied) + " applied before)";
      return e;
    }
  }
  return res;
}

Result<size_t> RuntimeClient::execute(const std::vector<Command>& commands) {
  size_t sent = 0;
  if (commands.empty()) return sent;
  auto st = run_batch(
      t_, commands, sent, [](size_t) {},
      [&](size_t k) { return "command " + std::to_string(k + 1) + " of " + std::to_string(commands.size()); });
  if (!st) return st.error();
  return sent;
}

namespace {

// "show servers state B" answers of `backends`, in their order, with scur from `scur` ("backend/server" -> scur).
Result<std::vector<core::ActualBackend>> servers_from(const std::vector<std::string>& backends,
                                                      const std::vector<std::string>& answers,
                                                      const std::unordered_map<std::string, int>& scur) {
  std::vector<core::ActualBackend> out;
  for (size_t i = 0; i < backends.size(); ++i) {
    const std::string& answer = answers[i];
    core::ActualBackend ab;
    ab.backend = backends[i];
    // 2.6.12 answers "Can't find backend." for an unknown name.
    if (trim(answer) == "Can't find backend.") {
      ab.exists = false;
      out.push_back(std::move(ab));
      continue;
    }
    auto parsed = parse_servers_state(answer);
    if (!parsed) {
      Error e = parsed.error();
      e.message = "\"show servers state " + backends[i] + "\": " + e.message;
      return e;
    }
    for (auto& b : *parsed) {
      if (b.backend != ab.backend) continue;
      for (auto& s : b.servers) ab.servers.push_back(std::move(s));
    }
    if (!scur.empty())
      for (auto& s : ab.servers) {
        auto it = scur.find(core::server_key(ab.backend, s.name));
        if (it != scur.end()) s.current_sessions = it->second;
      }
    // Sorted by parse_servers_state already, unless the answer held more than this backend.
    auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
    if (!std::is_sorted(ab.servers.begin(), ab.servers.end(), by_name))
      std::sort(ab.servers.begin(), ab.servers.end(), by_name);
    out.push_back(std::move(ab));
  }
  return out;
}

}  // namespace

Result<std::vector<core::ActualBackend>> RuntimeClient::servers(const std::vector<std::string>& backends) {
  if (backends.empty()) return std::vector<core::ActualBackend>{};
  std::vector<std::string> cmds;
  for (const auto& b : backends) cmds.push_back("show servers state " + b);
  // Servers only (type 4) of every proxy: the CSV header plus one row per server.
  cmds.push_back("show stat -1 4 -1");
  auto answers = t_.run(cmds);
  if (!answers) return answers.error();

  auto stats = parse_stat_sessions(answers->back());
  if (!stats) return stats.error();
  // Hashed: instance ids share long prefixes, which makes an ordered map's compares the cost at 5,000 servers.
  std::unordered_map<std::string, int> scur;
  scur.reserve(stats->size());
  for (const auto& [be, srv] : *stats) scur[core::server_key(be, srv.first)] = srv.second;
  return servers_from(backends, *answers, scur);
}

Result<std::vector<core::ActualBackend>> RuntimeClient::servers(const std::vector<std::string>& backends,
                                                                const std::set<std::string>& sessions_of) {
  if (backends.empty()) return std::vector<core::ActualBackend>{};
  std::vector<std::string> cmds;
  for (const auto& b : backends) cmds.push_back("show servers state " + b);
  auto answers = t_.run(cmds);
  if (!answers) return answers.error();
  auto out = servers_from(backends, *answers, {});
  if (!out) return out.error();
  std::vector<std::string> wanted;
  for (const auto& ab : *out) {
    bool draining = std::any_of(ab.servers.begin(), ab.servers.end(),
                                [](const core::ActualServer& s) { return s.admin == core::AdminState::Drain; });
    if (ab.exists && (draining || sessions_of.contains(ab.backend))) wanted.push_back(ab.backend);
  }
  if (wanted.empty()) return out;
  auto sessions = sessions_by_backend(wanted);
  if (!sessions) return sessions.error();
  for (auto& ab : *out) {
    auto it = sessions->find(ab.backend);
    if (it == sessions->end()) continue;
    std::unordered_map<std::string_view, int> scur;
    for (const auto& [srv, n] : it->second) scur[srv] = n;
    for (auto& s : ab.servers)
      if (auto found = scur.find(s.name); found != scur.end()) s.current_sessions = found->second;
  }
  return out;
}

Result<std::map<std::string, RuntimeClient::Sessions>> RuntimeClient::sessions_by_backend(
    const std::vector<std::string>& backends) {
  std::map<std::string, Sessions> out;
  if (backends.empty()) return out;
  std::vector<std::string> cmds;
  // "show stat B 4 -1": server rows (type 4) of proxy B only; 2.6.12 takes the proxy's name and answers "No such
  // proxy." for an unknown one. An unknown name starting with digits is read as a proxy id (atoi, src/stats.c),
  // so only rows whose pxname is B are kept.
  for (const auto& b : backends) cmds.push_back("show stat " + b + " 4 -1");
  auto answers = t_.run(cmds);
  if (!answers) return answers.error();
  for (size_t i = 0; i < backends.size(); ++i) {
    const std::string& answer = (*answers)[i];
    if (trim(answer) == "No such proxy.") continue;
    auto rows = parse_stat_sessions(answer);
    if (!rows) {
      Error e = rows.error();
      e.message = "\"" + cmds[i] + "\": " + e.message;
      return e;
    }
    auto& per = out[backends[i]];
    for (auto& [be, srv] : *rows)
      if (be == backends[i]) per.push_back(std::move(srv));
  }
  return out;
}

Result<ServerStatsMap> RuntimeClient::server_stats(const std::vector<std::string>& backends) {
  ServerStatsMap out;
  if (backends.empty()) return out;
  auto answers = t_.run({"show stat -1 4 -1"});
  if (!answers) return answers.error();
  auto rows = parse_server_stats(answers->front());
  if (!rows) return rows.error();
  const std::set<std::string> wanted(backends.begin(), backends.end());
  for (auto& r : *rows)
    if (wanted.count(r.backend)) out[core::server_key(r.backend, r.server)] = std::move(r);
  return out;
}

Result<RuntimeClient::Sessions> RuntimeClient::sessions(const std::string& backend) {
  auto all = sessions_by_backend({backend});
  if (!all) return all.error();
  auto it = all->find(backend);
  if (it == all->end())
    return make_error("NoSuchBackend", "HAProxy has no backend \"" + backend + "\" (\"show stat " + backend +
                                           " 4 -1\" answered \"No such proxy.\")");
  return std::move(it->second);
}

Result<std::vector<core::ActualBackend>> parse_servers_state(const std::string& text) {
  auto lines = lines_of(text, /*strip_cr=*/true);
  size_t i = 0;
  while (i < lines.size() && trim(lines[i]).empty()) ++i;
  if (i == lines.size() || trim(lines[i]) != "1")
    return make_error("ProtocolError", "\"show servers state\": expected format version 1, got \"" +
                                           one_line(i < lines.size() ? lines[i] : "") + "\"");
  ++i;
  if (i == lines.size() || !lines[i].starts_with("#"))
    return make_error("ProtocolError", "\"show servers state\": missing the \"# be_id be_name ...\" header");
  auto header = split_ws(lines[i].substr(1));
  ++i;
  auto col = [&](std::string_view name) -> int {
    for (size_t c = 0; c < header.size(); ++c)
      if (header[c] == name) return static_cast<int>(c);
    return -1;
  };
  const int c_be = col("be_name"), c_srv = col("srv_name"), c_addr = col("srv_addr"), c_op = col("srv_op_state"),
            c_admin = col("srv_admin_state"), c_port = col("srv_port"), c_chk_result = col("srv_check_result"),
            c_chk_state = col("srv_check_state"), c_id = col("srv_id");
  if (c_be < 0 || c_srv < 0 || c_addr < 0 || c_op < 0 || c_admin < 0 || c_port < 0)
    return make_error("ProtocolError", "\"show servers state\": header lacks a needed column: \"" +
                                           one_line(lines[i - 1]) + "\"");
  // The check columns are in format 1 on every version since 1.6; without them, no check counts as enabled.
  const bool has_check = c_chk_result >= 0 && c_chk_state >= 0;
  const size_t need =
      static_cast<size_t>(std::max({c_be, c_srv, c_addr, c_op, c_admin, c_port, c_chk_result, c_chk_state})) + 1;

  std::vector<core::ActualBackend> out;
  std::map<std::string, size_t, std::less<>> index;
  // One answer holds one backend's servers (one per line, 5,000 at a time): the fields of a line go into one reused
  // vector, and the backend is looked up only when it changes from the line before.
  std::vector<std::string_view> f;
  // Only the columns read are split out (srv_port is the 19th of 25 in 2.6's format 1).
  const size_t words = std::max(need, c_id >= 0 ? static_cast<size_t>(c_id) + 1 : 0);
  f.reserve(words);
  std::string_view last_be;
  size_t at = 0;
  for (; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    f.clear();
    split_ws_into(line, f, words);
    int op = 0, admin = 0, port = 0, chk_result = 0, chk_state = 0;
    if (f.size() < need || !parse_int(f[static_cast<size_t>(c_op)], op) ||
        !parse_int(f[static_cast<size_t>(c_admin)], admin) || !parse_int(f[static_cast<size_t>(c_port)], port) ||
        port < 0 || port > 65535 ||
        (has_check && (!parse_int(f[static_cast<size_t>(c_chk_result)], chk_result) ||
                       !parse_int(f[static_cast<size_t>(c_chk_state)], chk_state))))
      return make_error("ProtocolError", "\"show servers state\": malformed line \"" + one_line(line) + "\"");
    const std::string_view be = f[static_cast<size_t>(c_be)];
    if (out.empty() || be != last_be) {
      auto it = index.find(be);
      if (it == index.end()) {
        it = index.emplace(std::string(be), out.size()).first;
        core::ActualBackend ab;
        ab.backend = std::string(be);
        out.push_back(std::move(ab));
      }
      at = it->second;
      last_be = be;
    }
    core::ActualServer s;
    s.name = std::string(f[static_cast<size_t>(c_srv)]);
    s.address = std::string(f[static_cast<size_t>(c_addr)]);
    s.port = port;
    s.admin = admin_from_bits(admin);
    // srv_op_state: 0 stopped, 1 starting (slowstart: already takes traffic), 2 running, 3 stopping. A server in
    // maintenance shows 0; one without checks shows 2 once ready.
    s.up = op == 1 || op == 2;
    s.check_enabled = (chk_state & kCheckEnabled) && !(chk_state & kCheckPaused);
    s.check_passed = s.check_enabled && chk_result == kCheckResultPassed;
    // srv_id: the server's numeric id (its place on a consistent-hashing ring); 0 when the column is absent.
    if (c_id >= 0 && static_cast<size_t>(c_id) < f.size() && !parse_int(f[static_cast<size_t>(c_id)], s.id))
      return make_error("ProtocolError", "\"show servers state\": bad srv_id in \"" + one_line(line) + "\"");
    out[at].servers.push_back(std::move(s));
  }
  for (auto& b : out)
    std::sort(b.servers.begin(), b.servers.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  return out;
}

namespace {

// "show stat" CSV: the "# pxname,svname,..." header's column of each wanted name, and the data lines after it.
struct StatCsv {
  std::vector<size_t> columns;  // in the order of the names asked for
  size_t need = 0;              // fields a line must have to hold them all
  std::vector<std::string_view> lines;
};

Result<StatCsv> read_stat_csv(const std::vector<std::string_view>& lines, const std::vector<std::string>& names) {
  size_t i = 0;
  while (i < lines.size() && trim(lines[i]).empty()) ++i;
  if (i == lines.size() || !lines[i].starts_with("# "))
    return make_error("ProtocolError", "\"show stat\": missing the \"# pxname,svname,...\" header");
  auto header = split_view(lines[i].substr(2), ',');
  StatCsv csv;
  for (const auto& name : names) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end())
      return make_error("ProtocolError", "\"show stat\": header lacks the column \"" + name + "\"");
    csv.columns.push_back(static_cast<size_t>(it - header.begin()));
    csv.need = std::max(csv.need, csv.columns.back() + 1);
  }
  for (++i; i < lines.size(); ++i) {
    if (trim(lines[i]).empty() || lines[i][0] == '#') continue;
    csv.lines.push_back(lines[i]);
  }
  return csv;
}

// A counter field; empty (a field that does not apply) is 0.
bool stat_number(std::string_view field, uint64_t& out) {
  field = trim(field);
  out = 0;
  if (field.empty()) return true;
  auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
  return ec == std::errc() && p == field.data() + field.size();
}

}  // namespace

Result<std::vector<std::pair<std::string, std::pair<std::string, int>>>> parse_stat_sessions(
    const std::string& text) {
  auto lines = lines_of(text, /*strip_cr=*/true);
  auto csv = read_stat_csv(lines, {"pxname", "svname", "scur"});
  if (!csv) return csv.error();
  std::vector<std::pair<std::string, std::pair<std::string, int>>> out;
  for (auto line : csv->lines) {
    auto f = split_view(line, ',', csv->need);
    if (f.size() < csv->need) return make_error("ProtocolError", "\"show stat\": short line \"" + one_line(line) + "\"");
    std::string_view sv = f[csv->columns[1]];
    if (sv == "FRONTEND" || sv == "BACKEND") continue;
    int scur = 0;
    std::string_view sc = f[csv->columns[2]];
    if (!trim(sc).empty() && (!parse_int(sc, scur) || scur < 0))
      return make_error("ProtocolError", "\"show stat\": bad scur in \"" + one_line(line) + "\"");
    out.push_back({std::string(f[csv->columns[0]]), {std::string(sv), scur}});
  }
  return out;
}

Result<core::WorkerSample> parse_backend_counters(const std::string& text) {
  auto lines = lines_of(text, /*strip_cr=*/true);
  auto csv = read_stat_csv(lines, {"pxname", "svname", "req_tot", "hrsp_5xx", "qcur", "rtime"});
  if (!csv) return csv.error();
  core::WorkerSample out;
  for (auto line : csv->lines) {
    auto f = split_view(line, ',', csv->need);
    if (f.size() < csv->need) return make_error("ProtocolError", "\"show stat\": short line \"" + one_line(line) + "\"");
    if (f[csv->columns[1]] != "BACKEND") continue;
    core::BackendCounters c;
    if (!stat_number(f[csv->columns[2]], c.requests) || !stat_number(f[csv->columns[3]], c.responses_5xx) ||
        !stat_number(f[csv->columns[4]], c.queued) || !stat_number(f[csv->columns[5]], c.response_ms))
      return make_error("ProtocolError", "\"show stat\": bad counter in \"" + one_line(line) + "\"");
    out[std::string(f[csv->columns[0]])] = c;
  }
  return out;
}

}  // namespace hasg::haproxy
