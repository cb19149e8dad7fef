// The planner: desired membership vs HAProxy's actual servers, plus the drain book and the time, gives an ordered,
// duplicate-free plan. Pure and deterministic: same input, same plan.
//
// Rules worth knowing (the header has the contract; these are the decisions behind it):
// - HAProxy not running: no ops and no reload (only the file is written); the drain book is emptied.
// - A backend HAProxy lacks (missing or exists=false) gets no ops; the plan asks for a reload naming it. Otherwise
//   a structural change of the configuration (or no file yet) asks for a reload, and so does a reload written
//   earlier that did not complete.
// - A backend whose discovery was incomplete and that HAProxy does not serve (not running, or lacking it) refuses
//   the cycle: writing its members alone could leave it empty.
// - Servers listed in `unmanaged` ("backend/server") are invisible here: never added, changed, drained or removed,
//   and not counted by the removal cap.
// - A desired server is added when absent; otherwise its address is set in place when it differs (SetAddress) and
//   it is enabled when in drain or maintenance (Enable, after SetAddress). A desired server never keeps a drain-book
//   entry.
// - A managed server that is not desired:
//   * discovery incomplete: nothing at all (no drain, no remove, no adoption into the book); existing book entries
//     are kept unchanged; one warning per backend.
//   * in drain, or in the drain book (whatever its admin state): removed when its sessions reached 0, or once
//     drain_timeout passed since the book entry; otherwise it keeps draining. In drain without a book entry (the
//     daemon restarted mid-drain) it is adopted with since=now. In the book but shown Ready (the drain command was
//     lost) it gets a Drain op again, keeping its original `since`; it does not use the removal cap (it already did).
//   * in maintenance and not in the book (left there by an interrupted cycle): removed.
//   * Ready: drained, at most max(1, floor(max_remove_fraction * managed Ready servers)) a cycle per backend, by name;
//     the rest wait for later cycles, with a warning.
// - A book entry whose `since` lies in the future (the clock went back) is clamped to now, so a drain never lasts
//   more than drain_timeout after the jump.
// - Book entries of servers or backends that are no longer there (or no longer managed) are dropped.
// - stable_until(): the earliest time at which the same input could give another plan (a drain's timeout, or
//   next_due: a heartbeat, a launch or health-feedback timeout, a cluster wait's end); before it, the plan depends
//   on the input alone, which is what lets the syncer skip an unchanged cycle.
// - Ops are ordered Add, SetAddress, Enable (capacity first), then Drain, then Remove; within a kind by backend, then
//   server name.

#include "core/planner.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include "core/server_id.h"

namespace hasg::core {
namespace {


// Same address, also when two spellings of one IPv6 address differ (HAProxy may print it otherwise than EC2).
bool same_address(const std::string& a, const std::string& b) {
  if (a == b) return true;
  std::array<unsigned char, 16> x{}, y{};
  if (inet_pton(AF_INET6, a.c_str(), x.data()) == 1 && inet_pton(AF_INET6, b.c_str(), y.data()) == 1) return x == y;
  return false;
}

// "30s", "1.5s", "0.25s".
std::string seconds_text(std::chrono::milliseconds d) {
  long long ms = std::max<long long>(0, d.count());
  std::string text = std::to_string(ms / 1000);
  if (long long frac = ms % 1000; frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03lld", frac);
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    text += f;
  }
  return text + "s";
}

int kind_rank(OpKind k) {
  switch (k) {
    case OpKind::Add: return 0;
    case OpKind::SetAddress: return 1;
    case OpKind::Enable: return 2;
    case OpKind::Drain: return 3;
    case OpKind::Remove: return 4;
    case OpKind::RecordDrained: return 5;
    case OpKind::CompleteLifecycle: return 6;
    case OpKind::Heartbeat: return 7;
    case OpKind::ReportUnhealthy: return 8;
  }
  return 9;
}

// max(1, floor(fraction * ready)). The small epsilon keeps e.g. 0.29 * 100 (28.999999999999996) at 29.
std::size_t removal_cap(double fraction, std::size_t ready) {
  if (!(fraction > 0)) fraction = 0;  // also NaN
  if (fraction > 1) fraction = 1;
  auto n = static_cast<std::size_t>(std::floor(fraction * static_cast<double>(ready) + 1e-9));
  return std::max<std::size_t>(1, n);
}

// A gated server may take traffic once its last check passed and HAProxy counts it up: on 2.6.12, after failed
// checks the first pass still shows "DOWN 1/2" (rise not reached) and gets no traffic even when set ready.
bool passed_check(const ActualServer& s) { return s.check_passed && s.up; }

std::string servers_word(std::size_t n) { return n == 1 ? "server" : "servers"; }

Op make_op(OpKind kind, const std::string& backend, const std::string& server, std::string reason) {
  Op op{};
  op.kind = kind;
  op.backend = backend;
  op.server = server;
  op.reason = std::move(reason);
  return op;
}

// Ids for the servers this plan adds to a backend (ops from `first`): the ids of every server HAProxy holds there
// (draining ones, the template's own) are taken, since `add server ... id N` is refused for an id in use (2.6
// srv_parse_id(): "custom id N already used"); the rest follows assign_server_ids(). A server already there keeps
// the id it has, even one that is not its stable id (added by an older version, or after a collision): an id
// cannot change at runtime, and a del and an add would cut its connections for nothing the file cannot fix at the
// next reload (core/membership.h).
void assign_add_ids(const ActualBackend& have, std::vector<Op>& ops, std::size_t first) {
  std::vector<std::string> names;
  for (std::size_t i = first; i < ops.size(); ++i)
    if (ops[i].kind == OpKind::Add) names.push_back(ops[i].server);
  if (names.empty()) return;
  std::set<int> taken;
  for (const ActualServer& s : have.servers)
    if (s.id > 0) taken.insert(s.id);
  auto ids = assign_server_ids(std::move(names), taken);
  for (std::size_t i = first; i < ops.size(); ++i)
    if (ops[i].kind == OpKind::Add) ops[i].server_id = ids[ops[i].server];
}

void plan_backend(const DesiredBackend& want, const ActualBackend& have, const PlanInput& in, Plan& out) {
  const std::string& be = want.backend;
  auto managed = [&](const std::string& server) { return !in.unmanaged.contains(server_key(be, server)); };
  auto book = [&](const std::string& server) -> const DrainRecord* {
    auto it = in.drains.find(server_key(be, server));
    return it == in.drains.end() ? nullptr : &it->second;
  };

  const std::size_t first_op = out.ops.size();
  // First entry wins should a name appear twice, so that no server gets two ops of one kind.
  std::map<std::string_view, const ActualServer*> actual;
  for (const ActualServer& s : have.servers) actual.emplace(s.name, &s);

  // Desired servers: add, set address, enable.
  std::map<std::string_view, const DesiredServer*> desired;
  for (const DesiredServer& s : want.servers) {
    if (!managed(s.name) || !desired.emplace(s.name, &s).second) continue;
    auto it = actual.find(s.name);
    if (it == actual.end()) {
      Op op = make_op(OpKind::Add, be, s.name, "new member " + s.address);
      op.address = s.address;
      op.port = s.port;
      op.server_options = want.server_options;
      out.ops.push_back(std::move(op));
      continue;
    }
    const ActualServer& a = *it->second;
    if (!same_address(a.address, s.address) || a.port != s.port) {
      Op op = make_op(OpKind::SetAddress, be, s.name,
                      "address " + endpoint(a.address, a.port) + " -> " + endpoint(s.address, s.port));
      op.address = s.address;
      op.port = s.port;
      out.ops.push_back(std::move(op));
    }
    if (a.admin == AdminState::Drain) out.ops.push_back(make_op(OpKind::Enable, be, s.name, "back in service"));
    if (a.admin == AdminState::Maint) out.ops.push_back(make_op(OpKind::Enable, be, s.name, "was in maintenance"));
  }

  // Members waiting on our launch hook: added with their checks but out of rotation, put in rotation once a check
  // has passed (the hook is completed by the lifecycle pass, after this op).
  if (!want.hook_launching.empty()) {
    for (const DesiredServer& s : want.launching) {
      if (!managed(s.name) || desired.contains(s.name)) continue;
      auto it = actual.find(s.name);
      if (it == actual.end()) {
        Op op = make_op(OpKind::Add, be, s.name, "launching " + s.address + " (Pending:Wait): checks on, out of rotation until one passes");
        op.address = s.address;
        op.port = s.port;
        op.server_options = want.server_options;
        op.hold = true;
        out.ops.push_back(std::move(op));
      } else if (it->second->admin != AdminState::Ready && passed_check(*it->second)) {
        out.ops.push_back(make_op(OpKind::Enable, be, s.name, "passed its first health check"));
      }
    }
  }
  assign_add_ids(have, out.ops, first_op);

  auto lifecycle_of = [&](std::string_view server) -> const std::string* {
    auto it = want.lifecycle.find(std::string(server));
    return it == want.lifecycle.end() ? nullptr : &it->second;
  };

  // Managed servers that are not desired.
  std::size_t ready = 0;
  std::size_t held_incomplete = 0;
  std::vector<const ActualServer*> candidates;  // Ready, to be drained; by name (the map's order)
  for (const auto& [name, a] : actual) {
    if (!managed(a->name)) continue;
    if (a->admin == AdminState::Ready) ++ready;
    if (desired.contains(name)) continue;
    const std::string key = server_key(be, a->name);
    const DrainRecord* rec = book(a->name);
    const std::string* state = lifecycle_of(name);
    // On its way in (gated by a launch hook, or between the hook's completion and InService): kept as it is.
    if (state != nullptr && is_arriving(*state)) continue;
    // The group's own word that it leaves: drained whatever the cap, also when discovery was otherwise incomplete.
    const bool leaving = state != nullptr && is_leaving(*state);

    if (!want.discovery_complete && !leaving) {
      ++held_incomplete;
      if (rec != nullptr) out.drains[key] = *rec;
      continue;
    }

    if (rec != nullptr || a->admin == AdminState::Drain) {
      if (a->current_sessions <= 0) {
        out.ops.push_back(make_op(OpKind::Remove, be, a->name, "drained"));
        continue;
      }
      if (rec == nullptr) {  // draining when the daemon (re)started: its drain starts counting now
        out.drains[key] = DrainRecord{in.now};
        continue;
      }
      TimePoint since = std::min(rec->since, in.now);
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(in.now - since);
      if (elapsed >= want.drain_timeout) {
        out.ops.push_back(make_op(OpKind::Remove, be, a->name,
                                  "drain timeout after " + seconds_text(elapsed) + " with " +
                                      std::to_string(a->current_sessions) + " sessions"));
        continue;
      }
      out.drains[key] = DrainRecord{since};
      if (a->admin == AdminState::Ready) {
        out.ops.push_back(make_op(OpKind::Drain, be, a->name, "no longer a member (drain again: HAProxy shows it ready)"));
      }
      continue;
    }

    if (a->admin == AdminState::Maint) {
      out.ops.push_back(make_op(OpKind::Remove, be, a->name, "in maintenance, not a member"));
      continue;
    }
    if (leaving) {
      out.ops.push_back(make_op(OpKind::Drain, be, a->name, "leaving the group (" + *state + ")"));
      out.drains[key] = DrainRecord{in.now};
      continue;
    }
    candidates.push_back(a);
  }

  if (held_incomplete > 0) {
    out.warnings.push_back("backend " + be + ": discovery of group " + want.group +
                           " was incomplete; not draining or removing " + std::to_string(held_incomplete) + " " +
                           servers_word(held_incomplete) + " that may no longer be members");
  }

  std::size_t cap = in.options.unlimited_removal ? candidates.size() : removal_cap(in.options.max_remove_fraction, ready);
  for (std::size_t i = 0; i < candidates.size() && i < cap; ++i) {
    const ActualServer& a = *candidates[i];
    out.ops.push_back(make_op(OpKind::Drain, be, a.name, "no longer a member"));
    out.drains[server_key(be, a.name)] = DrainRecord{in.now};
  }
  if (candidates.size() > cap) {
    std::size_t held = candidates.size() - cap;
    out.warnings.push_back("backend " + be + ": removal cap held back " + std::to_string(held) + " of " +
                           std::to_string(candidates.size()) + " " + servers_word(candidates.size()) +
                           " no longer members (at most " + std::to_string(cap) + " of " + std::to_string(ready) +
                           " serving drained per cycle); they will be drained in later cycles");
  }
}

// A backend whose discovery was incomplete may only keep what HAProxy already serves. Without HAProxy's view of it
// there is nothing to keep it from: the file would hold the desired servers alone and could empty the backend.
std::string refusal(const PlanInput& input) {
  for (const DesiredBackend& d : input.desired) {
    if (d.discovery_complete) continue;
    auto it = std::find_if(input.actual.begin(), input.actual.end(),
                           [&](const ActualBackend& a) { return a.backend == d.backend; });
    if (!input.haproxy_running || it == input.actual.end() || !it->exists)
      return "group " + d.group + " of backend " + d.backend +
             " was not found or not fully described, and HAProxy does not serve that backend now: "
             "not writing a configuration that could leave it empty";
  }
  return {};
}

// Whether `server` of backend `be` is in HAProxy after the plan's HAProxy ops (draining counts: it still serves).
bool served_after(const PlanInput& in, const Plan& out, const std::string& be, const std::string& server) {
  if (!in.haproxy_running || in.unmanaged.contains(server_key(be, server))) return false;
  auto b = std::find_if(in.actual.begin(), in.actual.end(), [&](const ActualBackend& a) { return a.backend == be; });
  if (b == in.actual.end() || !b->exists) return false;
  bool present = std::any_of(b->servers.begin(), b->servers.end(), [&](const ActualServer& s) { return s.name == server; });
  if (!present) return false;
  return std::none_of(out.ops.begin(), out.ops.end(), [&](const Op& op) {
    return op.kind == OpKind::Remove && op.backend == be && op.server == server;
  });
}

const ActualServer* actual_server(const PlanInput& in, const std::string& be, const std::string& server) {
  if (!in.haproxy_running) return nullptr;
  auto b = std::find_if(in.actual.begin(), in.actual.end(), [&](const ActualBackend& a) { return a.backend == be; });
  if (b == in.actual.end() || !b->exists) return nullptr;
  auto s = std::find_if(b->servers.begin(), b->servers.end(), [&](const ActualServer& x) { return x.name == server; });
  return s == b->servers.end() ? nullptr : &*s;
}

Op lifecycle_op(OpKind kind, const std::string& backend, const std::string& group, const std::string& hook,
                const std::string& instance, std::string result, std::string reason) {
  Op op = make_op(kind, backend, instance, std::move(reason));
  op.group = group;
  op.hook = hook;
  op.result = std::move(result);
  return op;
}

void due_at(Plan& out, TimePoint t) {
  if (!out.next_due || t < *out.next_due) out.next_due = t;
}

// "2026-12-01T16:37:44Z": the value of a drain record (when this node was done).
std::string utc_text(TimePoint t) {
  std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What a node that is done with a departing instance does about the rest of the cluster.
struct ClusterWait {
  std::optional<std::string> complete_reason;  // set: complete the hook now (appended to the reason)
  bool record = false;                         // write our "drained by this node" record
  std::string missing;                         // the nodes waited for, for the log
  TimePoint deadline;                          // when the wait ends whatever the others do
};

// Without `cluster`, or in a cluster of one: complete at once, as always. Otherwise complete once every current
// node other than this one recorded that it drained the instance; nodes that left the cluster group (or went out
// of InService) are no longer waited for. A view that could not be read completes nothing before the drain timeout;
// the drain timeout (counted from the first sight of the wait, the longest of the group's backends, plus two polling
// intervals for the nodes that saw the wait later) bounds the wait for a node that never finishes.
ClusterWait cluster_wait(const PlanInput& in, const std::string& group, const std::string& instance,
                         HookWait& rec) {
  ClusterWait w;
  const ClusterView& c = in.cluster;
  const std::set<std::string> others = c.others();
  if (!c.enabled || (c.complete && others.empty())) {
    w.complete_reason = "";
    return w;
  }
  // Every backend of the group counts (another node may be draining the instance from a backend without the hook,
  // with a longer drain_timeout), and the other nodes may have seen the wait up to an interval later than this one.
  std::chrono::milliseconds timeout{0};
  for (const DesiredBackend& d : in.desired)
    if (d.group == group) timeout = std::max(timeout, d.drain_timeout);
  w.deadline = rec.since + timeout + 2 * in.poll_interval;

  static const std::set<std::string> none;
  auto found = c.drained.find(instance);
  const std::set<std::string>& recorded = found == c.drained.end() ? none : found->second;
  if (recorded.contains(c.self)) rec.recorded = true;
  std::vector<std::string> missing;
  for (const auto& n : others)
    if (!recorded.contains(n)) missing.push_back(n);
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& n : v) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  if (c.complete && missing.empty()) {
    w.complete_reason = "; every other node of the cluster drained it too (" + list({others.begin(), others.end()}) + ")";
    return w;
  }
  w.missing = c.complete ? (missing.size() == 1 ? "node " : "nodes ") + list(missing)
                         : "the cluster's nodes (their records could not be read)";
  if (in.now >= w.deadline) {
    w.complete_reason = "; drain timeout " + seconds_text(timeout) + " passed waiting for " + w.missing;
    return w;
  }
  w.record = !rec.recorded && !c.self.empty();
  return w;
}

// The lifecycle hooks haproxy-asg owns, per group (several backends may serve one group: a hook completes only when
// every one of them is done with the instance). Termination: completed (CONTINUE) once no backend serves the
// instance any more, heartbeats while a drain lasts past half the heartbeat timeout. Launch: completed (CONTINUE)
// once every backend owning the hook saw a passed check, ABANDON after launch_timeout. Hooks not configured are
// never completed.
void plan_lifecycle(const PlanInput& in, Plan& out) {
  std::map<std::string, std::vector<const DesiredBackend*>> by_group;
  std::set<std::string> seen_backends;
  for (const DesiredBackend& d : in.desired)
    if (seen_backends.insert(d.backend).second) by_group[d.group].push_back(&d);

  for (const auto& [group, backends] : by_group) {
    std::map<std::string, const DesiredBackend*> term_hooks, launch_hooks;  // hook -> first backend owning it
    for (const DesiredBackend* d : backends) {
      if (!d->hook_terminating.empty()) term_hooks.emplace(d->hook_terminating, d);
      if (!d->hook_launching.empty()) launch_hooks.emplace(d->hook_launching, d);
    }
    if (term_hooks.empty() && launch_hooks.empty()) continue;
    // Every backend of the group was built from the same members: the first one's lifecycle map is the group's.
    for (const auto& [instance, state] : backends.front()->lifecycle) {
      const bool terminating = waits_on_terminate_hook(state);
      const bool launching = waits_on_launch_hook(state);
      for (const auto& [hook, owner] : terminating ? term_hooks : launching ? launch_hooks : decltype(term_hooks){}) {
        const std::string key = group + "/" + hook + "/" + instance;
        HookWait rec;
        const bool first_sight = !in.hooks.contains(key);
        if (auto it = in.hooks.find(key); it != in.hooks.end()) {
          rec = it->second;
          rec.since = std::min(rec.since, in.now);  // a clock that went back
          rec.last_beat = std::min(rec.last_beat, in.now);
        } else {
          rec = HookWait{group, hook, terminating ? "terminating" : "launching", in.now, in.now, false};
        }
        out.hooks[key] = rec;
        if (rec.completed) continue;

        if (terminating) {
          bool served = false;
          bool removed_now = false;
          // A drain HAProxy may still be finishing out of our sight: without HAProxy's view at all, or a draining
          // server that vanished without our Remove (a reload: the old worker streams on). Held until its
          // drain_timeout, never completed early.
          std::optional<TimePoint> held_until;
          auto hold = [&](TimePoint until) {
            if (!held_until || until > *held_until) held_until = until;
          };
          for (const DesiredBackend* d : backends) {
            const bool here = served_after(in, out, d->backend, instance);
            // (A structured binding is captured through an init-capture: clang 14, the fuzz build's, allows no more.)
            const bool removed = std::any_of(out.ops.begin(), out.ops.end(), [&, &id = instance](const Op& op) {
              return op.kind == OpKind::Remove && op.backend == d->backend && op.server == id;
            });
            served = served || here;
            removed_now = removed_now || removed;
            if (!in.haproxy_running) {
              hold(rec.since + d->drain_timeout);
              continue;
            }
            const std::string drain_key = server_key(d->backend, instance);
            auto book = in.drains.find(drain_key);
            if (!here && !removed && book != in.drains.end() && in.now < book->second.since + d->drain_timeout) {
              hold(book->second.since + d->drain_timeout);
              out.drains[drain_key] = book->second;  // kept, so the next cycles still know
            }
          }
          const bool held = !served && held_until && in.now < *held_until;
          std::string waiting_for;  // cluster: the other nodes this one waits for, for the heartbeat's reason
          if (!served && !held) {
            const std::string done = removed_now ? "drained and removed"
                                     : held_until ? "drain timeout passed out of HAProxy's sight"
                                                  : "not served by HAProxy";
            ClusterWait wait = cluster_wait(in, group, instance, rec);
            out.hooks[key] = rec;  // with `recorded` when our record was seen on the instance
            if (wait.complete_reason) {
              out.ops.push_back(lifecycle_op(OpKind::CompleteLifecycle, owner->backend, group, hook, instance,
                                             "CONTINUE", done + *wait.complete_reason));
              continue;
            }
            // Done here, not everywhere: tell the others (once), keep the hook alive while they drain, and wake
            // at the drain timeout, which bounds the wait for a node that never finishes.
            if (wait.record) {
              Op op = lifecycle_op(OpKind::RecordDrained, owner->backend, group, hook, instance, "",
                                   done + " here; waiting for " + wait.missing);
              op.tag_key = drained_tag_key(in.cluster.self);
              op.tag_value = utc_text(in.now);
              out.ops.push_back(std::move(op));
            }
            due_at(out, wait.deadline);
            waiting_for = wait.missing;
          }
          if (held) due_at(out, *held_until);
          // Heartbeats keep the hook alive while the drain lasts (here or on another node of the cluster): every
          // third of the heartbeat timeout, and at first sight (the wait may have begun up to an interval earlier).
          auto beat_every = heartbeat_every(owner->hook_heartbeat_timeout);
          if (first_sight || in.now - rec.last_beat >= beat_every) {
            auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(in.now - rec.since);
            out.ops.push_back(lifecycle_op(OpKind::Heartbeat, owner->backend, group, hook, instance, "",
                                           waiting_for.empty() ? "draining for " + seconds_text(waited)
                                                               : "waiting " + seconds_text(waited) + " for " +
                                                                     waiting_for + " to drain it"));
            due_at(out, in.now + beat_every);
          } else {
            due_at(out, rec.last_beat + beat_every);
          }
          continue;
        }

        // Launching.
        if (state == "Warmed:Pending:Wait") {
          out.ops.push_back(lifecycle_op(OpKind::CompleteLifecycle, owner->backend, group, hook, instance, "CONTINUE",
                                         "entering the warm pool: no traffic to gate"));
          continue;
        }
        bool passed = true;
        for (const DesiredBackend* d : backends) {
          if (d->hook_launching != hook) continue;
          const ActualServer* a = actual_server(in, d->backend, instance);
          passed = passed && a != nullptr && passed_check(*a);
        }
        if (passed) {
          out.ops.push_back(lifecycle_op(OpKind::CompleteLifecycle, owner->backend, group, hook, instance, "CONTINUE",
                                         "passed its first health check"));
        } else if (in.now - rec.since >= owner->launch_timeout) {
          out.ops.push_back(lifecycle_op(OpKind::CompleteLifecycle, owner->backend, group, hook, instance, "ABANDON",
                                         "no passed health check within " + seconds_text(owner->launch_timeout)));
        } else {
          due_at(out, rec.since + owner->launch_timeout);
        }
      }
    }
  }
}

// Health fed back to the group: a served server that HAProxy's checks have seen DOWN for `down_for` (InService, in
// rotation: not draining, not in maintenance) is reported Unhealthy, so the group replaces it as it would for an
// ELB health check. Never more than max_share of the group's InService instances reported and not yet gone at
// once (at least one); an incomplete discovery reports nothing; an instance is reported once.
void plan_health(const PlanInput& in, Plan& out) {
  std::map<std::string, std::vector<const DesiredBackend*>> by_group;
  std::set<std::string> seen_backends;
  for (const DesiredBackend& d : in.desired)
    if (seen_backends.insert(d.backend).second) by_group[d.group].push_back(&d);

  for (const auto& [group, backends] : by_group) {
    const DesiredBackend* owner = nullptr;
    for (const DesiredBackend* d : backends)
      if (d->health_feedback && owner == nullptr) owner = d;
    if (owner == nullptr) continue;
    const bool complete =
        std::all_of(backends.begin(), backends.end(), [](const DesiredBackend* d) { return d->discovery_complete; });
    // A report stays counted while the group treats its instance as going (Unhealthy, then Terminating...); one the
    // group ignored (within its grace period) or that recovered is forgotten, so it neither blocks the cap forever
    // nor stops a later report.
    for (const auto& key : in.reported) {
      if (!key.starts_with(group + "/")) continue;
      if (!complete || owner->unhealthy_or_leaving.contains(key.substr(group.size() + 1))) out.reported.insert(key);
    }
    if (!in.haproxy_running || !complete) {
      // Nothing is decided on a partial view; the DOWN clocks run on.
      for (const DesiredBackend* d : backends)
        for (auto it = in.down_since.lower_bound(d->backend + "/");
             it != in.down_since.end() && it->first.starts_with(d->backend + "/"); ++it)
          out.down_since.insert(*it);
      continue;
    }

    std::map<std::string, std::chrono::milliseconds> due;  // instance -> how long DOWN
    for (const DesiredBackend* d : backends) {
      if (!d->health_feedback) continue;
      auto b = std::find_if(in.actual.begin(), in.actual.end(),
                            [&](const ActualBackend& x) { return x.backend == d->backend; });
      if (b == in.actual.end() || !b->exists) continue;
      // From HAProxy's DOWN servers (few) to the served members (sorted by name), not a lookup in HAProxy's list
      // per member: that would be 25 million compares a cycle at 5,000 instances.
      for (const ActualServer& actual : b->servers) {
        const ActualServer* a = &actual;
        if (a->admin != AdminState::Ready || !a->check_enabled || a->up) continue;
        auto member = std::lower_bound(d->servers.begin(), d->servers.end(), a->name,
                                       [](const DesiredServer& x, const std::string& n) { return x.name < n; });
        if (member == d->servers.end() || member->name != a->name) continue;
        const DesiredServer& srv = *member;
        const std::string key = server_key(d->backend, srv.name);
        auto it = in.down_since.find(key);
        TimePoint since = it == in.down_since.end() ? in.now : std::min(it->second, in.now);
        out.down_since[key] = since;
        auto down = std::chrono::duration_cast<std::chrono::milliseconds>(in.now - since);
        if (down >= d->down_for) {
          auto& longest = due[srv.name];
          longest = std::max(longest, down);
        } else {
          due_at(out, since + d->down_for);
        }
      }
    }
    std::vector<std::pair<std::string, std::chrono::milliseconds>> candidates;
    for (const auto& [instance, down] : due)
      if (!out.reported.contains(group + "/" + instance)) candidates.emplace_back(instance, down);
    if (candidates.empty()) continue;

    std::size_t outstanding = 0;
    for (const auto& key : out.reported) outstanding += key.starts_with(group + "/") ? 1 : 0;
    const std::size_t limit = removal_cap(owner->feedback_max_share, owner->in_service);
    const std::size_t allowed = limit > outstanding ? limit - outstanding : 0;
    for (std::size_t i = 0; i < candidates.size() && i < allowed; ++i)
      out.ops.push_back(lifecycle_op(OpKind::ReportUnhealthy, owner->backend, group, "", candidates[i].first, "",
                                     "DOWN for " + seconds_text(candidates[i].second) + " by HAProxy's health checks"));
    if (candidates.size() > allowed) {
      out.warnings.push_back(
          "group " + group + ": " + std::to_string(candidates.size() - allowed) + " more " +
          servers_word(candidates.size() - allowed) + " DOWN by HAProxy's checks not reported: at most " +
          std::to_string(limit) + " of " + std::to_string(owner->in_service) +
          " InService reported at once (health_feedback.max_share), " + std::to_string(outstanding) +
          " reported and not yet replaced. Many DOWN at once usually means the application or the network is "
          "broken, not the instances: replacing them would not help");
    }
  }
}

void plan_haproxy(const PlanInput& input, Plan& out);

}  // namespace

Plan plan(const PlanInput& input) {
  Plan out;
  out.refusal = refusal(input);
  if (input.haproxy_running) plan_haproxy(input, out);
  plan_lifecycle(input, out);
  plan_health(input, out);
  std::stable_sort(out.ops.begin(), out.ops.end(), [](const Op& a, const Op& b) {
    return std::forward_as_tuple(kind_rank(a.kind), a.backend, a.server) <
           std::forward_as_tuple(kind_rank(b.kind), b.backend, b.server);
  });
  return out;
}

std::optional<TimePoint> stable_until(const PlanInput& input, const Plan& plan) {
  std::optional<TimePoint> until = plan.next_due;
  // Every drain the plan keeps ends at its backend's drain_timeout (a removal, or a hook held for it completing),
  // whatever else happens: the drain watch, not next_due, wakes the loop for it.
  for (const auto& [key, rec] : plan.drains) {
    const std::string backend = key.substr(0, key.find('/'));
    for (const DesiredBackend& d : input.desired) {
      if (d.backend != backend) continue;
      const TimePoint end = std::min(rec.since, input.now) + d.drain_timeout;
      if (!until || end < *until) until = end;
      break;
    }
  }
  return until;
}

namespace {

void plan_haproxy(const PlanInput& input, Plan& out) {
  std::vector<std::string> missing;
  std::map<std::string_view, bool> seen;
  for (const DesiredBackend& want : input.desired) {
    if (!seen.emplace(want.backend, true).second) {
      out.warnings.push_back("backend " + want.backend + " is managed more than once; only its first entry is used");
      continue;
    }
    auto it = std::find_if(input.actual.begin(), input.actual.end(),
                           [&](const ActualBackend& a) { return a.backend == want.backend; });
    if (it == input.actual.end() || !it->exists) {
      missing.push_back(want.backend);
      continue;
    }
    plan_backend(want, *it, input, out);
  }

  if (!missing.empty()) {
    out.reload_needed = true;
    out.reload_reason = missing.size() == 1 ? "HAProxy lacks backend " : "HAProxy lacks backends ";
    for (std::size_t i = 0; i < missing.size(); ++i) out.reload_reason += (i ? ", " : "") + missing[i];
  } else if (input.structure_changed) {
    out.reload_needed = true;
    out.reload_reason = input.config_missing ? "no configuration file yet" : "the configuration's structure changed";
  } else if (!input.reload_requested.empty()) {
    out.reload_needed = true;
    out.reload_reason = input.reload_requested;
  } else if (input.reload_pending) {
    // The file already holds a structural change whose reload failed: try the reload again.
    out.reload_needed = true;
    out.reload_reason = "a previous reload did not complete";
  }
}

}  // namespace

}  // namespace hasg::core
