// SQS queues as the rest of the simulator sees them: names, URLs and ARNs, sending (from SendMessage, hook
// notifications and routed events), and the EventBridge-like rule.
#include "sim/sim_state.h"
#include "sim/wire.h"
#include "util/strings.h"

namespace hasg::sim {

int SqsQueue::int_attribute(const std::string& key, int fallback) const {
  auto it = attributes.find(key);
  int v = 0;
  return it != attributes.end() && parse_int(it->second, v) ? v : fallback;
}

std::string SimState::queue_url(const std::string& name) const {
  return "http://" + opt.host + ":" + std::to_string(port) + "/" + kAccountId + "/" + name;
}

std::string SimState::queue_arn(const std::string& name) const {
  return "arn:aws:sqs:" + opt.region + ":" + kAccountId + ":" + name;
}

SqsQueue* SimState::queue_by_url(const std::string& url) {
  // Any host (clients may reach us under another name); the path is /ACCOUNT/NAME.
  auto slash = url.rfind('/');
  if (slash == std::string::npos || slash == 0) return nullptr;
  auto account_start = url.rfind('/', slash - 1);
  if (account_start == std::string::npos || url.substr(account_start + 1, slash - account_start - 1) != kAccountId)
    return nullptr;
  auto it = queues.find(url.substr(slash + 1));
  return it == queues.end() ? nullptr : &it->second;
}

SqsQueue* SimState::queue_by_arn(const std::string& arn) {
  std::string prefix = "arn:aws:sqs:" + opt.region + ":" + kAccountId + ":";
  if (!arn.starts_with(prefix)) return nullptr;
  auto it = queues.find(arn.substr(prefix.size()));
  return it == queues.end() ? nullptr : &it->second;
}

std::string SimState::send_message(SqsQueue& queue, const std::string& body, int delay_seconds) {
  SqsMessage m;
  m.id = uuid();
  m.body = body;
  m.md5 = md5_hex(body);
  m.sent = std::chrono::system_clock::now();
  m.visible_at = std::chrono::steady_clock::now() + std::chrono::seconds(delay_seconds);
  queue.messages.push_back(std::move(m));
  sqs_cv.notify_all();
  return queue.messages.back().id;
}

void SimState::emit_event(const std::string& source, const std::string& detail_type,
                          const std::vector<std::string>& resources, nlohmann::json detail) {
  if (event_queues.empty()) return;
  nlohmann::json event = {
      {"version", "0"},       {"id", uuid()},           {"detail-type", detail_type},
      {"source", source},     {"account", kAccountId},  {"time", iso8601(std::chrono::system_clock::now())},
      {"region", opt.region}, {"resources", resources}, {"detail", std::move(detail)}};
  std::string body = event.dump();
  for (const auto& name : event_queues)
    if (auto it = queues.find(name); it != queues.end()) send_message(it->second, body);
}

}  // namespace hasg::sim
