#include "daemon/fault_book.h"

#include <spdlog/spdlog.h>

namespace hasg::daemon {
namespace {

long long whole_seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

bool FaultBook::report(const std::string& key, std::string message, std::string remedy, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = faults_.find(key);
  if (it != faults_.end()) {
    ++it->second.occurrences;
    if (it->second.message != message) spdlog::debug("{}: still failing: {}", key, message);
    it->second.message = std::move(message);
    if (!remedy.empty()) it->second.remedy = std::move(remedy);
    return false;
  }
  if (remedy.empty()) {
    spdlog::error("{}: {}", key, message);
  } else {
    spdlog::error("{}: {} ({})", key, message, remedy);
  }
  faults_.emplace(key, ActiveFault{key, std::move(message), std::move(remedy), now, 1});
  return true;
}

bool FaultBook::resolve(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = faults_.find(key);
  if (it == faults_.end()) return false;
  spdlog::info("{}: recovered after {} s ({} failure(s))", key, whole_seconds(now - it->second.since),
               it->second.occurrences);
  faults_.erase(it);
  return true;
}

void FaultBook::resolve_prefix(const std::string& prefix, Clock::time_point now) {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    for (auto it = faults_.lower_bound(prefix); it != faults_.end() && it->first.starts_with(prefix); ++it)
      keys.push_back(it->first);
  }
  for (const auto& k : keys) resolve(k, now);
}

bool FaultBook::failing(const std::string& key) const {
  std::lock_guard lock(mu_);
  return faults_.contains(key);
}

std::vector<ActiveFault> FaultBook::active() const {
  std::lock_guard lock(mu_);
  std::vector<ActiveFault> out;
  out.reserve(faults_.size());
  for (const auto& [k, f] : faults_) out.push_back(f);
  return out;
}

std::pair<bool, std::string> FaultBook::health(std::chrono::milliseconds grace, Clock::time_point now) const {
  std::lock_guard lock(mu_);
  if (faults_.empty()) return {true, "ok\n"};
  bool healthy = true;
  std::string text;
  for (const auto& [k, f] : faults_) {
    auto age = now - f.since;
    if (age > grace) healthy = false;
    text += k + ": failing for " + std::to_string(whole_seconds(age)) + " s: " + f.message;
    if (!f.remedy.empty()) text += " (" + f.remedy + ")";
    text += "\n";
  }
  return {healthy, (healthy ? "ok, degraded:\n" : "") + text};
}

}  // namespace hasg::daemon
