#include "daemon/cluster_records.h"

#include "aws/ec2.h"
#include "core/aws_values.h"
#include "core/types.h"
#include "util/strings.h"

namespace hasg::daemon {

Result<std::map<std::string, std::set<std::string>>> AwsClusterRecords::drained(
    const std::vector<std::string>& instances, const std::set<std::string>& nodes) {
  std::vector<std::string> keys;
  std::map<std::string, std::string> node_of;  // tag key -> node
  for (const auto& n : nodes) {
    keys.push_back(core::drained_tag_key(n));
    node_of[keys.back()] = n;
  }
  auto tags = aws::describe_tags(ec2_, instances, keys);
  if (!tags) return tags.error();
  std::map<std::string, std::set<std::string>> out;
  for (const auto& t : *tags)
    if (auto it = node_of.find(t.key); it != node_of.end()) out[t.resource_id].insert(it->second);
  return out;
}

Status AwsClusterRecords::record(const std::string& instance, const std::string& key, const std::string& value) {
  return aws::create_tag(ec2_, instance, key, value);
}

Status resolve_node_id(config::Config& cfg, aws::AwsContext& aws) {
  if (!cfg.cluster.enabled() || !cfg.cluster.node_id.empty()) return Ok{};
  auto id = aws.instance_id();
  if (!id) return id.error();
  // The node id becomes a tag key and a word of log lines: only what EC2 issues is taken.
  std::string node(trim(*id));
  if (!core::is_instance_id(node))
    return make_error("ImdsError", "IMDS meta-data/instance-id is not an instance id: '" + core::printable(node) + "'");
  cfg.cluster.node_id = node;
  return Ok{};
}

}  // namespace hasg::daemon
