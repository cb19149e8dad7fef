#include "doctor/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace hasg::doctor {

std::string_view to_string(Verdict s) {
  switch (s) {
    case Verdict::Pass: return "PASS";
    case Verdict::Warn: return "WARN";
    case Verdict::Fail: return "FAIL";
    case Verdict::Skip: return "SKIP";
  }
  return "?";
}

int exit_code(const std::vector<CheckResult>& results) {
  return std::any_of(results.begin(), results.end(), [](const auto& r) { return r.status == Verdict::Fail; }) ? 1 : 0;
}

std::string format_text(const std::vector<CheckResult>& results) {
  size_t width = 0;
  for (const auto& r : results) width = std::max(width, r.check.size());
  std::string out;
  int counts[4] = {0, 0, 0, 0};
  for (const auto& r : results) {
    ++counts[static_cast<int>(r.status)];
    out += fmt::format("{}  {:<{}}  {}\n", to_string(r.status), r.check, width, r.found);
    if (!r.fix.empty()) out += fmt::format("      fix: {}\n", r.fix);
  }
  out += fmt::format("{} passed, {} warning{}, {} failed, {} skipped\n", counts[0], counts[1],
                     counts[1] == 1 ? "" : "s", counts[2], counts[3]);
  return out;
}

nlohmann::json to_json(const std::vector<CheckResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results)
    out.push_back({{"check", r.check}, {"status", to_string(r.status)}, {"found", r.found}, {"fix", r.fix}});
  return out;
}

}  // namespace hasg::doctor
