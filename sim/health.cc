// SetInstanceHealth's effect: the health check grace period, the Unhealthy mark and the replacement that follows
// (the instance terminates through the group's terminating hooks while a new one launches to keep the capacity).
#include "sim/sim_state.h"

namespace hasg::sim {

Status SimState::report_health(const std::string& instance_id, const std::string& health, bool respect_grace) {
  Instance* inst = member(instance_id);
  if (!inst)
    return make_error("ValidationError",
                      "Instance Id not found - No managed instance found for instance ID: " + instance_id);
  auto g = groups.find(inst->view.group);
  if (g == groups.end())
    return make_error("ValidationError",
                      "Instance Id not found - No managed instance found for instance ID: " + instance_id);
  auto now = std::chrono::steady_clock::now();
  HealthReport report{instance_id, health, respect_grace, true, now};
  const auto& state = inst->view.lifecycle;
  bool terminating = state.starts_with("Terminating");
  if (health == "Healthy") {
    // Too late once the replacement has begun: the instance stays Unhealthy until it is gone.
    if (!terminating) inst->view.health = "Healthy";
  } else {
    // The grace period runs from when the instance came InService; one not yet InService is within it.
    auto grace = g->second.health_check_grace_period * opt.grace_second;
    bool in_grace = grace.count() > 0 && (!inst->in_service || now - *inst->in_service < grace);
    if (respect_grace && in_grace && !terminating) {
      report.applied = false;  // AWS answers success and does nothing
    } else {
      inst->view.health = "Unhealthy";
      // Standby and detaching instances are not replaced while out of service (AWS checks them on their return).
      if (!terminating && state != "Standby" && state != "EnteringStandby" && !state.starts_with("Detach")) {
        ++unhealthy_replacements;
        begin_termination(*inst);
        reconcile(g->second);
      }
    }
  }
  health_reports.push_back(std::move(report));
  return Ok{};
}

}  // namespace hasg::sim
