// Where members come from. The daemon asks a Provider for all configured groups at once, every cycle.
#pragma once

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
};

}  // namespace hasg::discovery
