#include "haproxy/config_file.h"

#include <vector>

#include "util/files.h"
#include "util/subprocess.h"
#include "util/strings.h"

namespace hasg::haproxy {
namespace {

// "[ALERT]    (15621) : config : [x.cfg:2] : ..." -> "[ALERT] config : [x.cfg:2] : ..." (the pid says nothing).
std::string tidy_message_line(std::string_view line) {
  line = trim(line);
  if (!line.starts_with("[")) return std::string(line);
  size_t close = line.find(']');
  if (close == std::string_view::npos) return std::string(line);
  std::string_view tag = line.substr(0, close + 1);
  std::string_view rest = trim(line.substr(close + 1));
  if (rest.starts_with("(")) {
    size_t paren = rest.find(')');
    if (paren != std::string_view::npos) {
      rest = trim(rest.substr(paren + 1));
      if (rest.starts_with(":")) rest = trim(rest.substr(1));
    }
  }
  return std::string(tag) + " " + std::string(rest);
}

}  // namespace

Status validate_config(const std::string& binary, const std::string& path, std::chrono::milliseconds timeout) {
  // Not `-q`: HAProxy 2.6 then prints nothing at all, not even the ALERT lines that say what is wrong.
  auto run = run_program({binary, "-c", "-f", path}, timeout);
  if (!run) {
    if (run.error().code == "Timeout")
      return make_error("ValidatorError", binary + " -c -f " + path + " did not finish within " +
                                              std::to_string(timeout.count()) + " ms (killed)");
    return make_error("ValidatorError", run.error().message);
  }
  if (run->success()) return Ok{};
  const std::string how = run->how();
  const std::string& output = run->output;
  std::vector<std::string> alerts, others;
  for (const auto& raw : split(output, '\n')) {
    std::string_view l = trim(raw);
    if (l.empty() || l.starts_with("[NOTICE]")) continue;
    bool alert = l.starts_with("[ALERT]") || to_lower(l).find("error") != std::string::npos;
    (alert ? alerts : others).push_back(tidy_message_line(l));
  }
  // Without ALERT lines (an unexpected binary, a crash), whatever it said is the best clue.
  std::vector<std::string>& quoted = alerts.empty() ? others : alerts;
  constexpr size_t kMaxLines = 20;
  std::string msg = path + ": rejected by " + binary + " -c (" + how + ")";
  for (size_t i = 0; i < quoted.size() && i < kMaxLines; ++i) msg += "\n" + quoted[i];
  if (quoted.size() > kMaxLines) msg += "\n(" + std::to_string(quoted.size() - kMaxLines) + " more lines)";
  if (quoted.empty()) msg += ", with no message";
  return make_error("InvalidConfig", msg);
}

}  // namespace hasg::haproxy
