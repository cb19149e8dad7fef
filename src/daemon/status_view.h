// Per backend and server, the group's view beside HAProxy's: what `haproxy-asg status` prints, what its `--watch`
// screen shows, and what `/status` serves, built in one place so that they never disagree. The view is a value
// (StatusBackend); its JSON is the /status contract and reads back into the same value (`status --url`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/syncer.h"
#include "haproxy/server_stats.h"

namespace hasg::daemon {

struct StatusHook {
  std::string name;
  std::string transition;  // "terminating" or "launching"
  double waiting_seconds = 0;
  bool completed = false;
  bool operator==(const StatusHook&) const = default;
};

// The group's view of an instance.
struct StatusGroupSide {
  std::string lifecycle;  // "InService", "Terminating:Wait", ...
  bool served = false;
  std::string address;  // the private address haproxy-asg uses (IPv4 or IPv6, per address_family)
  std::string reason;   // why not served
  std::string zone;     // availability zone
  std::string health;   // "Healthy" / "Unhealthy"
  std::optional<StatusHook> hook;
  bool operator==(const StatusGroupSide&) const = default;
};

// HAProxy's view of a server: its state from "show servers state", and its statistics from "show stat" when they
// were read (`has_stats`).
struct StatusHaproxySide {
  std::string address;  // "127.0.0.2:80"
  std::string ip;       // "127.0.0.2"
  std::string admin;    // "ready", "drain", "maint"
  bool up = false;
  int sessions = 0;
  bool has_stats = false;
  std::string status;        // "UP", "DOWN", "DRAIN", "MAINT", "no check", "UP 1/3", ...
  int weight = 0;
  long long requests = -1;   // cumulative (req_tot, or stot in TCP mode); -1 unknown
  long long last_change_seconds = -1;
  std::string check_status;  // "L7OK", "L4CON", ...; empty: no check
  std::string check_code;
  int check_ms = -1;
  std::string check_detail;
  bool operator==(const StatusHaproxySide&) const = default;
};

// A drain in progress. Known (`estimated` false) from the drain book: since its start, for the backend's
// drain_timeout. Without a book entry (no daemon state), estimated from HAProxy's lastchg, which
// "set server state drain" resets (seen on 2.6.12); a status change during the drain (DOWN) resets it too, so it
// is only an estimate. Absent seconds: unknown.
struct StatusDrain {
  std::optional<double> seconds;       // since the drain started
  double timeout_seconds = 0;
  std::optional<double> seconds_left;  // until drain_timeout removes it anyway
  bool estimated = false;
  bool operator==(const StatusDrain&) const = default;
};

struct StatusServer {
  std::string server;  // the instance id
  std::optional<StatusGroupSide> group;      // absent: the group does not list it
  std::optional<StatusHaproxySide> haproxy;  // absent: HAProxy does not have it
  std::optional<StatusDrain> drain;
  // Where the two views disagree, in words ("in the group InService, not in HAProxy", ...); empty when they agree.
  std::vector<std::string> mismatches;
  bool operator==(const StatusServer&) const = default;
};

struct StatusBackend {
  std::string backend;
  std::string group;
  bool haproxy_running = false;
  std::vector<StatusServer> servers;  // sorted by name
  bool operator==(const StatusBackend&) const = default;
};

// HAProxy's servers and their statistics, read now (fresher than a cycle's report, whose view of HAProxy is from
// before its plan).
struct HaproxyNow {
  bool running = false;
  std::vector<core::ActualBackend> actual;
  haproxy::ServerStatsMap stats;
};

// Reads HaproxyNow for the backends over the runtime socket; HAProxy not running is `running` false, not an Error.
Result<HaproxyNow> read_haproxy_now(const std::string& runtime_socket, const std::vector<std::string>& backends);

// What the view adds to a cycle's report when the caller has it.
struct StatusInputs {
  const core::DrainBook* drains = nullptr;  // the drains in progress and their start (the daemon's, or its state file)
  const HaproxyNow* haproxy = nullptr;      // null: the report's view of HAProxy, without statistics
  core::TimePoint now = core::Clock::now();
};

// Pure: the view of every configured backend.
std::vector<StatusBackend> status_view(const config::Config& cfg, const CycleReport& report,
                                       const StatusInputs& in = {});

// Where a server's two views disagree (what status_view puts in `mismatches`).
std::vector<std::string> status_mismatches(const StatusServer& s);

// [{"backend", "group", "haproxy_running", "servers": [{"server", "group": {...}, "haproxy": {...}, "drain": {...},
// "mismatches": [...]}]}]; "group" is absent for a server the group does not list, "haproxy" for one HAProxy lacks,
// "drain" when it is not draining.
nlohmann::json status_to_json(const std::vector<StatusBackend>& view);
// The view back from status_to_json's output (a daemon's /status "backends"); an Error naming what is missing.
Result<std::vector<StatusBackend>> status_from_json(const nlohmann::json& backends);

}  // namespace hasg::daemon
