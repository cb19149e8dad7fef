#include "daemon/state_file.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

#include "util/files.h"

namespace hasg::daemon {

std::string state_to_json(const core::SyncState& state) {
  nlohmann::json drains = nlohmann::json::object();
  for (const auto& [key, rec] : state.drains)
    drains[key] = std::chrono::duration_cast<std::chrono::milliseconds>(rec.since.time_since_epoch()).count();
  auto ms = [](core::TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  nlohmann::json hooks = nlohmann::json::object();
  for (const auto& [key, h] : state.hooks)
    hooks[key] = {{"group", h.group},          {"hook", h.hook},           {"transition", h.transition},
                  {"since", ms(h.since)},      {"last_beat", ms(h.last_beat)}, {"completed", h.completed},
                  {"recorded", h.recorded}};
  nlohmann::json down = nlohmann::json::object();
  for (const auto& [key, since] : state.down_since) down[key] = ms(since);
  return nlohmann::json{{"drains", drains},       {"reload_pending", state.reload_pending}, {"hooks", hooks},
                        {"down_since", down},    {"reported", state.reported}}
             .dump() +
         "\n";
}

namespace {

// A time as state_to_json writes it: milliseconds since the epoch. nullopt for what no clock of ours gives (negative,
// or past what the clock holds): the clock counts nanoseconds in 64 bits (to 2262-04-11), so a larger value would
// overflow on conversion (found twice by the state_file fuzz target: a bound at the year 9999 still overflowed;
// fuzz/regressions/state_file/).
std::optional<core::TimePoint> time_of(const nlohmann::json& v) {
  constexpr uint64_t kMaxMs = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(core::TimePoint::duration::max()).count());
  if (!v.is_number_integer()) return std::nullopt;
  if (v.is_number_unsigned() ? v.get<uint64_t>() > kMaxMs
                             : (v.get<int64_t>() < 0 || v.get<int64_t>() > int64_t{kMaxMs}))
    return std::nullopt;
  // A time after now is no start of anything this daemon saw: taken as now, so that adding a timeout to it cannot
  // overflow either (a time near 2262 would). Now in whole milliseconds, as the file holds times: read, written and
  // read again, it stays the same (found by the state_file fuzz target: fuzz/regressions/state_file/).
  const core::TimePoint now = std::chrono::floor<std::chrono::milliseconds>(core::Clock::now());
  return std::min(core::TimePoint(std::chrono::milliseconds(v.get<int64_t>())), now);
}

}  // namespace

Result<core::SyncState> state_from_json(std::string_view text, std::vector<std::string>& warnings) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("drains") || !j["drains"].is_object())
    return make_error("StateError", "not what haproxy-asg writes");
  core::SyncState state;
  for (const auto& [key, since] : j["drains"].items()) {
    auto t = time_of(since);
    if (!t) {
      warnings.push_back("drain of " + key + " has no valid start time; ignored");
      continue;
    }
    state.drains[key] = core::DrainRecord{*t};
  }
  state.reload_pending = j.contains("reload_pending") && j["reload_pending"].is_boolean() &&
                         j["reload_pending"].get<bool>();
  if (j.contains("hooks") && j["hooks"].is_object()) {
    for (const auto& [key, value] : j["hooks"].items()) {
      const nlohmann::json& h = value;  // clang 14 (the fuzz build) cannot capture a binding
      auto str = [&](const char* k) { return h.contains(k) && h[k].is_string() ? h[k].get<std::string>() : ""; };
      auto flag = [&](const char* k) { return h.contains(k) && h[k].is_boolean() && h[k].get<bool>(); };
      auto time = [&](const char* k) { return h.contains(k) ? time_of(h[k]) : std::nullopt; };
      if (!h.is_object() || str("group").empty() || str("hook").empty() || !time("since") || !time("last_beat")) {
        warnings.push_back("lifecycle hook record " + key + " is incomplete; ignored");
        continue;
      }
      state.hooks[key] = core::HookWait{str("group"), str("hook"), str("transition"), *time("since"),
                                        *time("last_beat"), flag("completed"), flag("recorded")};
    }
  }
  if (j.contains("down_since") && j["down_since"].is_object())
    for (const auto& [key, since] : j["down_since"].items())
      if (auto t = time_of(since)) state.down_since[key] = *t;
  if (j.contains("reported") && j["reported"].is_array())
    for (const auto& key : j["reported"])
      if (key.is_string()) state.reported.insert(key.get<std::string>());
  return state;
}

core::SyncState StateFile::load() {
  saved_ = {};
  if (path_.empty()) return saved_;
  auto text = read_text_file(path_);
  if (!text) {
    if (text.error().code != "NotFound") spdlog::warn("state file: {}", text.error().message);
    return saved_;
  }
  std::vector<std::string> warnings;
  auto state = state_from_json(*text, warnings);
  if (!state) {
    spdlog::warn("state file {} is not what haproxy-asg writes; starting without it", path_);
    return saved_;
  }
  for (const auto& w : warnings) spdlog::warn("state file {}: {}", path_, w);
  saved_ = std::move(*state);
  return saved_;
}

Status StateFile::save(const core::SyncState& state) {
  if (path_.empty() || state == saved_) return Ok{};
  if (auto st = write_file_atomic(path_, state_to_json(state)); !st)
    return make_error(st.error().code, "cannot save the state file: " + st.error().message);
  saved_ = state;
  return Ok{};
}

}  // namespace hasg::daemon
