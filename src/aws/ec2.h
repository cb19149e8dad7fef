// The EC2 calls haproxy-asg makes, and the decoding of their XML answers
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html).
#pragma once

#include <string>
#include <vector>

#include "aws/query_client.h"
#include "util/result.h"

namespace hasg::aws {

inline constexpr const char* kEc2Version = "2016-11-15";

struct Ec2Instance {
  std::string instance_id;
  std::string state;  // "pending", "running", "shutting-down", "terminated", "stopping", "stopped"
  std::string private_ipv4;
  std::string ipv6;   // first IPv6 address of the primary interface, if any
  std::string availability_zone;
  bool operator==(const Ec2Instance&) const = default;
};

struct Ec2Page {
  std::vector<Ec2Instance> instances;
  std::string next_token;
};

Result<Ec2Page> parse_describe_instances(const std::string& xml);

// Describes `ids` in batches of `batch_size` ids, each batch paginated. The ids go in an "instance-id" filter rather
// than InstanceId.N so that MaxResults and NextToken apply (EC2 refuses MaxResults together with InstanceId), and
// so that an id that no longer exists is simply absent instead of failing the whole call with
// InvalidInstanceID.NotFound.
Result<std::vector<Ec2Instance>> describe_instances(QueryClient& client, const std::vector<std::string>& ids,
                                                    size_t batch_size = 200);

// An instance's IMDS settings, as DescribeInstances reports them (InstanceMetadataOptionsResponse:
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMetadataOptionsResponse.html).
struct InstanceMetadataOptions {
  std::string http_tokens;    // "required" (IMDSv2 only) or "optional" (IMDSv1 allowed too)
  int hop_limit = 0;          // HttpPutResponseHopLimit: how many network hops the token's answer may cross
  std::string http_endpoint;  // "enabled" or "disabled"
  bool operator==(const InstanceMetadataOptions&) const = default;
};

// Decodes the metadataOptions of `instance_id` from a DescribeInstances answer; "NotFound" when the answer does not
// describe it.
Result<InstanceMetadataOptions> parse_instance_metadata_options(const std::string& xml, const std::string& instance_id);
Result<InstanceMetadataOptions> describe_instance_metadata_options(QueryClient& client, const std::string& instance_id);

// A tag of an EC2 resource, as DescribeTags lists it
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TagDescription.html).
struct Ec2Tag {
  std::string resource_id;
  std::string key;
  std::string value;
  bool operator==(const Ec2Tag&) const = default;
};

struct Ec2TagPage {
  std::vector<Ec2Tag> tags;
  std::string next_token;
};

Result<Ec2TagPage> parse_describe_tags(const std::string& xml);

// CreateTags: one tag (key <= 127 characters, value <= 256, as EC2 allows) on one resource; an existing tag of that
// key gets the new value. EC2 refuses a 51st tag on a resource (TagLimitExceeded).
Status create_tag(QueryClient& client, const std::string& resource_id, const std::string& key,
                  const std::string& value);

// DescribeTags of the tags whose key is one of `keys` on the resources `resource_ids` (filters resource-id and key,
// in batches of 200 ids and 200 keys, each paginated with MaxResults 1000).
Result<std::vector<Ec2Tag>> describe_tags(QueryClient& client, const std::vector<std::string>& resource_ids,
                                          const std::vector<std::string>& keys);

}  // namespace hasg::aws
