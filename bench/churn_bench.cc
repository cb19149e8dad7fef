// churn_bench: the AWS simulator plus a seeded group churn, for bench/run.sh's "churn" rows.
//
//   churn_bench --port-file F --instance-port P --out RESULT.json [--seed 42] [--duration 60] ...
//
// Starts the simulator (real instance servers on 127.N.x.y:P) with one group "app", writes the API port to F, then
// waits. SIGUSR1 starts the churn: every --period, alternately a scale-out and a scale-in of 1..3 instances (random,
// seeded; the group stays within [--min, --max] InService instances) for --duration. Scale-in terminates the OLDEST
// InService instances (as AWS's OldestInstance policy would; the simulator's own newest-first would mostly kill the
// instances launched a second earlier, before they could serve anything). Departing instances stay Terminating for
// --terminating, then their servers die (connections reset). SIGTERM (or SIGINT) ends it: RESULT.json gets the
// launch-to-first-request latencies of every instance that became InService after the churn started.
//
// Latency = first answered request (any request: HAProxy's health checks count) - when it became InService.
//
// Lifecycle hooks and events (bench rows hooks, events, nohook): --hook NAME puts a terminating lifecycle hook on the
// group (DefaultResult CONTINUE, --hook-heartbeat seconds), so a scale-in waits in Terminating:Wait until someone
// completes it and the server dies --terminating after that; --queue NAME creates an SQS queue that receives the
// hook's notifications and the EventBridge events. RESULT.json then also holds every terminating lifecycle action
// begun during the churn: how each ended (CompleteLifecycleAction, timeout, still waiting) and Terminating:Wait ->
// completion. --instance-delay-ms with --stream: every answer's headers leave at once and its body over the delay; a
// request may ask for its own delay with ?delay_ms=N (streamed the same way).
//
// Several load balancers (bench row cluster): --lb-group NAME --lb-nodes N adds a group of N instances that never
// churns, the load balancers' own group (`cluster: {group: NAME}`); their ids are in GET /_sim/state.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "sim/simulator.h"
#include "util/strings.h"

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_start = 0;
volatile std::sig_atomic_t g_stop = 0;
void on_usr1(int) { g_start = 1; }
void on_stop(int) { g_stop = 1; }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

bool sleep_until_or_stop(Clock::time_point t) {
  while (!g_stop && Clock::now() < t) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return !g_stop;
}

}  // namespace

int main(int argc, char** argv) {
  hasg::sim::SimOptions opt;
  std::string port_file, out_file;
  std::string pending = "500ms", terminating = "3s", period = "1s";
  int initial = 5, min_in_service = 2, max_in_service = 10, duration_s = 60;
  uint64_t seed = 42;
  std::string hook, queue;
  int hook_heartbeat = 60;
  std::string lb_group;
  int lb_nodes = 2;
  CLI::App app{"churn_bench: the AWS simulator with a seeded group churn and launch-to-first-request latencies"};
  app.add_option("--port-file", port_file, "write the simulator's API port here once listening")->required();
  app.add_option("--out", out_file, "write the JSON result here on SIGTERM")->required();
  app.add_option("--instance-port", opt.instance_port, "port of every instance's HTTP server")->required();
  app.add_option("--instance-net", opt.instance_net, "instances get addresses 127.N.x.y")->capture_default_str();
  app.add_option("--pending", pending, "Pending -> InService after this long")->capture_default_str();
  app.add_option("--terminating", terminating, "Terminating -> dead after this long")->capture_default_str();
  app.add_option("--period", period, "one group change this often")->capture_default_str();
  app.add_option("--duration", duration_s, "seconds of churn after SIGUSR1")->capture_default_str();
  app.add_option("--initial", initial, "instances at start")->capture_default_str();
  app.add_option("--min", min_in_service, "never fewer InService instances")->capture_default_str();
  app.add_option("--max", max_in_service, "never more instances")->capture_default_str();
  app.add_option("--seed", seed, "random seed of the churn")->capture_default_str();
  app.add_option("--instance-delay-ms", opt.instance_delay_ms, "every answer takes this long")->capture_default_str();
  app.add_flag("--stream", opt.instance_stream, "with --instance-delay-ms: headers at once, the body over the delay");
  app.add_option("--delay-jitter-ms", opt.instance_delay_jitter_ms, "each answer's delay +- up to this (uniform)")
      ->capture_default_str();
  app.add_option("--hook", hook, "a terminating lifecycle hook of this name on the group");
  app.add_option("--hook-heartbeat", hook_heartbeat, "its HeartbeatTimeout, seconds")->capture_default_str();
  app.add_option("--queue", queue, "an SQS queue for the hook's notifications and EventBridge events");
  app.add_option("--lb-group", lb_group, "a group of load balancers (never churned) of this name");
  app.add_option("--lb-nodes", lb_nodes, "its instances")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto p = hasg::parse_duration_ms(pending), t = hasg::parse_duration_ms(terminating),
       per = hasg::parse_duration_ms(period);
  if (p < 0 || t < 0 || per <= 0) {
    std::fprintf(stderr, "churn_bench: bad duration\n");
    return 1;
  }
  opt.pending = std::chrono::milliseconds(p);
  opt.terminating = std::chrono::milliseconds(t);
  opt.seed = seed;

  hasg::sim::Simulator sim(opt);
  if (auto st = sim.start(); !st) {
    std::fprintf(stderr, "churn_bench: %s\n", st.error().message.c_str());
    return 1;
  }
  auto check = [](const hasg::Status& st) {
    if (st) return true;
    std::fprintf(stderr, "churn_bench: %s\n", st.error().message.c_str());
    return false;
  };
  if (!queue.empty()) {
    if (auto q = sim.create_queue(queue); !q) {
      std::fprintf(stderr, "churn_bench: %s\n", q.error().message.c_str());
      return 1;
    }
    if (!check(sim.route_events_to_queue(queue))) return 1;
  }
  if (!hook.empty()) {
    hasg::sim::LifecycleHookSpec h;
    h.group = "app";
    h.name = hook;
    h.transition = hasg::sim::kTerminatingTransition;
    h.heartbeat_timeout = hook_heartbeat;
    h.default_result = "CONTINUE";
    if (!queue.empty()) h.notification_target_arn = sim.queue_arn(queue);
    // The group is created first, empty: a hook needs its group. Its first instances then launch.
    if (!check(sim.create_group("app", 0)) || !check(sim.put_lifecycle_hook(h)) || !check(sim.set_desired("app", initial)))
      return 1;
  } else if (!check(sim.create_group("app", initial))) {
    return 1;
  }
  if (!lb_group.empty() && !check(sim.create_group(lb_group, lb_nodes))) return 1;
  std::signal(SIGUSR1, on_usr1);
  std::signal(SIGTERM, on_stop);
  std::signal(SIGINT, on_stop);
  {
    std::ofstream(port_file + ".tmp") << sim.port() << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }

  while (!g_start && !g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto churn_start = Clock::now();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> step(1, 3);
  int desired = initial, changes = 0, launched = 0, terminated = 0;
  bool out = true;
  for (int i = 0; !g_stop; ++i) {
    auto due = churn_start + std::chrono::milliseconds(per) * i;
    if (due >= churn_start + std::chrono::seconds(duration_s)) break;
    if (!sleep_until_or_stop(due)) break;
    int k = step(rng);
    if (out) {
      k = std::min(k, max_in_service - desired);
      if (k > 0 && sim.set_desired("app", desired + k)) {
        desired += k;
        launched += k;
        ++changes;
      }
    } else {
      std::vector<hasg::sim::SimInstance> live;
      for (auto& inst : sim.instances("app"))
        if (inst.lifecycle == "InService") live.push_back(inst);
      std::sort(live.begin(), live.end(), [](auto& a, auto& b) { return a.id < b.id; });  // ids grow with launch order
      k = std::min(k, static_cast<int>(live.size()) - min_in_service);
      int done = 0;  // as TerminateInstanceInAutoScalingGroup --should-decrement-desired-capacity: hooks apply
      for (int j = 0; j < k; ++j)
        if (sim.terminate_instance(live[static_cast<size_t>(j)].id, true)) ++done;
      if (done > 0) {
        desired -= done;
        terminated += done;
        ++changes;
      }
    }
    out = !out;
  }
  const auto churn_end = Clock::now();
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));

  std::vector<double> lat_ms;
  int unserved = 0;
  // When each instance became InService on the wall clock (Unix ms), to match against the daemon log's timestamps.
  nlohmann::json in_service_unix_ms = nlohmann::json::object();
  const auto steady_now = Clock::now();
  const auto wall_now = std::chrono::system_clock::now();
  for (const auto& ti : sim.instance_times()) {
    if (!ti.in_service || *ti.in_service < churn_start) continue;
    in_service_unix_ms[ti.id] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    (wall_now - (steady_now - *ti.in_service)).time_since_epoch())
                                    .count();
    if (!ti.first_request) {
      ++unserved;
      continue;
    }
    lat_ms.push_back(std::chrono::duration<double, std::milli>(*ti.first_request - *ti.in_service).count());
  }
  // Terminating lifecycle actions begun during the churn: how they ended, and how long the wait lasted when
  // haproxy-asg completed them.
  std::vector<double> wait_ms;
  std::map<std::string, int> ended;
  int completed_continue = 0;
  for (const auto& a : sim.lifecycle_actions()) {
    if (a.transition != hasg::sim::kTerminatingTransition || a.entered_wait < churn_start) continue;
    ++ended[a.completed_by.empty() ? "waiting" : a.completed_by];
    if (a.completed_by == "CompleteLifecycleAction" && a.result == "CONTINUE") ++completed_continue;
    if (a.completed && a.completed_by == "CompleteLifecycleAction")
      wait_ms.push_back(std::chrono::duration<double, std::milli>(*a.completed - a.entered_wait).count());
  }
  nlohmann::json j = {
      {"seed", seed},
      {"churn_seconds", std::chrono::duration<double>(churn_end - churn_start).count()},
      {"changes", changes},
      {"launched", launched},
      {"terminated", terminated},
      {"served", lat_ms.size()},
      {"unserved", unserved},
      {"latency_ms",
       {{"p50", percentile(lat_ms, 50)},
        {"p99", percentile(lat_ms, 99)},
        {"max", lat_ms.empty() ? -1 : *std::max_element(lat_ms.begin(), lat_ms.end())}}},
      {"in_service_unix_ms", in_service_unix_ms},
      {"lifecycle",
       {{"completed", ended["CompleteLifecycleAction"]},
        {"completed_continue", completed_continue},
        {"timeout", ended["timeout"]},
        {"waiting", ended["waiting"]},
        {"other", ended["terminated"]},
        {"wait_ms",
         {{"p50", percentile(wait_ms, 50)},
          {"p99", percentile(wait_ms, 99)},
          {"max", wait_ms.empty() ? -1 : *std::max_element(wait_ms.begin(), wait_ms.end())}}}}},
  };
  std::ofstream(out_file) << j.dump(2) << "\n";
  sim.stop();
  return 0;
}
