// HAProxy's Runtime API (https://docs.haproxy.org/2.6/management.html#9.3): typed reads and the commands each
// planned op becomes, over a RuntimeTransport (haproxy/unix_socket.h for the real socket).
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/load.h"
#include "core/types.h"
#include "haproxy/runtime_command.h"
#include "haproxy/server_stats.h"
#include "util/result.h"

namespace hasg::haproxy {

// Typed operations over a transport. Every command's answer is checked against its Expect: anything else is an
// Error naming the command and quoting HAProxy.
class RuntimeClient {
 public:
  explicit RuntimeClient(RuntimeTransport& transport) : t_(transport) {}

  // Servers of the given backends ("show servers state" plus scur from "show stat"). A backend HAProxy does not
  // know comes back with exists = false.
  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>& backends);
  // The same, with scur read only where a sync cycle uses it: the backends in `sessions_of` (the drain book's) and
  // those with a server in drain ("show stat B 4 -1" each, after "show servers state"); every other server shows 0.
  // A steady cycle thus reads "show servers state" alone: at 5,000 servers "show stat" is ~1.5 MB of CSV.
  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>& backends,
                                                   const std::set<std::string>& sessions_of);

  // Current sessions (scur) of each server of a backend, in HAProxy's order: a cheap read for the drain watch
  // ("show stat BACKEND 4 -1": that backend's server rows only). An Error with code "NoSuchBackend" when HAProxy
  // does not know the backend.
  using Sessions = std::vector<std::pair<std::string, int>>;  // (server, scur)
  Result<Sessions> sessions(const std::string& backend);
  // The same for several backends on one connection; a backend HAProxy does not know is absent from the map.
  Result<std::map<std::string, Sessions>> sessions_by_backend(const std::vector<std::string>& backends);

  // Statistics of the servers of the given backends ("show stat -1 4 -1", the status screen's read); backends
  // HAProxy does not know simply have no rows.
  Result<ServerStatsMap> server_stats(const std::vector<std::string>& backends);

  // Applies ops in order, batched on as few connections as possible. Stops at the first failed command and says
  // which; what was applied before it stays applied (the next cycle sees it and plans from there).
  // Op::Add -> "add server B/S ADDR:PORT [id N] OPTIONS", then "enable health B/S" when OPTIONS has "check" ("enable
  // agent B/S" when it has "agent-check"), then "set server B/S state ready" ("state drain" when op.hold: checks
  // run, no traffic, until an Op::Enable). Op::Remove -> "set server B/S state maint", "shutdown sessions server B/S",
  // "del server B/S" (the del is retried for up to 3 s while HAProxy answers "Server still has connections
  // attached to it": the cut sessions and idle connections close asynchronously).
  struct ApplyResult {
    size_t applied = 0;          // ops fully applied
    size_t commands = 0;         // runtime commands sent
    // Remove ops (indices into the ops given) whose "del server" HAProxy refused for connections still attached
    // after brief retries: the server stays in maintenance (no traffic, sessions cut), counted as applied; the
    // next cycle's plan removes it again.
    std::vector<size_t> deferred;
  };
  Result<ApplyResult> apply(const std::vector<core::Op>& ops);

  // Sends commands on one connection and checks each answer against its Expect (retrying those marked
  // retry_while_connected); stops at the first unexpected answer. Returns the number of commands sent.
  Result<size_t> execute(const std::vector<Command>& commands);

  // The commands an op becomes (public for tests and for `plan` output).
  static std::vector<Command> commands_for(const core::Op& op);
  // Replaces a certificate HAProxy loaded from FILE (a bind's "crt FILE") with `pem` (certificate and key, PEM,
  // without empty lines), without a reload: "set ssl cert FILE <<" with the PEM as payload, then
  // "commit ssl cert FILE".
  static std::vector<Command> ssl_cert_update(const std::string& file, const std::string& pem);

 private:
  RuntimeTransport& t_;
};

// Parsers of HAProxy's answers; pure. (split_prompt_answers is in haproxy/unix_socket.h, with the framing.)

// "show servers state" (format 1). Returns backend -> servers (scur left 0).
Result<std::vector<core::ActualBackend>> parse_servers_state(const std::string& text);
// "show stat" CSV: (backend, server) -> scur. Only server rows.
Result<std::vector<std::pair<std::string, std::pair<std::string, int>>>> parse_stat_sessions(const std::string& text);
// "show stat" CSV: each backend row's req_tot, hrsp_5xx, qcur and rtime (other rows skipped).
Result<core::WorkerSample> parse_backend_counters(const std::string& text);

}  // namespace hasg::haproxy
