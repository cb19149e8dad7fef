#include "sim/control_api.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace hasg::sim {

void serve_control(Simulator& sim, const httplib::Request& req, httplib::Response& res) {
  auto reply = [&](const Status& st) {
    if (st) {
      res.set_content(R"({"ok":true})", "application/json");
    } else {
      res.status = 400;
      res.set_content(nlohmann::json{{"ok", false}, {"error", st.error().message}}.dump(), "application/json");
    }
  };
  nlohmann::json body = nlohmann::json::object();
  if (!req.body.empty()) {
    body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return reply(make_error("BadRequest", "body is not a JSON object"));
  }
  auto parts = split(req.path, '/');  // "", "_sim", ...
  auto at = [&](size_t i) { return i < parts.size() ? parts[i] : std::string(); };
  if (req.method == "GET" && at(2) == "state") {
    res.set_content(sim.state_json(), "application/json");
  } else if (req.method == "POST" && at(2) == "groups" && parts.size() == 3) {
    reply(sim.create_group(body.value("name", ""), body.value("desired", 0), body.value("min", 0),
                           body.value("max", 10000), body.value("health_check_grace_period", 0)));
  } else if (req.method == "POST" && at(2) == "groups" && at(4) == "desired") {
    reply(sim.set_desired(at(3), body.value("desired", -1)));
  } else if (req.method == "POST" && at(2) == "instances" && at(4) == "lifecycle") {
    reply(sim.set_lifecycle(at(3), body.value("state", "")));
  } else if (req.method == "POST" && at(2) == "instances" && at(4) == "health") {
    reply(sim.set_health(at(3), body.value("health", "")));
  } else if (req.method == "POST" && at(2) == "instances" && at(4) == "ec2-state") {
    reply(sim.set_ec2_state(at(3), body.value("state", "")));
  } else if (req.method == "POST" && at(2) == "instances" && at(4) == "kill") {
    reply(sim.kill_server(at(3)));
  } else if (req.method == "POST" && at(2) == "groups" && at(4) == "hooks") {
    LifecycleHookSpec h;
    h.group = at(3);
    h.name = body.value("name", "");
    h.transition = body.value("transition", std::string(kTerminatingTransition));
    h.heartbeat_timeout = body.value("heartbeat_timeout", 3600);
    if (body.contains("global_timeout")) h.global_timeout = body.value("global_timeout", 0);
    h.default_result = body.value("default_result", "ABANDON");
    h.notification_target_arn = body.value("notification_target_arn", "");
    h.role_arn = body.value("role_arn", "");
    h.notification_metadata = body.value("notification_metadata", "");
    reply(sim.put_lifecycle_hook(h));
  } else if (req.method == "GET" && at(2) == "lifecycle-actions") {
    auto now = std::chrono::steady_clock::now();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : sim.lifecycle_actions(at(3))) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(a.completed.value_or(now) - a.entered_wait);
      list.push_back({{"instance_id", a.instance_id},
                      {"group", a.group},
                      {"hook", a.hook},
                      {"transition", a.transition},
                      {"token", a.token},
                      {"waited_ms", ms.count()},
                      {"completed", a.completed.has_value()},
                      {"completed_by", a.completed_by},
                      {"result", a.result},
                      {"heartbeats", a.heartbeats}});
    }
    res.set_content(list.dump(2), "application/json");
  } else if (req.method == "POST" && at(2) == "queues" && parts.size() == 3) {
    std::string name = body.value("name", "");
    auto url = sim.create_queue(name);
    if (!url) return reply(url.error());
    res.set_content(nlohmann::json{{"ok", true}, {"url", *url}, {"arn", sim.queue_arn(name)}}.dump(),
                    "application/json");
  } else if (req.method == "POST" && at(2) == "eventbridge") {
    reply(sim.route_events_to_queue(body.value("queue", "")));
  } else if (req.method == "POST" && at(2) == "faults") {
    auto kind = parse_fault_kind(body.value("kind", ""));
    if (!kind) return reply(kind.error());
    sim.inject(Fault{body.value("action", "*"), *kind, body.value("count", 1), body.value("delay_ms", 0),
                     body.value("skip", 0), body.value("with_param", std::string())});
    reply(Ok{});
  } else if (req.method == "DELETE" && at(2) == "faults") {
    sim.clear_faults();
    reply(Ok{});
  } else {
    res.status = 404;
    res.set_content(R"({"ok":false,"error":"no such control endpoint"})", "application/json");
  }
}

}  // namespace hasg::sim
