#include "discovery/asg_provider.h"

#include <atomic>

#include "aws/autoscaling.h"
#include "core/aws_values.h"
#include "discovery/members.h"

namespace hasg::discovery {

namespace {
// Process-wide, so that no two providers ever give the same generation.
std::atomic<uint64_t> next_generation{1};
}  // namespace

Result<std::vector<core::GroupMembers>> AsgProvider::discover(const std::vector<std::string>& groups) {
  aws::AsgAnswerMemo answer;
  auto answered = aws::describe_auto_scaling_groups(asg_, groups, steady_ ? &steady_->answer : nullptr, answer);
  if (answered && !answered->has_value()) return steady_->members;  // the same answer: the same members
  steady_.reset();
  generation_ = next_generation++;
  if (!answered) return answered.error();
  const std::vector<aws::AutoScalingGroup>& found = **answered;

  std::lock_guard lock(mu_);
  const uint64_t cycle = ++cycle_;
  std::vector<std::string> unknown;
  for (const auto& g : found) {
    for (const auto& i : g.instances) {
      auto it = cache_.find(i.instance_id);
      if (it != cache_.end()) it->second.seen = cycle;
      // Only members that could be served need an address; a Pending one is asked about once it is InService.
      // A cached one is asked about again when Auto Scaling calls it unhealthy: its address has not changed, but
      // its EC2 state may have (stopped), and that is what Auto Scaling is reacting to.
      // An id not in EC2's format is refused by assemble_members: not worth a question to EC2.
      if (core::wants_description(i.lifecycle_state) && (it == cache_.end() || i.health_status != "Healthy") &&
          core::is_instance_id(i.instance_id))
        unknown.push_back(i.instance_id);
    }
  }
  std::map<std::string, aws::Ec2Instance> fresh;  // this cycle's answers about instances not (yet) cached
  if (!unknown.empty()) {
    auto described = aws::describe_instances(ec2_, unknown);
    if (!described) return described.error();
    for (auto& inst : *described) {
      // Cache running instances only: one that is still pending (or stopped) is asked about again next cycle.
      if (inst.state == "running") {
        cache_[inst.instance_id] = Cached{inst, cycle};
      } else {
        cache_.erase(inst.instance_id);
        fresh[inst.instance_id] = std::move(inst);
      }
    }
  }
  // Forget instances that left every group.
  std::erase_if(cache_, [&](const auto& kv) { return kv.second.seen != cycle; });
  auto members = assemble_members(groups, found, [&](const std::string& id) -> const aws::Ec2Instance* {
    if (auto it = cache_.find(id); it != cache_.end()) return &it->second.instance;
    auto it = fresh.find(id);
    return it == fresh.end() ? nullptr : &it->second;
  });
  // Asked EC2 nothing: the same answer next time makes the same members (an instance Auto Scaling calls unhealthy,
  // or one not running yet, is asked about at every cycle, so its group's members are made again each time).
  if (unknown.empty() && answer.reusable) steady_ = Steady{std::move(answer), members};
  return members;
}

void AsgProvider::forget(const std::set<std::string>& instance_ids) {
  std::lock_guard lock(mu_);
  size_t erased = 0;
  for (const auto& id : instance_ids) erased += cache_.erase(id);
  // The members handed out again unparsed were made from what was just forgotten.
  if (erased > 0) steady_.reset();
}

size_t AsgProvider::cached_addresses() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

}  // namespace hasg::discovery
