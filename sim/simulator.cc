#include "sim/simulator.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "sim/api_router.h"
#include "sim/control_api.h"
#include "sim/imds.h"
#include "sim/sim_state.h"
#include "sim/wire.h"

namespace hasg::sim {

namespace {
constexpr size_t kServerThreads = 32;
}  // namespace

struct Simulator::Impl {
  SimState state;
  ApiRouter router{state};
  httplib::Server server;
  std::thread server_thread;
  std::thread ticker;
  int bound_port = 0;

  explicit Impl(SimOptions o) : state(std::move(o)) {
    router.add(make_autoscaling_api(state));  // first: it answers requests naming no known service
    router.add(make_ec2_api(state));
    router.add(make_sqs_api(state));
    router.add(make_cloudwatch_api(state));
  }
};

Result<Fault::Kind> parse_fault_kind(const std::string& s) {
  if (s == "throttle") return Fault::Kind::Throttle;
  if (s == "5xx" || s == "server-error") return Fault::Kind::ServerError;
  if (s == "slow") return Fault::Kind::Slow;
  if (s == "malformed") return Fault::Kind::Malformed;
  if (s == "deny") return Fault::Kind::Deny;
  if (s == "truncated") return Fault::Kind::Truncated;
  if (s == "mixed-error") return Fault::Kind::MixedErrorShape;
  return make_error("BadRequest", "unknown fault kind '" + s +
                                      "' (throttle, 5xx, slow, malformed, deny, truncated, mixed-error)");
}

Simulator::Simulator(SimOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Simulator::~Simulator() { stop(); }

Status Simulator::start() {
  auto& s = impl_->server;
  // Keep-alive connections hold a pool thread while idle (up to 5 s), and so will SQS long polls (up to 20 s):
  // enough threads that neither delays other clients' calls.
  s.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  // stop() waits for every pool thread, and an idle keep-alive connection holds one for this long: keep it short
  // so that stop() is prompt (reconnecting on loopback costs nothing).
  s.set_keep_alive_timeout(1);
  auto aws = [this](const httplib::Request& req, httplib::Response& res) { impl_->router.handle(req, res); };
  auto imds = [this](const httplib::Request& req, httplib::Response& res) { serve_imds(impl_->state, req, res); };
  auto control = [this](const httplib::Request& req, httplib::Response& res) { serve_control(*this, req, res); };
  s.Post("/", aws);
  s.Get("/", aws);
  s.Post(std::string("/") + kAccountId + "/[^/]+", aws);  // SQS Query calls posted to a queue URL
  s.Put("/latest/api/token", imds);
  s.Get(R"(/latest/.*)", imds);
  s.Get(R"(/_sim/.*)", control);
  s.Post(R"(/_sim/.*)", control);
  s.Delete(R"(/_sim/.*)", control);
  if (impl_->state.opt.port > 0) {
    if (!s.bind_to_port(impl_->state.opt.host, impl_->state.opt.port))
      return make_error("BindFailed",
                        "cannot listen on " + impl_->state.opt.host + ":" + std::to_string(impl_->state.opt.port));
    impl_->bound_port = impl_->state.opt.port;
  } else {
    impl_->bound_port = s.bind_to_any_port(impl_->state.opt.host);
    if (impl_->bound_port <= 0) return make_error("BindFailed", "cannot listen on " + impl_->state.opt.host);
  }
  impl_->state.port = impl_->bound_port;
  impl_->server_thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // httplib's stop() does nothing until the listen loop runs: a stop() right after start() (a test's set-up
  // failing) would leave the loop running and the join in stop() waiting forever. Return once it listens.
  for (int i = 0; i < 5000 && !impl_->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->ticker = std::thread([this] {
    std::unique_lock lock(impl_->state.mu);
    while (!impl_->state.stopping) {
      impl_->state.cv.wait_for(lock, std::chrono::milliseconds(20));
      if (!impl_->state.stopping) impl_->state.tick();
    }
  });
  return Ok{};
}

void Simulator::stop() {
  if (!impl_ || impl_->state.stopping.exchange(true)) return;
  { std::lock_guard lock(impl_->state.mu); }  // a long poll between its check and its wait gets the notify
  impl_->state.cv.notify_all();
  impl_->state.sqs_cv.notify_all();
  impl_->server.stop();
  if (impl_->server_thread.joinable()) impl_->server_thread.join();
  if (impl_->ticker.joinable()) impl_->ticker.join();
}

int Simulator::port() const { return impl_->bound_port; }
std::string Simulator::url() const {
  return "http://" + impl_->state.opt.host + ":" + std::to_string(impl_->bound_port);
}
const SimOptions& Simulator::options() const { return impl_->state.opt; }

Status Simulator::create_group(const std::string& name, int desired, int min_size, int max_size,
                               int health_check_grace_period) {
  if (name.empty()) return make_error("ValidationError", "a group needs a name");
  if (health_check_grace_period < 0)
    return make_error("ValidationError", "the health check grace period cannot be negative");
  if (desired < 0 || desired < min_size || desired > max_size)
    return make_error("ValidationError", "desired capacity " + std::to_string(desired) + " is outside [" +
                                             std::to_string(min_size) + ", " + std::to_string(max_size) + "]");
  std::lock_guard lock(impl_->state.mu);
  if (impl_->state.groups.contains(name))
    return make_error("AlreadyExists", "AutoScalingGroup by this name already exists: " + name);
  Group g;
  g.name = name;
  g.min_size = min_size;
  g.max_size = max_size;
  g.desired = desired;
  g.health_check_grace_period = health_check_grace_period;
  g.created = iso8601(std::chrono::system_clock::now());
  g.arn = "arn:aws:autoscaling:" + impl_->state.opt.region + ":" + kAccountId +
          ":autoScalingGroup:" + impl_->state.uuid() + ":autoScalingGroupName/" + name;
  auto& ref = impl_->state.groups[name] = g;
  impl_->state.reconcile(ref);
  return Ok{};
}

Status Simulator::set_desired(const std::string& name, int desired) {
  std::lock_guard lock(impl_->state.mu);
  auto it = impl_->state.groups.find(name);
  if (it == impl_->state.groups.end())
    return make_error("ValidationError", "AutoScalingGroup name not found - " + name);
  if (desired < it->second.min_size || desired > it->second.max_size)
    return make_error("ValidationError",
                      "New SetDesiredCapacity value " + std::to_string(desired) + " is outside of the group's limits");
  it->second.desired = desired;
  impl_->state.reconcile(it->second);
  return Ok{};
}

namespace {

Status find_member(SimState& state, const std::string& id, Instance** out) {
  *out = state.member(id);
  if (!*out) return make_error("ValidationError", "instance " + id + " is not a member of any group");
  return Ok{};
}

}  // namespace

Status Simulator::set_lifecycle(const std::string& instance_id, const std::string& state) {
  static const std::set<std::string> valid = {
      "Pending",         "Pending:Wait",     "Pending:Proceed",     "Quarantined",   "InService",
      "Terminating",     "Terminating:Wait", "Terminating:Proceed", "Detaching",     "Detached",
      "EnteringStandby", "Standby",          "Warmed:Pending",      "Warmed:Running"};
  if (!valid.contains(state)) return make_error("ValidationError", "unknown lifecycle state '" + state + "'");
  std::lock_guard lock(impl_->state.mu);
  Instance* inst = nullptr;
  if (auto st = find_member(impl_->state, instance_id, &inst); !st) return st;
  inst->view.lifecycle = state;
  inst->changed = std::chrono::steady_clock::now();
  if (state == "InService" && !inst->in_service) inst->in_service = inst->changed;
  return Ok{};
}

Status Simulator::terminate_instance(const std::string& instance_id, bool decrement_desired) {
  std::lock_guard lock(impl_->state.mu);
  Instance* inst = nullptr;
  if (auto st = find_member(impl_->state, instance_id, &inst); !st) return st;
  if (inst->view.lifecycle.starts_with("Terminating"))
    return make_error("ValidationError", "instance " + instance_id + " is already terminating");
  auto g = impl_->state.groups.find(inst->view.group);
  if (g == impl_->state.groups.end()) return make_error("ValidationError", "no group for " + instance_id);
  if (decrement_desired) {
    if (g->second.desired - 1 < g->second.min_size)
      return make_error("ValidationError", "Currently, desiredSize equals minSize (" +
                                               std::to_string(g->second.min_size) + "). Terminating instance without "
                                               "replacement will violate group's min size constraint.");
    --g->second.desired;
  }
  impl_->state.begin_termination(*inst);
  impl_->state.reconcile(g->second);  // a replacement when the capacity stays
  return Ok{};
}

Status Simulator::set_health(const std::string& instance_id, const std::string& health) {
  if (health != "Healthy" && health != "Unhealthy")
    return make_error("ValidationError", "health must be Healthy or Unhealthy");
  std::lock_guard lock(impl_->state.mu);
  Instance* inst = nullptr;
  if (auto st = find_member(impl_->state, instance_id, &inst); !st) return st;
  inst->view.health = health;
  return Ok{};
}

Status Simulator::set_ec2_state(const std::string& instance_id, const std::string& state) {
  static const std::set<std::string> valid = {"pending",    "running",  "shutting-down",
                                              "terminated", "stopping", "stopped"};
  if (!valid.contains(state)) return make_error("ValidationError", "unknown EC2 state '" + state + "'");
  std::lock_guard lock(impl_->state.mu);
  Instance* inst = nullptr;
  if (auto st = find_member(impl_->state, instance_id, &inst); !st) return st;
  impl_->state.set_ec2_state(*inst, state);
  if (state == "running")
    impl_->state.start_server(*inst);
  else
    impl_->state.stop_server(*inst);
  return Ok{};
}

Status Simulator::kill_server(const std::string& instance_id) {
  std::lock_guard lock(impl_->state.mu);
  Instance* inst = nullptr;
  if (auto st = find_member(impl_->state, instance_id, &inst); !st) return st;
  impl_->state.stop_server(*inst);
  return Ok{};
}

std::vector<SimInstance> Simulator::instances(const std::string& group) const {
  std::lock_guard lock(impl_->state.mu);
  std::vector<SimInstance> out;
  for (const auto& [id, inst] : impl_->state.instances)
    if (inst.member && (group.empty() || inst.view.group == group)) out.push_back(inst.view);
  return out;
}

std::vector<InstanceTimes> Simulator::instance_times() const {
  std::lock_guard lock(impl_->state.mu);
  std::vector<InstanceTimes> out;
  for (const auto& [id, inst] : impl_->state.instances)
    out.push_back({id, inst.view.group, inst.in_service, impl_->state.fleet.first_request_time(id)});
  return out;
}

Status Simulator::put_lifecycle_hook(const LifecycleHookSpec& hook) {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.put_hook(hook);
}

std::vector<LifecycleActionTimes> Simulator::lifecycle_actions(const std::string& instance_id) const {
  std::lock_guard lock(impl_->state.mu);
  std::vector<LifecycleActionTimes> out;
  for (const auto& a : impl_->state.actions)
    if (instance_id.empty() || a.times.instance_id == instance_id) out.push_back(a.times);
  return out;
}

Result<std::string> Simulator::create_queue(const std::string& name) {
  if (name.empty() || name.size() > 80 ||
      name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
    return make_error("InvalidParameterValue",
                      "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  std::lock_guard lock(impl_->state.mu);
  auto& q = impl_->state.queues[name];
  if (q.name.empty()) {
    q.name = name;
    q.created = std::chrono::system_clock::now();
  }
  return impl_->state.queue_url(name);
}

std::string Simulator::queue_arn(const std::string& name) const { return impl_->state.queue_arn(name); }

std::optional<std::vector<std::string>> Simulator::queue_messages(const std::string& name) const {
  std::lock_guard lock(impl_->state.mu);
  auto it = impl_->state.queues.find(name);
  if (it == impl_->state.queues.end()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& m : it->second.messages) out.push_back(m.body);
  return out;
}

Status Simulator::route_events_to_queue(const std::string& queue) {
  std::lock_guard lock(impl_->state.mu);
  if (!impl_->state.queues.contains(queue))
    return make_error("AWS.SimpleQueueService.NonExistentQueue", "no queue named '" + queue + "'");
  auto& routed = impl_->state.event_queues;
  if (std::find(routed.begin(), routed.end(), queue) == routed.end()) routed.push_back(queue);
  return Ok{};
}

std::vector<HealthReport> Simulator::health_reports() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.health_reports;
}

std::vector<MetricPoint> Simulator::metric_data(const std::string& metric_namespace) const {
  std::lock_guard lock(impl_->state.mu);
  std::vector<MetricPoint> out;
  for (const auto& p : impl_->state.metric_points)
    if (metric_namespace.empty() || p.metric_namespace == metric_namespace) out.push_back(p);
  return out;
}

uint64_t Simulator::unhealthy_replacements() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.unhealthy_replacements;
}

void Simulator::inject(const Fault& fault) {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.faults.push_back(fault);
}

void Simulator::clear_faults() {
  std::lock_guard lock(impl_->state.mu);
  impl_->state.faults.clear();
}

void Simulator::expire_credentials() {
  std::lock_guard lock(impl_->state.mu);
  for (auto& [key, c] : impl_->state.temp_credentials) c.expires = std::chrono::system_clock::now();
}

uint64_t Simulator::calls(const std::string& action) const {
  std::lock_guard lock(impl_->state.mu);
  auto it = impl_->state.calls.find(action);
  return it == impl_->state.calls.end() ? 0 : it->second;
}

std::map<std::string, uint64_t> Simulator::all_calls() const {
  std::lock_guard lock(impl_->state.mu);
  return impl_->state.calls;
}

uint64_t Simulator::instance_requests(const std::string& instance_id) const {
  return impl_->state.fleet.requests(instance_id);
}

std::string Simulator::state_json() const {
  std::lock_guard lock(impl_->state.mu);
  nlohmann::json j;
  j["groups"] = nlohmann::json::array();
  for (const auto& [name, g] : impl_->state.groups) {
    nlohmann::json gj = {{"name", name},
                         {"desired", g.desired},
                         {"min", g.min_size},
                         {"max", g.max_size},
                         {"health_check_grace_period", g.health_check_grace_period}};
    gj["instances"] = nlohmann::json::array();
    for (const auto& [id, inst] : impl_->state.instances) {
      if (!inst.member || inst.view.group != name) continue;
      const auto& v = inst.view;
      gj["instances"].push_back({{"id", v.id},
                                 {"zone", v.zone},
                                 {"address", v.address},
                                 {"lifecycle", v.lifecycle},
                                 {"health", v.health},
                                 {"ec2_state", v.ec2_state},
                                 {"server_running", v.server_running},
                                 {"requests", impl_->state.fleet.requests(v.id)}});
    }
    gj["hooks"] = nlohmann::json::array();
    for (const auto& [hname, h] : g.hooks)
      gj["hooks"].push_back({{"name", hname},
                             {"transition", h.transition},
                             {"heartbeat_timeout", h.heartbeat_timeout},
                             {"global_timeout", h.global_timeout.value_or(0)},
                             {"default_result", h.default_result},
                             {"notification_target_arn", h.notification_target_arn}});
    j["groups"].push_back(gj);
  }
  j["queues"] = nlohmann::json::array();
  for (const auto& [qname, q] : impl_->state.queues)
    j["queues"].push_back({{"name", qname}, {"url", impl_->state.queue_url(qname)}, {"messages", q.messages.size()}});
  j["event_queues"] = impl_->state.event_queues;
  j["unhealthy_replacements"] = impl_->state.unhealthy_replacements;
  j["calls"] = impl_->state.calls;
  return j.dump(2);
}

}  // namespace hasg::sim
