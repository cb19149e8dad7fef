#include "aws/environment.h"

#include <cstdlib>

namespace hasg::aws {

std::optional<std::string> ProcessEnvironment::get(const std::string& name) const {
  const char* v = std::getenv(name.c_str());
  // The SDKs treat an empty variable as unset (so `AWS_PROFILE= cmd` falls back to the default).
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::optional<std::string> MapEnvironment::get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

}  // namespace hasg::aws
