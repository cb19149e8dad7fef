// Where members come from. The daemon asks a Provider for all configured groups at once, every cycle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "util/result.h"

namespace hasg::discovery {

class Provider {
 public:
  virtual ~Provider() = default;
  // Every named group, in the order asked. An Error means nothing may be trusted (never a partial answer
  // presented as whole); a group that does not exist comes back with found = false.
  virtual Result<std::vector<core::GroupMembers>> discover(const std::vector<std::string>& groups) = 0;
  // When known: the generation of what the last discover() returned. Two calls with the same generation returned
  // equal members (a generation is never given to two different results in a process), so a cycle can compare it
  // instead of every member. nullopt: unknown, compare the members.
  virtual std::optional<uint64_t> generation() const { return std::nullopt; }
};

}  // namespace hasg::discovery
