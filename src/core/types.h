// The value types every stage passes along: what discovery found (Member), what HAProxy should run
// (DesiredBackend), what it runs (ActualBackend), and what to do about the difference (Plan). Plain values with
// equality, so tests compare whole results.
#pragma once

#include <chrono>
#include <compare>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hasg::core {

// The time drains, hooks and health deadlines are counted in: wall-clock time points (the state file keeps them as
// milliseconds since the epoch, so a restart resumes them), but advancing with the steady clock from the first
// reading on. A step of the system clock (NTP correcting a wrong clock, an operator's `date -s`) would otherwise end
// every drain at once when it jumps forward (sessions cut) or hold them for the jump's length when it goes back.
// Across a restart the anchor is read again: a jump while haproxy-asg was down shifts drains by the jump.
struct Clock {
  using duration = std::chrono::system_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::system_clock::time_point;
  static constexpr bool is_steady = false;
  static time_point now() noexcept;
  static std::time_t to_time_t(time_point t) noexcept { return std::chrono::system_clock::to_time_t(t); }
  static time_point from_time_t(std::time_t t) noexcept { return std::chrono::system_clock::from_time_t(t); }
};
using TimePoint = Clock::time_point;

// Clock::now() given its anchor (the wall and steady clocks read together once) and the steady clock now.
TimePoint anchored_now(TimePoint wall_at_anchor, std::chrono::steady_clock::time_point steady_at_anchor,
                       std::chrono::steady_clock::time_point steady_now);

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

// The one rule for "served": a member gets traffic when the group has it InService, EC2 runs it and it has a
// private address. Sets `served` and `not_served_reason`; `described` is false when EC2 did not list the instance.
void classify(Member& m, bool described);
// Whether discovery needs the instance's address and EC2 state: members that could be served, and members waiting
// on a launch hook (added, gated, before they are InService).
bool wants_description(const std::string& lifecycle_state);
// Lifecycle states in which the group itself says an instance is leaving (Terminating*, Detaching,
// EnteringStandby, Standby, Warmed:*): drained at once, without counting against the removal cap.
bool is_leaving(const std::string& lifecycle_state);
// Lifecycle states of an instance on its way in (Pending, Pending:Wait, Pending:Proceed): never drained.
bool is_arriving(const std::string& lifecycle_state);
// The lifecycle states in which an instance waits on the group's termination / launch lifecycle hooks.
bool waits_on_terminate_hook(const std::string& lifecycle_state);
bool waits_on_launch_hook(const std::string& lifecycle_state);
// A member the group counts as InService that EC2 did not describe: its backend's discovery is incomplete.
bool missing_description(const Member& m);

// One group's discovery result. `found` is false when the group does not exist.
// A value from AWS that discovery refused because it is not in AWS's own format (core/aws_values.h): it would break
// or inject into haproxy.cfg or a runtime command. The member it belongs to is not served; the rest of the group is.
struct RefusedValue {
  std::string instance_id;  // as AWS gave it (may be the refused value itself)
  std::string field;        // AWS's name: "InstanceId", "PrivateIpAddress", "Ipv6Address"
  std::string value;        // as AWS gave it (printable() it before logging)
  std::string reason;       // "not an instance id (i- and 8 or 17 hex digits)", ...

  bool operator==(const RefusedValue&) const = default;
  auto operator<=>(const RefusedValue&) const = default;
};

struct GroupMembers {
  std::string group;
  bool found = false;
  std::vector<Member> members;  // sorted by instance_id
  // Values of this group's answer that were not used. The "= {}" keeps brace-initializations that stop at `members`
  // free of -Wmissing-field-initializers.
  std::vector<RefusedValue> refused = {};

  bool operator==(const GroupMembers&) const = default;
};

// A managed backend as configured (an entry of the YAML's `backends:`).
struct BackendSpec {
  std::string backend;         // a backend (or listen) section of the template
  std::string group;           // the Auto Scaling group
  int port = 0;                // the instances' port
  std::string server_options;  // appended to every server line, e.g. "check inter 2s"
  std::chrono::milliseconds drain_timeout{30000};
  std::string address_family = "ipv4";  // "ipv4" or "ipv6": which private address to use
  // The group's lifecycle hooks haproxy-asg owns (key lifecycle_hooks: {terminating, launching}); empty: none.
  std::string hook_terminating;
  std::string hook_launching;
  std::chrono::milliseconds launch_timeout{300000};  // a gated instance not UP by then is ABANDONed
  // Health fed back to the group (key health_feedback: {down_for, max_share}): off unless configured.
  bool health_feedback = false;
  std::chrono::milliseconds down_for{30000};  // DOWN this long (HAProxy's checks) -> reported Unhealthy
  double feedback_max_share = 0.25;           // at most this share of the group's InService instances reported

  bool operator==(const BackendSpec&) const = default;
};

// A server HAProxy should run.
struct DesiredServer {
  std::string name;     // the instance id
  std::string address;  // IPv4 or IPv6, no brackets
  int port = 0;
  int id = 0;           // HAProxy's numeric server id (core/server_id.h); 0: none written

  bool operator==(const DesiredServer&) const = default;
};

// A managed backend and what it should contain. `discovery_complete` is false when discovery failed or was
// partial: then the planner may add and enable but never drains or removes anything.
struct DesiredBackend {
  std::string backend;
  std::string group;
  int port = 0;                        // the configured port (the servers carry their own)
  std::vector<DesiredServer> servers;  // sorted by name
  std::string server_options;          // e.g. "check inter 2s weight 10", applied to every server
  std::chrono::milliseconds drain_timeout{30'000};
  bool discovery_complete = true;
  // The group's members that are not InService, by instance id: their lifecycle state (the group's own word about
  // who is leaving or arriving).
  std::map<std::string, std::string> lifecycle;
  // Lifecycle hooks owned for this backend's group (empty: none), and what the planner needs to know of them.
  std::string hook_terminating;
  std::chrono::milliseconds hook_heartbeat_timeout{3'600'000};  // the terminating hook's HeartbeatTimeout
  std::string hook_launching;
  std::chrono::milliseconds launch_timeout{300'000};
  // Members waiting on the launch hook (Pending:Wait) with an address: added with their checks, out of rotation.
  std::vector<DesiredServer> launching;
  // Health feedback: report a server DOWN for `down_for` to the group as Unhealthy (at most `feedback_max_share`
  // of the group's InService instances reported and not yet replaced at once).
  bool health_feedback = false;
  std::chrono::milliseconds down_for{30'000};
  double feedback_max_share = 0.25;
  std::size_t in_service = 0;  // the group's InService members
  // With health feedback: members the group already treats as going (HealthStatus Unhealthy, or not InService).
  // A report stays counted while its instance is one of them; one the group ignored (grace period) is forgotten.
  std::set<std::string> unhealthy_or_leaving;

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
  int id = 0;                 // srv_id: its numeric id (kept for its life: changing it takes a del and an add)
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
  // Auto Scaling, applied after HAProxy's ops:
  CompleteLifecycle,  // CompleteLifecycleAction(group, hook, instance, result)
  Heartbeat,          // RecordLifecycleActionHeartbeat(group, hook, instance)
  ReportUnhealthy,    // SetInstanceHealth(instance, Unhealthy, ShouldRespectGracePeriod)
  RecordDrained,      // EC2 CreateTags on the departing instance: key drained_tag_key(node), value the time
};

// Ops for Auto Scaling, applied after HAProxy's.
inline bool is_lifecycle_op(OpKind k) {
  return k == OpKind::CompleteLifecycle || k == OpKind::Heartbeat || k == OpKind::ReportUnhealthy ||
         k == OpKind::RecordDrained;
}

struct Op {
  OpKind kind;
  std::string backend;
  std::string server;
  std::string address;         // Add, SetAddress
  int port = 0;                // Add, SetAddress
  std::string server_options;  // Add
  std::string reason;          // why, for the log line: "new InService instance", "drained (0 sessions)", ...
  bool hold = false;           // Add: checks run but no traffic (left in drain) until an Enable after a passed check
  std::string group{};         // CompleteLifecycle, Heartbeat
  std::string hook{};          // CompleteLifecycle, Heartbeat
  std::string result{};        // CompleteLifecycle: CONTINUE or ABANDON
  std::string tag_key{};       // RecordDrained: the tag written on the instance `server`, and its value
  std::string tag_value{};
  int server_id = 0;           // Add: the server's numeric id (core/server_id.h), 0 for none

  bool operator==(const Op&) const = default;
};

// An instance waiting on a lifecycle hook haproxy-asg owns, as the planner remembers it between cycles.
struct HookWait {
  std::string group;
  std::string hook;
  std::string transition;  // "terminating" or "launching"
  TimePoint since;          // first seen waiting
  TimePoint last_beat;      // the last heartbeat sent (since, before the first)
  bool completed = false;   // our CompleteLifecycleAction succeeded (or another balancer's did): not again
  bool recorded = false;    // cluster: our "drained by this node" tag is on the instance (written or seen)

  bool operator==(const HookWait&) const = default;
};
using HookBook = std::map<std::string, HookWait>;  // key: "group/instance"

// Several load balancers in front of the same groups (key cluster: {group, node_id}): the nodes are the InService
// instances of their own Auto Scaling group, and each tells the others that it is done with a departing instance by
// a tag on that instance (drained_tag_key(node)). A termination hook completes once every current node drained it.
struct ClusterView {
  bool enabled = false;          // `cluster:` is configured
  std::string self;              // this node's id (its instance id)
  std::set<std::string> nodes;   // the cluster group's InService instances now (self among them, or not yet)
  // False when the cluster group was not found or the records could not be read: no completion is decided on it
  // before the drain timeout.
  bool complete = true;
  std::map<std::string, std::set<std::string>> drained;  // departing instance -> nodes whose record is on it

  // The nodes other than this one (a cluster of one has none: it behaves as without `cluster`).
  std::set<std::string> others() const {
    std::set<std::string> out = nodes;
    out.erase(self);
    return out;
  }
  bool operator==(const ClusterView&) const = default;
};

// The tag a node writes on an instance it drained: "haproxy-asg:drained:" + node id (EC2 tag keys: at most 127
// characters, not starting with "aws:"; instance ids are at most 19).
inline constexpr std::string_view kDrainedTagPrefix = "haproxy-asg:drained:";
inline std::string drained_tag_key(const std::string& node) { return std::string(kDrainedTagPrefix) + node; }

// Heartbeats of a termination hook: every third of its heartbeat timeout (at least every second).
std::chrono::milliseconds heartbeat_every(std::chrono::milliseconds heartbeat_timeout);

// What a cycle carries to the next one: taken by a cycle and returned by it, kept in the state file.
struct SyncState {
  DrainBook drains;             // servers being drained, and since when
  bool reload_pending = false;  // the file holds a structural change HAProxy has not reloaded yet
  // A reload an edge asked for, with its reason (the certificate watch, for a change the Runtime API cannot make);
  // empty when none. Not kept in the state file: the asker sees the need again after a restart.
  std::string reload_requested;
  HookBook hooks;               // instances waiting on our lifecycle hooks
  // Health feedback: since when each served server ("backend/server") is DOWN by HAProxy's checks, and the
  // instances ("group/instance") reported Unhealthy and still members (never reported twice).
  std::map<std::string, TimePoint> down_since;
  std::set<std::string> reported;

  bool operator==(const SyncState&) const = default;
};

struct Plan {
  std::vector<Op> ops;              // in the order to apply
  bool reload_needed = false;       // a backend is missing, the structure changed, or a reload is still pending
  std::string reload_reason;
  // Non-empty: the cycle must stop before changing anything, for this reason (an incomplete discovery of a backend
  // HAProxy does not serve: writing its members alone could empty it).
  std::string refusal;
  std::vector<std::string> warnings;  // e.g. a removal held back by the cap
  DrainBook drains;                   // the drain book after this plan is applied
  HookBook hooks;                     // the hook book after this plan (completions marked by the applier)
  std::map<std::string, TimePoint> down_since;  // after this plan
  std::set<std::string> reported;               // after this plan (new reports are added by the applier)
  // The earliest time something timed needs a cycle (a drain or launch timeout, a heartbeat due); none if nothing.
  std::optional<TimePoint> next_due;

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
