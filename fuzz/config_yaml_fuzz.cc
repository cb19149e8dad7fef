// The daemon's YAML configuration. Beyond not crashing (yaml-cpp throws; parse_config must turn every throw into an
// Error naming the file): a configuration accepted holds no value that would break a line of haproxy.cfg or of the
// runtime API's line protocol (backend names, groups and server options end up in both).
#include <algorithm>
#include <filesystem>

#include "config/config.h"
#include "fuzz_check.h"

using namespace hasg;

namespace {

bool has_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml = fuzz::input(data, size);
  auto r = config::parse_config(yaml, "/etc/haproxy-asg/fuzz.yaml");
  if (!r) {
    FUZZ_CHECK(r.error().message.starts_with("/etc/haproxy-asg/fuzz.yaml"));
    return 0;
  }
  for (const auto& b : r->backends) {
    FUZZ_CHECK(!b.backend.empty() && !has_control(b.backend));
    FUZZ_CHECK(b.backend.find_first_of(" #;/") == std::string::npos);
    FUZZ_CHECK(!b.group.empty() && !has_control(b.group));
    FUZZ_CHECK(!has_control(b.server_options) && b.server_options.find('#') == std::string::npos);
    FUZZ_CHECK(b.port >= 1 && b.port <= 65535);
  }
  FUZZ_CHECK(!has_control(r->cluster.group) && !has_control(r->cluster.node_id));
  // (Not the parser's own rule, is_haproxy_name_char: a mistake in it would agree with itself.)
  const std::string& peers = r->cluster.peers_section;
  FUZZ_CHECK(!has_control(peers) && peers.find_first_of(" #;/") == std::string::npos);
  // A NUL byte would end a value for every C call it reaches (open, connect, exec).
  for (const std::string* v : {&r->haproxy.template_path, &r->haproxy.config_path, &r->haproxy.runtime_socket,
                               &r->haproxy.master_socket, &r->haproxy.binary, &r->state_file, &r->listen,
                               &r->events_queue_url, &r->cloudwatch.metric_namespace})
    FUZZ_CHECK(v->find('\0') == std::string::npos);
  FUZZ_CHECK(std::filesystem::path(r->haproxy.template_path).lexically_normal() !=
             std::filesystem::path(r->haproxy.config_path).lexically_normal());
  return 0;
}
