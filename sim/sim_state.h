// The simulated world every service reads and changes: groups, instances (with their HTTP servers), faults, call
// counters, IMDS tokens and temporary credentials. One mutex guards it all; every member function below expects
// `mu` to be held by its caller.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sim/instance_fleet.h"
#include "sim/simulator.h"

namespace hasg::sim {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Instance {
  SimInstance view;
  uint64_t seq = 0;
  SteadyTime changed{};                  // when the current timed state began
  std::optional<SteadyTime> in_service;  // when it first became InService
  bool member = true;                    // still part of its group
};

struct Group {
  std::string name;
  int min_size = 0;
  int max_size = 0;
  int desired = 0;
  std::string created;
};

struct TempCredentials {
  std::string secret;
  std::string token;
  std::chrono::system_clock::time_point expires;
};

class SimState {
 public:
  explicit SimState(SimOptions o);

  const SimOptions opt;
  InstanceFleet fleet;
  mutable std::mutex mu;
  std::condition_variable cv;  // wakes the ticker on stop
  std::atomic<bool> stopping{false};

  std::map<std::string, Group> groups;
  std::map<std::string, Instance> instances;  // every instance ever launched, terminated ones included
  std::vector<Fault> faults;
  std::map<std::string, uint64_t> calls;  // accepted AWS calls by action
  std::map<std::string, SteadyTime> imds_tokens;
  std::map<std::string, TempCredentials> temp_credentials;
  std::mt19937_64 rng{std::random_device{}()};

  // Instances.
  void launch(Group& g);
  void begin_termination(Instance& inst);
  void finish_termination(Instance& inst);
  void start_server(Instance& inst);
  void stop_server(Instance& inst);
  std::vector<Instance*> members_of(const std::string& group);
  Instance* member(const std::string& id);  // nullptr unless a current member of a group
  // Brings the group to its desired capacity, like the Auto Scaling service does.
  void reconcile(Group& g);
  // Moves timed states on (Pending -> InService, Terminating -> terminated); called every 20 ms.
  void tick();

  // The first matching fault for `action`, consumed.
  std::optional<Fault> take_fault(const std::string& action);

 private:
  std::string address_for(uint64_t seq) const;
  uint64_t next_seq_ = 0;
  uint64_t id_prefix_ = 0;
};

}  // namespace hasg::sim
