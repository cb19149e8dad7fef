// What `haproxy-asg doctor` says about one thing it checked: a status, what it found, and the exact fix (the
// command to run or the line to add). Values only: the checks produce them, the CLI prints them.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace hasg::doctor {

enum class Verdict { Pass, Warn, Fail, Skip };
std::string_view to_string(Verdict s);  // "PASS", "WARN", "FAIL", "SKIP"

struct CheckResult {
  std::string check;  // a stable id: "haproxy.runtime_socket", "aws.permission autoscaling:DescribeLifecycleHooks"
  Verdict status = Verdict::Pass;
  std::string found;  // what was found, in one sentence
  std::string fix;    // for WARN and FAIL: the command to run or the line to add; empty otherwise
  bool operator==(const CheckResult&) const = default;
};

inline CheckResult pass(std::string check, std::string found) { return {std::move(check), Verdict::Pass, std::move(found), ""}; }
inline CheckResult skip(std::string check, std::string found) { return {std::move(check), Verdict::Skip, std::move(found), ""}; }
inline CheckResult warn(std::string check, std::string found, std::string fix) {
  return {std::move(check), Verdict::Warn, std::move(found), std::move(fix)};
}
inline CheckResult fail(std::string check, std::string found, std::string fix) {
  return {std::move(check), Verdict::Fail, std::move(found), std::move(fix)};
}

// 0 when nothing failed (warnings and skips do not fail), 1 otherwise.
int exit_code(const std::vector<CheckResult>& results);
// One line per check ("PASS  check  found"), the fix on the next line ("      fix: ..."), then a summary line.
std::string format_text(const std::vector<CheckResult>& results);
// [{"check", "status", "found", "fix"}...]
nlohmann::json to_json(const std::vector<CheckResult>& results);

}  // namespace hasg::doctor
