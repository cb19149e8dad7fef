#include "daemon/daemon.h"

#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "daemon/http_endpoint.h"
#include "daemon/status_view.h"
#include "util/backoff.h"
#include "util/clock.h"

namespace hasg::daemon {

namespace {

constexpr int kUnhealthyAfterIntervals = 3;
constexpr auto kMaxBackoff = std::chrono::seconds(60);
constexpr const char* kImdsRemedy =
    "until IMDS answers, this node writes no drain record and its termination hooks complete only at their drain "
    "timeout (IMDS is asked again before each cycle): set cluster.node_id, or check IMDS (HttpTokens, a hop limit "
    "of 2 in a container, AWS_EC2_METADATA_DISABLED)";

// How long a passing AWS failure of a call not made again keeps its edge failing (AwsFaultReporter).
std::chrono::milliseconds settle_of(const config::Config& cfg) {
  return settle_time(cfg.interval, cfg.cloudwatch.enabled ? cfg.cloudwatch.period : std::chrono::milliseconds(0));
}

}  // namespace

Daemon::Daemon(std::string config_path, config::Config cfg, std::unique_ptr<discovery::AwsDiscovery> aws)
    : config_path_(std::move(config_path)), cfg_(std::move(cfg)), aws_(std::move(aws)), state_file_(cfg_.state_file) {
  started_ = std::chrono::steady_clock::now();
  aws_faults_.set_settle(settle_of(cfg_));
  aws_->stats().set_listener([this](const aws::CallOutcome& outcome) { aws_faults_(outcome); });
  if (uses_group_calls(cfg_)) {
    lifecycle_ = std::make_unique<AwsLifecycleControl>(aws_->aws().lifecycle());
    lifecycle_->check(cfg_);
  }
  if (cfg_.cluster.enabled()) {
    if (auto st = resolve_node_id(cfg_, aws_->aws()); !st)
      faults_.report("aws.imds", "cluster: no cluster.node_id and IMDS does not tell this instance's id: " +
                                     st.error().message, kImdsRemedy);
    else
      spdlog::info("cluster: node {} of group {}", cfg_.cluster.node_id, cfg_.cluster.group);
    cluster_ = std::make_unique<AwsClusterRecords>(aws_->aws().discovery_ec2());
  }
  edges_ = make_sync_edges(cfg_, aws_->provider(), lifecycle_.get(), around_reload(), cluster_.get());
  auto sink = std::make_unique<PrometheusSink>(metrics_, &aws_->stats());
  prometheus_ = sink.get();
  observers_.push_back(std::move(sink));
  if (cfg_.cloudwatch.enabled) {
    auto publisher = std::make_unique<CloudWatchPublisher>(
        make_cloudwatch_sink(aws_->aws().cloudwatch()),
        haproxy::make_load_sampler(cfg_.haproxy.runtime_socket, cfg_.haproxy.master_socket),
        CloudWatchPublisher::Options{cfg_.cloudwatch, cfg_.backends}, metrics_);
    cloudwatch_ = publisher.get();
    observers_.push_back(std::move(publisher));
  }
  auto watch = std::make_unique<DrainWatch>(cfg_.haproxy.runtime_socket);
  drain_watch_ = watch.get();
  sources_.push_back(std::move(watch));
  auto certs = std::make_unique<CertWatch>(cfg_.haproxy.runtime_socket, cfg_.haproxy.config_path, metrics_,
                                           [this](const std::string& why) { request_haproxy_reload(why); },
                                           CertWatch::Timing{});
  cert_watch_ = certs.get();
  sources_.push_back(std::move(certs));
  if (!cfg_.events_queue_url.empty()) {
    auto groups = cfg_.groups();
    // The SQS source is both a wake-up source and an observer (it deletes a message once a cycle succeeded).
    auto events = std::make_unique<SqsEvents>(aws_->aws().sqs(), aws_->aws().sqs_acks(), cfg_.events_queue_url,
                                              std::set<std::string>(groups.begin(), groups.end()), metrics_,
                                              [this] { aws_->aws().cancel_events(); });
    events_ = events.get();
    sources_.push_back(std::move(events));
  }
  state_ = state_file_.load();
}

Daemon::~Daemon() {
  // The threads that call AWS are stopped by now; the listener must not outlive the book it reports to.
  aws_->stats().set_listener({});
}

void Daemon::add_event_source(std::unique_ptr<EventSource> source) { sources_.push_back(std::move(source)); }

void Daemon::add_observer(std::unique_ptr<CycleObserver> observer) { observers_.push_back(std::move(observer)); }

ReloadNotice Daemon::around_reload() {
  return [this](bool before) {
    if (cloudwatch_ != nullptr) cloudwatch_->around_reload(before);
  };
}

void Daemon::retry_node_id() {
  if (!cfg_.cluster.enabled() || !cfg_.cluster.node_id.empty()) return;
  // IMDS did not answer at start: until it does, this node writes no drain record and every other node waits for
  // it until its drain timeout. Ask again before each cycle.
  config::Config fresh = cfg_;
  if (auto st = resolve_node_id(fresh, aws_->aws()); !st) {
    faults_.report("aws.imds", "cluster: IMDS does not tell this instance's id: " + st.error().message, kImdsRemedy);
    return;
  }
  faults_.resolve("aws.imds");
  spdlog::info("cluster: node {} of group {} (IMDS answered)", fresh.cluster.node_id, fresh.cluster.group);
  edges_ = make_sync_edges(fresh, aws_->provider(), lifecycle_.get(), around_reload(), cluster_.get());
  std::lock_guard lock(mu_);
  cfg_ = std::move(fresh);
}

void Daemon::cycle() {
  retry_node_id();
  {
    std::lock_guard lock(mu_);
    if (!cycle_requested_.empty()) spdlog::debug("cycle requested: {}", cycle_requested_);
    cycle_requested_.clear();  // a request arriving from here on asks for the next cycle
    if (!reload_requested_.empty()) state_.reload_requested = std::move(reload_requested_);
    reload_requested_.clear();
  }
  // A member EC2 says is stopping (or stopped, ...) is drained at once, not only once Auto Scaling's health check
  // later calls it Unhealthy: discovery asks EC2 about it again instead of trusting its cached `running`. (After the
  // requests are cleared: an event arriving in between wakes the next cycle.)
  if (events_ != nullptr)
    if (auto changed = events_->take_changed_instances(std::chrono::steady_clock::now()); !changed.empty())
      aws_->provider().forget(changed);
  auto start = std::chrono::steady_clock::now();
  auto outcome = edges_.syncer->run(state_, false);
  // A failed cycle has no plan to be due for: the failure backoff decides when the next one runs, unless a hook's
  // heartbeat comes due first (always at least a second ahead, so no cycle storm).
  next_due_ = outcome.report ? outcome.report->plan.next_due : outcome.next_due;
  state_ = std::move(outcome.state);
  double secs = seconds_since(start);
  // A cycle longer than the interval delays the next one: said, with what it did (an operator sizing `interval`, or
  // a machine starved of CPU, wants to know).
  if (secs * 1000 > static_cast<double>(cfg_.interval.count()) && outcome.report) {
    const auto& r = *outcome.report;
    spdlog::warn("cycle took {:.2f} s, longer than the interval ({} ms): {} op(s) applied, {} runtime command(s){}{}; "
                 "discovery {:.2f} s, reading HAProxy's state, the files and the cluster's records {:.2f} s, haproxy -c "
                 "{:.2f} s, applying (runtime API, reload, lifecycle calls) {:.2f} s",
                 secs, cfg_.interval.count(), r.applied_ops.size(), r.runtime_commands,
                 r.config_validated ? ", a configuration validated (haproxy -c)" : "", r.reloaded ? ", reloaded" : "",
                 r.phases.discover, r.phases.observe, r.phases.validate, r.phases.apply);
  }
  // Also after a failure: a reload that failed must stay pending across a restart.
  save_state();
  // The HAProxy and file edges' faults, each under its own key (logged once when it starts and when it ends).
  for (const auto& f : outcome.faults) faults_.report(f.key, f.message, f.remedy);
  for (const auto& k : outcome.working) faults_.resolve(k);
  watch_drains(outcome.report ? &*outcome.report : nullptr);
  std::lock_guard lock(mu_);
  auto& report = outcome.report;
  CycleEnd end;
  end.started = start;
  end.seconds = secs;
  end.discovery_ok = outcome.discovery_ok;
  if (report) {
    end.report = &*report;
  } else {
    end.error = &report.error();
  }
  for (auto& o : observers_) o->cycle_ended(end);
  if (events_ != nullptr) events_->cycle_ended(end);
  if (outcome.discovery_ok) aws_faults_.discovery_ok();
  if (report) {
    faults_.resolve("cycle");  // logs "recovered after N s (M failure(s))" when it was failing
    failures_ = 0;
    last_error_.clear();
    last_discovery_ok_ = std::chrono::steady_clock::now();
    report->rendered = std::string();  // /status needs the views, not the ~80 bytes a server of rendered text
    last_report_ = std::move(*report);
  } else {
    ++failures_;
    last_error_ = report.error().message;
    // Logged once when cycles start failing (and once when they work again), not at every retry; a failure at an
    // edge that has its own key (booked above, or by the AWS listener for discovery's calls) is not booked twice.
    const bool aws_booked = !outcome.discovery_ok && (faults_.failing("aws.autoscaling") ||
                                                      faults_.failing("aws.ec2") || faults_.failing("aws.credentials"));
    if (!outcome.faults.empty() || aws_booked ||
        !faults_.report("cycle", "cycles fail, last good state kept: " + last_error_,
                        "retried with backoff; see the error for what to fix"))
      spdlog::debug("cycle failed (attempt {}), last good state kept: {}", failures_, last_error_);
  }
}

void Daemon::save_state() {
  if (auto st = state_file_.save(state_); !st)
    faults_.report("state_file", st.error().message,
                   "let haproxy-asg write " + cfg_.state_file +
                       " and its directory (permissions, a read-only mount, free space); until then drains in "
                       "progress and a pending reload live in memory only, and a restart of haproxy-asg forgets them");
  else
    faults_.resolve("state_file");
}

void Daemon::keep_hooks_alive() {
  next_due_ = edges_.syncer->keep_hooks_alive(state_, core::Clock::now(), /*between_cycles=*/true);
  save_state();
}

void Daemon::reload_config() {
  auto fresh = config::load_config(config_path_);
  if (!fresh) {
    faults_.report("config", "SIGHUP: keeping the running configuration: " + fresh.error().message,
                   "fix " + config_path_ + " where the error says, then send SIGHUP again (a restart would fail on it)");
    return;
  }
  faults_.resolve("config");
  if (fresh->listen != cfg_.listen) spdlog::warn("SIGHUP: a new listen address takes effect after a restart");
  if (fresh->state_file != cfg_.state_file) spdlog::warn("SIGHUP: a new state_file takes effect after a restart");
  // Only the loop thread (this one) touches the syncer and the edges; the endpoint's threads read cfg_ under mu_.
  // The state (drains, a pending reload) belongs to the loop, not to the syncer, so it simply carries on.
  if (fresh->events_queue_url != cfg_.events_queue_url)
    spdlog::warn("SIGHUP: a new events.queue_url takes effect after a restart");
  if (lifecycle_ == nullptr && uses_group_calls(*fresh))
    lifecycle_ = std::make_unique<AwsLifecycleControl>(aws_->aws().lifecycle());
  if (lifecycle_ != nullptr) lifecycle_->check(*fresh);
  if (events_ != nullptr) {
    auto groups = fresh->groups();
    events_->set_groups(std::set<std::string>(groups.begin(), groups.end()));
  }
  if (fresh->cluster.enabled()) {
    if (fresh->cluster.node_id.empty() && fresh->cluster.group == cfg_.cluster.group)
      fresh->cluster.node_id = cfg_.cluster.node_id;  // read from IMDS at start: it does not change
    if (auto st = resolve_node_id(*fresh, aws_->aws()); !st)
      spdlog::error("SIGHUP: cluster: this instance's id is unknown: {}", st.error().message);
    if (cluster_ == nullptr) cluster_ = std::make_unique<AwsClusterRecords>(aws_->aws().discovery_ec2());
  }
  edges_ = make_sync_edges(*fresh, aws_->provider(), lifecycle_.get(), around_reload(), cluster_.get());
  drain_watch_->set_socket(fresh->haproxy.runtime_socket);
  if (cloudwatch_ != nullptr && fresh->cloudwatch.enabled) cloudwatch_->reconfigure(fresh->cloudwatch, fresh->backends);
  if (fresh->cloudwatch.enabled != cfg_.cloudwatch.enabled)
    spdlog::warn("SIGHUP: turning cloudwatch on or off takes effect after a restart");
  else if (fresh->cloudwatch.enabled && fresh->cloudwatch.period != cfg_.cloudwatch.period)
    spdlog::warn("SIGHUP: a new cloudwatch.period takes effect after a restart");
  if (cloudwatch_ != nullptr && (fresh->haproxy.runtime_socket != cfg_.haproxy.runtime_socket ||
                                 fresh->haproxy.master_socket != cfg_.haproxy.master_socket))
    spdlog::warn("SIGHUP: cloudwatch keeps reading HAProxy's counters on the old sockets until a restart");
  cert_watch_->set_paths(fresh->haproxy.runtime_socket, fresh->haproxy.config_path);
  aws_faults_.set_settle(settle_of(*fresh));
  {
    std::lock_guard lock(mu_);
    cfg_ = *fresh;
  }
  spdlog::info("SIGHUP: configuration reloaded from {} ({} backends)", config_path_, cfg_.backends.size());
}

std::pair<bool, std::string> Daemon::health() const {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto limit = cfg_.interval * kUnhealthyAfterIntervals;
  auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(limit) + std::chrono::seconds(1);
  auto [healthy, faults] = faults_.health(grace, now);
  // A first cycle that never ends (an AWS call hanging on a dead network) reports no fault: the age of the last
  // success says it.
  auto ref = last_discovery_ok_.value_or(started_);
  auto age = now - ref;
  if (age <= grace) return {healthy, faults};
  std::string why = last_discovery_ok_ ? "no successful cycle for " : "no successful cycle since start, ";
  why += std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) + "s";
  if (!last_error_.empty()) why += ": " + last_error_;
  return {false, why + "\n" + (faults == "ok\n" ? "" : faults)};
}

std::string Daemon::status_json() const {
  std::string socket;
  std::vector<std::string> backends;
  {
    std::lock_guard lock(mu_);
    socket = cfg_.haproxy.runtime_socket;
    for (const auto& b : cfg_.backends) backends.push_back(b.backend);
  }
  // HAProxy as it is now, not as the last cycle saw it before its plan (up to an interval ago): `status --watch
  // --url` refreshes every second and shows sessions, checks and request rates moving. Read outside the lock, on
  // the endpoint's thread: a runtime socket read of a few milliseconds.
  auto live = read_haproxy_now(socket, backends);
  std::lock_guard lock(mu_);
  nlohmann::json j;
  j["healthy"] = last_error_.empty();
  j["last_error"] = last_error_;
  j["faults"] = nlohmann::json::array();
  auto now = std::chrono::steady_clock::now();
  for (const auto& f : faults_.active()) {
    j["faults"].push_back({{"key", f.key},
                           {"message", f.message},
                           {"remedy", f.remedy},
                           {"seconds", std::chrono::duration<double>(now - f.since).count()},
                           {"occurrences", f.occurrences}});
  }
  j["backends"] = nlohmann::json::array();
  if (last_report_) {
    // The drain book after the last cycle: each drain's start, so the view shows the time left to its timeout.
    StatusInputs in;
    in.drains = &last_report_->plan.drains;
    if (live) in.haproxy = &*live;
    j["backends"] = status_to_json(status_view(cfg_, *last_report_, in));
  }
  if (!live) j["haproxy_error"] = live.error().message;
  if (last_discovery_ok_) j["last_cycle_seconds_ago"] = seconds_since(*last_discovery_ok_);
  // AWS error text may carry a cut multi-byte character: replace it rather than fail the whole answer.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Daemon::stop() {
  std::lock_guard lock(mu_);
  stop_ = true;
  wake_.notify_all();
}

void Daemon::request_reload() {
  std::lock_guard lock(mu_);
  reload_ = true;
  wake_.notify_all();
}

void Daemon::watch_drains(const CycleReport* report) {
  std::map<std::string, core::TimePoint> deadlines;
  for (const auto& [key, rec] : state_.drains) {
    const std::string backend = key.substr(0, key.find('/'));
    auto b = std::find_if(cfg_.backends.begin(), cfg_.backends.end(),
                          [&](const auto& x) { return x.backend == backend; });
    if (b != cfg_.backends.end()) deadlines[key] = rec.since + b->drain_timeout;
  }
  // Servers held for a launch hook (key "group/hook/instance"), in every backend of that group owning the hook.
  std::set<std::string> gated;
  for (const auto& [key, h] : state_.hooks) {
    if (h.transition != "launching" || h.completed) continue;
    const std::string instance = key.substr(key.rfind('/') + 1);
    for (const auto& b : cfg_.backends)
      if (b.group == h.group && b.hook_launching == h.hook) gated.insert(core::server_key(b.backend, instance));
  }
  // Draining servers the last cycle saw still busy: the watch may look again (a session came back, say).
  std::set<std::string> busy;
  if (report != nullptr)
    for (const auto& be : report->actual)
      for (const auto& srv : be.servers)
        if (srv.current_sessions > 0) busy.insert(core::server_key(be.backend, srv.name));
  drain_watch_->watch(std::move(deadlines), std::move(gated), busy);
}

void Daemon::request_haproxy_reload(const std::string& reason) {
  std::lock_guard lock(mu_);
  reload_requested_ = reason;
  if (cycle_requested_.empty()) cycle_requested_ = reason;
  wake_.notify_all();
}

void Daemon::request_cycle(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (cycle_requested_.empty()) cycle_requested_ = reason.empty() ? "requested" : reason;
  wake_.notify_all();
}

std::chrono::milliseconds Daemon::next_wait() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mu_);
  if (failures_ == 0) {
    // +-10% jitter, so that many load balancers started together do not call AWS in step.
    std::uniform_real_distribution<double> jitter(0.9, 1.1);
    return std::chrono::milliseconds(static_cast<long long>(cfg_.interval.count() * jitter(rng)));
  }
  // Exponential backoff with full jitter between interval and the cap.
  return full_jitter(cfg_.interval, kMaxBackoff, std::min(failures_, 10), rng, cfg_.interval);
}

int Daemon::run() {
  HttpEndpoint endpoint({[this] { return prometheus_->render(); }, [this] { return health(); },
                         [this] { return status_json(); }});
  if (auto st = endpoint.start(cfg_.listen); !st) {
    spdlog::error("{}", st.error().message);
    return 1;
  }
  size_t started = 0;
  for (; started < sources_.size(); ++started) {
    if (auto st = sources_[started]->start([this](const std::string& reason) { request_cycle(reason); }); !st) {
      spdlog::error("{}: {}", sources_[started]->name(), st.error().message);
      break;
    }
  }
  auto stop_sources = [&] {
    for (size_t i = started; i-- > 0;) sources_[i]->stop();
    if (cloudwatch_ != nullptr) cloudwatch_->stop();  // publishes the partial period
  };
  if (cloudwatch_ != nullptr) cloudwatch_->start();
  if (started < sources_.size()) {
    stop_sources();
    return 1;
  }
  // The bound address, not the configured one: with port 0 (tests), this line is how the port is found.
  std::string listening = cfg_.listen;
  if (auto colon = listening.rfind(':'); colon != std::string::npos)
    listening = listening.substr(0, colon + 1) + std::to_string(endpoint.port());
  spdlog::info("haproxy-asg running: {} backend(s), interval {} ms, metrics on http://{}/metrics",
               cfg_.backends.size(), cfg_.interval.count(), listening);
  for (bool stopping = false; !stopping;) {
    cycle();
    // A cycle allocates a few MB at 5,000 instances (AWS's XML, HAProxy's state, the rendered file, the report it
    // replaced) and then sleeps for an interval: give the freed pages back instead of keeping them resident until
    // the next cycle. After cycle() has returned, so that its own locals are freed too.
    malloc_trim(0);
    const auto next_cycle = std::chrono::steady_clock::now() + next_wait();
    for (;;) {
      auto deadline = next_cycle;
      bool heartbeats_first = false;
      std::unique_lock lock(mu_);
      if (next_due_) {
        // Something timed (a heartbeat due, a launch timeout) comes due before the next cycle: while cycles work,
        // it takes a cycle; during a failure backoff, only the heartbeats go (the backoff holds discovery back).
        auto until = *next_due_ - core::Clock::now();
        auto due = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                          std::max(until, core::Clock::duration::zero()));
        if (due < deadline) {
          deadline = due;
          heartbeats_first = failures_ > 0;
        }
      }
      // A requested cycle runs at once while cycles succeed; during a failure backoff it waits for the backoff's
      // end (the backoff protects AWS and HAProxy from a storm of cycles that would fail the same way).
      const bool woken = wake_.wait_until(
          lock, deadline, [&] { return stop_ || reload_ || (!cycle_requested_.empty() && failures_ == 0); });
      if (stop_) {
        stopping = true;
        break;
      }
      if (reload_) {
        reload_ = false;
        lock.unlock();
        reload_config();
        break;
      }
      if (woken || !heartbeats_first) break;
      lock.unlock();
      keep_hooks_alive();
    }
  }
  stop_sources();
  spdlog::info("haproxy-asg stopping");
  return 0;
}

int Daemon::run_with_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started from here on
  std::thread signals([this, set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        request_reload();
      } else {
        stop();
        return;
      }
    }
  });
  int rc = run();
  // run() also returns on a start-up failure, with the signal thread still in sigwait: wake it the way it expects.
  bool stopped_by_signal;
  {
    std::lock_guard lock(mu_);
    stopped_by_signal = stop_;
  }
  if (!stopped_by_signal) pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return rc;
}

}  // namespace hasg::daemon
