#include "sim/sim_state.h"

#include <algorithm>
#include <cstdio>

#include "sim/wire.h"

namespace hasg::sim {

SimState::SimState(SimOptions o) : opt(std::move(o)) { id_prefix_ = opt.seed ? opt.seed : rng(); }

std::string SimState::uuid() {
  std::string h = random_hex(rng, 32);
  h[12] = '4';
  h[16] = "89ab"[rng() % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string SimState::instance_arn(const std::string& id) const {
  return "arn:aws:ec2:" + opt.region + ":" + kAccountId + ":instance/" + id;
}

void SimState::set_ec2_state(Instance& inst, const std::string& state) {
  if (inst.view.ec2_state == state) return;
  inst.view.ec2_state = state;
  emit_event("aws.ec2", "EC2 Instance State-change Notification", {instance_arn(inst.view.id)},
             {{"instance-id", inst.view.id}, {"state", state}});
}

std::string SimState::address_for(uint64_t seq) const {
  // 250 addresses per /24, skipping .0, .1 (127.x.y.1 is often used by the machine) and .255.
  return "127." + std::to_string(opt.instance_net) + "." + std::to_string(seq / 250) + "." +
         std::to_string(seq % 250 + 2);
}

void SimState::start_server(Instance& inst) {
  if (opt.instance_port <= 0 || inst.view.server_running) return;
  auto st = fleet.start(inst.view.id, inst.view.address, opt.instance_port, opt.instance_delay_ms, opt.instance_stream,
                         opt.instance_delay_jitter_ms);
  if (!st) {
    std::fprintf(stderr, "simulator: %s\n", st.error().message.c_str());
    return;
  }
  inst.view.server_running = true;
}

void SimState::stop_server(Instance& inst) {
  if (!inst.view.server_running) return;
  fleet.kill(inst.view.id);
  inst.view.server_running = false;
}

void SimState::launch(Group& g) {
  Instance inst;
  inst.seq = next_seq_++;
  char id[32];
  std::snprintf(id, sizeof id, "i-%05llx%012llx", static_cast<unsigned long long>(id_prefix_ & 0xfffff),
                static_cast<unsigned long long>(inst.seq));
  inst.view.id = id;
  inst.view.group = g.name;
  inst.view.zone = opt.zones[inst.seq % opt.zones.size()];
  inst.view.address = address_for(inst.seq);
  inst.changed = std::chrono::steady_clock::now();
  inst.view.lifecycle = "Pending";
  std::string key = inst.view.id;
  auto& ref = instances[key] = std::move(inst);
  set_ec2_state(ref, "pending");
  start_server(ref);
  if (opt.pending.count() == 0) {
    set_ec2_state(ref, "running");
    if (!enter_wait(ref, kLaunchingTransition)) launch_finished(ref);
  }
}

void SimState::launch_finished(Instance& inst) {
  auto now = std::chrono::steady_clock::now();
  inst.view.lifecycle = "InService";
  inst.changed = now;
  if (!inst.in_service) inst.in_service = now;
  emit_activity(inst, "EC2 Instance Launch Successful", "Launching a new EC2 instance: ",
                "an instance was started in response to a difference between desired and actual capacity, "
                "increasing the capacity.");
}

// The EventBridge event of a finished scaling activity (Launch / Terminate Successful), when events are routed.
void SimState::emit_activity(const Instance& inst, const std::string& detail_type, const std::string& description,
                             const std::string& cause) {
  auto g = groups.find(inst.view.group);
  if (g == groups.end() || event_queues.empty()) return;
  auto t = iso8601(std::chrono::system_clock::now());
  emit_event("aws.autoscaling", detail_type, {g->second.arn, instance_arn(inst.view.id)},
             {{"StatusCode", "InProgress"},
              {"Description", description + inst.view.id},
              {"AutoScalingGroupName", g->second.name},
              {"ActivityId", uuid()},
              {"Details", {{"Availability Zone", inst.view.zone}, {"Subnet ID", "subnet-0123456789abcdef0"}}},
              {"RequestId", uuid()},
              {"StatusMessage", ""},
              {"EndTime", t},
              {"EC2InstanceId", inst.view.id},
              {"StartTime", t},
              {"Cause", "At " + t + " " + cause}});
}

void SimState::begin_termination(Instance& inst) {
  // Scaled in while waiting on launch hooks: those actions end with the instance.
  for (auto& a : actions)
    if (a.times.instance_id == inst.view.id && !a.times.completed) {
      a.times.completed = std::chrono::steady_clock::now();
      a.times.completed_by = "terminated";
      a.times.result = "ABANDON";
    }
  inst.changed = std::chrono::steady_clock::now();
  if (enter_wait(inst, kTerminatingTransition)) return;
  inst.view.lifecycle = "Terminating";
  if (opt.terminating.count() == 0) finish_termination(inst);
}

void SimState::finish_termination(Instance& inst) {
  inst.member = false;
  inst.view.lifecycle = "Terminated";
  stop_server(inst);
  set_ec2_state(inst, "terminated");
  emit_activity(inst, "EC2 Instance Terminate Successful", "Terminating EC2 instance: ",
                "an instance was taken out of service in response to a difference between desired and actual "
                "capacity, shrinking the capacity.");
}

std::vector<Instance*> SimState::members_of(const std::string& group) {
  std::vector<Instance*> out;
  for (auto& [id, inst] : instances)
    if (inst.member && inst.view.group == group) out.push_back(&inst);
  return out;
}

Instance* SimState::member(const std::string& id) {
  auto it = instances.find(id);
  return it == instances.end() || !it->second.member ? nullptr : &it->second;
}

// Launches what is missing, terminates the newest instances first when there are too many (not AWS's default
// policy, which balances zones and then prefers old launch templates; newest-first is simply predictable for tests).
void SimState::reconcile(Group& g) {
  auto members = members_of(g.name);
  int active = 0;
  for (auto* m : members)
    if (!m->view.lifecycle.starts_with("Terminating")) ++active;
  for (; active < g.desired; ++active) launch(g);
  if (active > g.desired) {
    std::vector<Instance*> candidates;
    for (auto* m : members)
      if (!m->view.lifecycle.starts_with("Terminating")) candidates.push_back(m);
    std::sort(candidates.begin(), candidates.end(), [](auto* a, auto* b) { return a->seq > b->seq; });
    for (int i = 0; i < active - g.desired; ++i) begin_termination(*candidates[static_cast<size_t>(i)]);
  }
}

void SimState::tick() {
  auto now = std::chrono::steady_clock::now();
  // Lifecycle actions time out with their hook's default result. complete_action may append to `actions` (a
  // relaunch's hooks wait later, not here), so iterate by index.
  for (size_t i = 0; i < actions.size(); ++i) {
    auto& a = actions[i];
    if (a.times.completed || now < std::min(a.heartbeat_deadline, a.global_deadline)) continue;
    std::string result = "ABANDON";
    if (auto g = groups.find(a.times.group); g != groups.end())
      if (auto h = g->second.hooks.find(a.times.hook); h != g->second.hooks.end()) result = h->second.default_result;
    complete_action(actions[i], result, "timeout");
  }
  for (auto& [id, inst] : instances) {
    if (!inst.member) continue;
    const auto& state = inst.view.lifecycle;
    if (state == "Pending" && now - inst.changed >= opt.pending) {
      set_ec2_state(inst, "running");
      if (!enter_wait(inst, kLaunchingTransition)) launch_finished(inst);
    } else if (state == "Pending:Proceed") {
      launch_finished(inst);
    } else if ((state == "Terminating" || state == "Terminating:Proceed") && now - inst.changed >= opt.terminating) {
      finish_termination(inst);
    }
  }
}

std::optional<Fault> SimState::take_fault(const std::string& action,
                                          const std::function<bool(const std::string&)>& has_param) {
  for (auto it = faults.begin(); it != faults.end(); ++it) {
    if (it->action != action && (it->action != "*" || action == "IMDS")) continue;
    if (!it->with_param.empty() && !(has_param && has_param(it->with_param))) continue;
    if (it->skip > 0) {
      --it->skip;  // this call goes through; the fault waits for a later one
      return std::nullopt;
    }
    Fault f = *it;
    if (it->count > 0 && --it->count == 0) faults.erase(it);
    return f;
  }
  return std::nullopt;
}

}  // namespace hasg::sim
