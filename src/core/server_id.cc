#include "core/server_id.h"

#include <algorithm>

namespace hasg::core {

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

int server_id_candidate(std::string_view instance, int k) {
  const auto span = static_cast<std::uint64_t>(kServerIdSpan);
  const std::uint64_t slot = (fnv1a64(instance) % span + static_cast<std::uint64_t>(k)) % span;
  return kServerIdMin + static_cast<int>(slot);
}

std::map<std::string, int> assign_server_ids(std::vector<std::string> names, const std::set<int>& taken) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::map<std::string, int> out;
  std::set<int> used = taken;
  for (const auto& name : names) {
    // At most span tries: a backend never holds a million servers, but the loop must end whatever it is given.
    for (int k = 0; k < kServerIdSpan; ++k) {
      int id = server_id_candidate(name, k);
      if (used.insert(id).second) {
        out.emplace(name, id);
        break;
      }
    }
  }
  return out;
}

}  // namespace hasg::core
