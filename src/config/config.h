// The daemon's YAML configuration: which backends of the user's haproxy.cfg template are managed, by which Auto
// Scaling group, and where HAProxy's files and sockets are. Every error names FILE:LINE and the key, so a typo is
// found without guessing; unknown keys are errors for the same reason.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "util/result.h"

namespace hasg::config {

// A `backends:` entry: the core's value type, so desire and the planner read the configuration as it is.
using BackendConfig = core::BackendSpec;

struct HaproxySettings {
  std::string template_path;   // key: template
  std::string config_path;     // key: config; what HAProxy runs with
  std::string runtime_socket;
  std::string master_socket;   // optional: without it structural changes cannot be reloaded seamlessly
  std::string binary = "/usr/sbin/haproxy";

  bool operator==(const HaproxySettings&) const = default;
};

// `cloudwatch:` (optional): per-group load metrics published to CloudWatch with PutMetricData.
struct CloudWatchSettings {
  bool enabled = false;                    // the key is present
  std::string metric_namespace = "HAProxyASG";  // key: namespace
  std::chrono::milliseconds period{60'000};     // key: period; under 60s the data is high-resolution
  bool operator==(const CloudWatchSettings&) const = default;
};

// `cluster:` (optional): several load balancers running this configuration, themselves an Auto Scaling group (behind
// an NLB or DNS). A termination hook is completed once every current node drained the instance.
struct ClusterSettings {
  std::string group;    // key: group; the load balancers' own Auto Scaling group
  std::string node_id;  // key: node_id; this node's id in the group (its instance id); empty: read from IMDS
  // key peers: {section, port} (opt-in): a `peers` section of the template filled with the cluster's nodes, so stick
  // tables are shared. Empty section: none.
  std::string peers_section;
  int peers_port = 10000;
  bool enabled() const { return !group.empty(); }
  bool operator==(const ClusterSettings&) const = default;
};

struct Config {
  std::string source;  // the YAML file's path
  std::chrono::milliseconds interval{5000};
  HaproxySettings haproxy;
  std::vector<BackendConfig> backends;
  double max_remove_fraction = 0.5;       // key: max_remove_share, a number 0..1 or a percentage string "50%"
  std::string state_file;                 // optional; key state_file
  std::string listen = "127.0.0.1:9717";  // metrics/health endpoint; key: listen
  std::string log_format = "text";        // "text" | "json"; key: log_format
  std::string events_queue_url;           // key events.queue_url: an SQS queue of the group's events; optional
  CloudWatchSettings cloudwatch;          // key: cloudwatch
  ClusterSettings cluster;                // key: cluster

  bool operator==(const Config&) const = default;
  // Distinct group names in backend order, then the cluster's group (discovered in the same call).
  std::vector<std::string> groups() const;
};

// Parses YAML text; `filename` is used in error messages and to resolve relative paths (against its directory).
// Errors have code "ConfigError" and the message "FILE:LINE: KEY: what is wrong".
Result<Config> parse_config(std::string_view yaml_text, const std::string& filename);
// Reads and parses the file; an unreadable file is an Error naming the path.
Result<Config> load_config(const std::string& path);

}  // namespace hasg::config
