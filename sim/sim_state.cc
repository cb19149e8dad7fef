#include "sim/sim_state.h"

#include <algorithm>
#include <cstdio>

namespace hasg::sim {

SimState::SimState(SimOptions o) : opt(std::move(o)) { id_prefix_ = opt.seed ? opt.seed : rng(); }

std::string SimState::address_for(uint64_t seq) const {
  // 250 addresses per /24, skipping .0, .1 (127.x.y.1 is often used by the machine) and .255.
  return "127." + std::to_string(opt.instance_net) + "." + std::to_string(seq / 250) + "." +
         std::to_string(seq % 250 + 2);
}

void SimState::start_server(Instance& inst) {
  if (opt.instance_port <= 0 || inst.view.server_running) return;
  auto st = fleet.start(inst.view.id, inst.view.address, opt.instance_port, opt.instance_delay_ms);
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
  if (opt.pending.count() == 0) {
    inst.view.lifecycle = "InService";
    inst.view.ec2_state = "running";
    inst.in_service = inst.changed;
  } else {
    inst.view.lifecycle = "Pending";
    inst.view.ec2_state = "pending";
  }
  start_server(inst);
  instances[inst.view.id] = std::move(inst);
}

void SimState::begin_termination(Instance& inst) {
  inst.changed = std::chrono::steady_clock::now();
  inst.view.lifecycle = "Terminating";
  if (opt.terminating.count() == 0) finish_termination(inst);
}

void SimState::finish_termination(Instance& inst) {
  inst.member = false;
  inst.view.lifecycle = "Terminated";
  inst.view.ec2_state = "terminated";
  stop_server(inst);
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
  for (auto& [id, inst] : instances) {
    if (!inst.member) continue;
    if (inst.view.lifecycle == "Pending" && now - inst.changed >= opt.pending) {
      inst.view.lifecycle = "InService";
      inst.view.ec2_state = "running";
      inst.changed = now;
      if (!inst.in_service) inst.in_service = now;
    } else if (inst.view.lifecycle == "Terminating" && now - inst.changed >= opt.terminating) {
      finish_termination(inst);
    }
  }
}

std::optional<Fault> SimState::take_fault(const std::string& action) {
  for (auto it = faults.begin(); it != faults.end(); ++it) {
    if (it->action != "*" && it->action != action) continue;
    Fault f = *it;
    if (it->count > 0 && --it->count == 0) faults.erase(it);
    return f;
  }
  return std::nullopt;
}

}  // namespace hasg::sim
