// The value types every stage passes along: what discovery found (Member), what HAProxy should run
// (DesiredBackend), what it runs (ActualBackend), and what to do about the difference (Plan). Plain values with
// equality, so tests compare whole results.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hasg::core {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// One instance of an Auto Scaling group, as discovery saw it.
struct Member {
  std::string instance_id;
  std::string group;
  std::string lifecycle_state;    // Auto Scaling LifecycleState: "InService", "Pending", "Terminating:Wait", ...
  std::string health_status;      // "Healthy" / "Unhealthy"
  std::string availability_zone;
  std::string instance_state;     // EC2 state name ("running", "stopped", ...); empty when EC2 did not list it
  std::string private_ipv4;       // empty when none
  std::string ipv6;               // first IPv6 address, empty when none
  bool served = false;            // InService and running, with an address
  std::string not_served_reason;  // empty when served

  bool operator==(const Member&) const = default;
};

// One group's discovery result. `found` is false when the group does not exist.
struct GroupMembers {
  std::string group;
  bool found = false;
  std::vector<Member> members;  // sorted by instance_id

  bool operator==(const GroupMembers&) const = default;
};

// A server HAProxy should run.
struct DesiredServer {
  std::string name;     // the instance id
  std::string address;  // IPv4 or IPv6, no brackets
  int port = 0;

  bool operator==(const DesiredServer&) const = default;
};

// A managed backend and what it should contain. `discovery_complete` is false when discovery failed or was
// partial: then the planner may add and enable but never drains or removes anything.
struct DesiredBackend {
  std::string backend;
  std::string group;
  std::vector<DesiredServer> servers;  // sorted by name
  std::string server_options;          // e.g. "check inter 2s weight 10", applied to every server
  std::chrono::milliseconds drain_timeout{30'000};
  bool discovery_complete = true;

  bool operator==(const DesiredBackend&) const = default;
};

enum class AdminState { Ready, Drain, Maint };

// A server as HAProxy's runtime API reports it.
struct ActualServer {
  std::string name;
  std::string address;
  int port = 0;
  AdminState admin = AdminState::Ready;
  bool up = false;            // operational state: running (checks passing, or no checks)
  int current_sessions = 0;   // scur from "show stat"
  bool check_enabled = false; // health checks run on it now (configured, enabled, not paused by maintenance)
  // Its last health check passed (false before the first one: not the starting state). After failed checks one
  // pass is not yet `up` (HAProxy needs `rise` in a row): a launch gate waits for check_passed && up.
  bool check_passed = false;
  bool operator==(const ActualServer&) const = default;
};

struct ActualBackend {
  std::string backend;
  bool exists = true;                 // false when HAProxy has no such backend (a reload is needed)
  std::vector<ActualServer> servers;  // sorted by name

  bool operator==(const ActualBackend&) const = default;
};

// What the planner remembers between cycles about servers it is draining.
struct DrainRecord {
  TimePoint since;
  bool operator==(const DrainRecord&) const = default;
};
using DrainBook = std::map<std::string, DrainRecord>;  // key: "backend/server"

enum class OpKind {
  Add,         // add server (arrives in maintenance), start its checks, then set it ready
  Enable,      // set server ready (back from drain or maintenance)
  SetAddress,  // set server addr/port in place
  Drain,       // set server drain: no new requests, running ones finish
  Remove,      // set maint (cutting what is left after a timeout), then del server
};

struct Op {
  OpKind kind;
  std::string backend;
  std::string server;
  std::string address;         // Add, SetAddress
  int port = 0;                // Add, SetAddress
  std::string server_options;  // Add
  std::string reason;          // why, for the log line: "new InService instance", "drained (0 sessions)", ...
  bool hold = false;           // Add: checks run but no traffic (left in drain) until an Enable after a passed check

  bool operator==(const Op&) const = default;
};

struct Plan {
  std::vector<Op> ops;              // in the order to apply
  bool reload_needed = false;       // the configuration's structure changed (decided by the caller's comparison)
  std::string reload_reason;
  std::vector<std::string> warnings;  // e.g. a removal held back by the cap
  DrainBook drains;                   // the drain book after this plan is applied

  bool empty() const { return ops.empty() && !reload_needed; }
  bool operator==(const Plan&) const = default;
};

// "backend/server": how HAProxy's runtime API names a server, and the key of the drain book and of unmanaged sets.
std::string server_key(const std::string& backend, const std::string& server);
// "127.0.0.2:80", "[::1]:80": an address and port as HAProxy takes them (IPv6 in brackets: checked with
// "add server" on 2.6.12, registered as ::1 port 80).
std::string endpoint(const std::string& address, int port);

const char* to_string(OpKind k);
const char* to_string(AdminState s);

}  // namespace hasg::core
