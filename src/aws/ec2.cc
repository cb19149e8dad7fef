#include "aws/ec2.h"

#include <pugixml.hpp>

#include <optional>

namespace hasg::aws {

namespace {

Error malformed(const std::string& what) {
  return make_error("MalformedResponse", "malformed DescribeInstances answer: " + what, false);
}

}  // namespace

Result<Ec2Page> parse_describe_instances(const std::string& xml) {
  pugi::xml_document doc;
  auto parsed = doc.load_string(xml.c_str());
  if (!parsed) return malformed(std::string(parsed.description()) + " at byte " + std::to_string(parsed.offset));
  auto root = doc.child("DescribeInstancesResponse");
  if (!root) return malformed("no DescribeInstancesResponse element");
  auto reservations = root.child("reservationSet");
  if (!reservations) return malformed("no reservationSet element");

  Ec2Page page;
  page.next_token = root.child_value("nextToken");
  for (auto r : reservations.children("item")) {
    for (auto i : r.child("instancesSet").children("item")) {
      Ec2Instance inst;
      inst.instance_id = i.child_value("instanceId");
      inst.state = i.child("instanceState").child_value("name");
      if (inst.instance_id.empty() || inst.state.empty())
        return malformed("an instance without instanceId or instanceState");
      inst.private_ipv4 = i.child_value("privateIpAddress");
      inst.availability_zone = i.child("placement").child_value("availabilityZone");
      inst.ipv6 = i.child_value("ipv6Address");  // the primary IPv6 address, when the instance has one
      if (inst.ipv6.empty()) {
        for (auto ni : i.child("networkInterfaceSet").children("item")) {
          auto a = ni.child("ipv6AddressesSet").child("item").child_value("ipv6Address");
          if (*a) {
            inst.ipv6 = a;
            break;
          }
        }
      }
      page.instances.push_back(std::move(inst));
    }
  }
  return page;
}

Result<std::vector<Ec2Instance>> describe_instances(QueryClient& client, const std::vector<std::string>& ids,
                                                    size_t batch_size) {
  std::vector<Ec2Instance> out;
  batch_size = std::max<size_t>(1, std::min<size_t>(batch_size, 1000));
  for (size_t start = 0; start < ids.size(); start += batch_size) {
    std::string token;
    do {
      QueryParams params{{"Filter.1.Name", "instance-id"}};
      for (size_t i = start; i < std::min(ids.size(), start + batch_size); ++i)
        params.emplace_back("Filter.1.Value." + std::to_string(i - start + 1), ids[i]);
      params.emplace_back("MaxResults", "1000");
      if (!token.empty()) params.emplace_back("NextToken", token);
      // Decoded inside the call: a malformed answer is a failed call (aws.ec2 in the fault book).
      std::optional<Ec2Page> page;
      auto body = client.call("DescribeInstances", params, [&](const std::string& xml) -> Status {
        auto p = parse_describe_instances(xml);
        if (!p) return p.error();
        page = std::move(*p);
        return Ok{};
      });
      if (!body) return body.error();
      for (auto& i : page->instances) out.push_back(std::move(i));
      token = page->next_token;
    } while (!token.empty());
  }
  return out;
}

Result<InstanceMetadataOptions> parse_instance_metadata_options(const std::string& xml,
                                                                const std::string& instance_id) {
  pugi::xml_document doc;
  auto parsed = doc.load_string(xml.c_str());
  if (!parsed) return malformed(std::string(parsed.description()) + " at byte " + std::to_string(parsed.offset));
  auto root = doc.child("DescribeInstancesResponse");
  if (!root) return malformed("no DescribeInstancesResponse element");
  for (auto r : root.child("reservationSet").children("item")) {
    for (auto i : r.child("instancesSet").children("item")) {
      if (instance_id != i.child_value("instanceId")) continue;
      auto md = i.child("metadataOptions");
      if (!md) return malformed("instance " + instance_id + " has no metadataOptions");
      InstanceMetadataOptions o;
      o.http_tokens = md.child_value("httpTokens");
      o.hop_limit = md.child("httpPutResponseHopLimit").text().as_int();
      o.http_endpoint = md.child_value("httpEndpoint");
      return o;
    }
  }
  return make_error("NotFound", "EC2 DescribeInstances does not describe instance " + instance_id);
}

Result<InstanceMetadataOptions> describe_instance_metadata_options(QueryClient& client,
                                                                   const std::string& instance_id) {
  auto body = client.call("DescribeInstances", {{"InstanceId.1", instance_id}});
  if (!body) return body.error();
  return parse_instance_metadata_options(*body, instance_id);
}

Result<Ec2TagPage> parse_describe_tags(const std::string& xml) {
  auto bad = [](const std::string& what) {
    return make_error("MalformedResponse", "malformed DescribeTags answer: " + what, false);
  };
  pugi::xml_document doc;
  auto parsed = doc.load_string(xml.c_str());
  if (!parsed) return bad(std::string(parsed.description()) + " at byte " + std::to_string(parsed.offset));
  auto root = doc.child("DescribeTagsResponse");
  if (!root) return bad("no DescribeTagsResponse element");
  auto set = root.child("tagSet");
  if (!set) return bad("no tagSet element");
  Ec2TagPage page;
  page.next_token = root.child_value("nextToken");
  for (auto item : set.children("item")) {
    Ec2Tag t{item.child_value("resourceId"), item.child_value("key"), item.child_value("value")};
    if (t.resource_id.empty() || t.key.empty()) return bad("a tag without resourceId or key");
    page.tags.push_back(std::move(t));
  }
  return page;
}

Status create_tag(QueryClient& client, const std::string& resource_id, const std::string& key,
                  const std::string& value) {
  if (resource_id.empty() || key.empty() || key.size() > 127 || value.size() > 256 || key.starts_with("aws:"))
    return make_error("InvalidParameterValue", "CreateTags: a tag key of 1 to 127 characters not starting with "
                                               "'aws:' and a value of at most 256 are needed, got key '" + key + "'",
                      false);
  auto body = client.call("CreateTags", {{"ResourceId.1", resource_id}, {"Tag.1.Key", key}, {"Tag.1.Value", value}});
  if (!body) return body.error();
  return Ok{};
}

Result<std::vector<Ec2Tag>> describe_tags(QueryClient& client, const std::vector<std::string>& resource_ids,
                                          const std::vector<std::string>& keys) {
  constexpr size_t kBatch = 200;  // values per filter: well inside what EC2 takes
  std::vector<Ec2Tag> out;
  if (resource_ids.empty() || keys.empty()) return out;
  for (size_t r = 0; r < resource_ids.size(); r += kBatch) {
    for (size_t k = 0; k < keys.size(); k += kBatch) {
      std::string token;
      do {
        QueryParams params{{"Filter.1.Name", "resource-id"}};
        for (size_t i = r; i < std::min(resource_ids.size(), r + kBatch); ++i)
          params.emplace_back("Filter.1.Value." + std::to_string(i - r + 1), resource_ids[i]);
        params.emplace_back("Filter.2.Name", "key");
        for (size_t i = k; i < std::min(keys.size(), k + kBatch); ++i)
          params.emplace_back("Filter.2.Value." + std::to_string(i - k + 1), keys[i]);
        params.emplace_back("MaxResults", "1000");
        if (!token.empty()) params.emplace_back("NextToken", token);
        std::optional<Ec2TagPage> page;
        auto body = client.call("DescribeTags", params, [&](const std::string& xml) -> Status {
          auto p = parse_describe_tags(xml);
          if (!p) return p.error();
          page = std::move(*p);
          return Ok{};
        });
        if (!body) return body.error();
        for (auto& t : page->tags) out.push_back(std::move(t));
        token = page->next_token;
      } while (!token.empty());
    }
  }
  return out;
}

}  // namespace hasg::aws
