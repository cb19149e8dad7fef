// One SHA-256 over everything a sync cycle decides on: the discovered members, HAProxy's servers, the template and
// the file on disk, the cluster's view, the hooks' heartbeat timeouts and the state carried from the last cycle.
// When it equals the last computed cycle's, and no timed rule of the planner fell due since (Plan::stable_until),
// the planner would make the same plan again: the syncer then skips desire, plan, render and apply. A digest, not
// a copy of the last inputs: at 5,000 instances a copy is megabytes, the digest 32 bytes (and SHA-256, not a
// faster non-cryptographic hash, so that no collision can hide a change).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace hasg::daemon {

using CycleFingerprint = std::array<unsigned char, 32>;

// What a cycle read before deciding, by reference.
struct CycleInputs {
  const std::vector<core::GroupMembers>& groups;
  std::optional<uint64_t> groups_generation;  // the provider's (Provider::generation): hashed instead of `groups`
  const std::string& template_text;
  const std::string& current;  // the configuration file now
  bool haproxy_running;
  const std::vector<core::ActualBackend>& actual;
  const core::ClusterView& cluster;
  const std::vector<std::chrono::milliseconds>& heartbeat_timeouts;  // per configured backend, in its order
  const core::SyncState& state;
};

CycleFingerprint fingerprint(const CycleInputs& in);

}  // namespace hasg::daemon
