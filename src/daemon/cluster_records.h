// The edge to the cluster's drain records: tags on a departing instance saying which load balancers are done with
// it (core::drained_tag_key). An interface, so the cycle is tested in memory as well as against the simulator.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "aws/context.h"
#include "aws/query_client.h"
#include "config/config.h"
#include "util/result.h"

namespace hasg::daemon {

class ClusterRecords {
 public:
  virtual ~ClusterRecords() = default;
  // The records of `nodes` found on `instances`: instance -> the nodes whose record is on it.
  virtual Result<std::map<std::string, std::set<std::string>>> drained(const std::vector<std::string>& instances,
                                                                       const std::set<std::string>& nodes) = 0;
  // Writes one record (a tag) on `instance`.
  virtual Status record(const std::string& instance, const std::string& key, const std::string& value) = 0;
};

// Over EC2's DescribeTags (filters resource-id and key) and CreateTags.
class AwsClusterRecords : public ClusterRecords {
 public:
  explicit AwsClusterRecords(aws::QueryClient& ec2) : ec2_(ec2) {}
  Result<std::map<std::string, std::set<std::string>>> drained(const std::vector<std::string>& instances,
                                                               const std::set<std::string>& nodes) override;
  Status record(const std::string& instance, const std::string& key, const std::string& value) override;

 private:
  aws::QueryClient& ec2_;
};

// With `cluster:` and no node_id, this node's id is its instance id, read from IMDS. An error leaves it empty (the
// cycle then sees the cluster's view as incomplete and completes hooks only at the drain timeout).
Status resolve_node_id(config::Config& cfg, aws::AwsContext& aws);

}  // namespace hasg::daemon
