// The EC2 Query API (version 2016-11-15): DescribeInstances, CreateTags and DescribeTags of instances, XML answers
// in AWS's shapes.
#include <algorithm>
#include <pugixml.hpp>
#include <map>
#include <set>
#include <tuple>

#include "sim/service.h"

namespace hasg::sim {

namespace {

constexpr const char* kEc2Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

class Ec2Api : public Service {
 public:
  explicit Ec2Api(SimState& state) : Service(state) {
    on("DescribeInstances", [this](Call& c) { return dry_run(c) ? would_succeed() : describe_instances(c.params); });
    on("CreateTags", [this](Call& c) { return dry_run(c) ? would_succeed() : create_tags(c.params); });
    on("DescribeTags", [this](Call& c) { return dry_run(c) ? would_succeed() : describe_tags(c.params); });
  }

  std::string signing_name() const override { return "ec2"; }
  Answer error(const Call&, int status, const std::string& code, const std::string& message) const override {
    return ec2_error(status, code, message);
  }
  // EC2 answers AuthFailure for every bad-credential case; Auto Scaling names the cause.
  Answer auth_error(const Call& c, int status, const std::string& code, const std::string& message) const override {
    if (code == "MissingAuthenticationToken" || code == "IncompleteSignature") return error(c, status, code, message);
    return ec2_error(401, "AuthFailure", "AWS was not able to validate the provided access credentials");
  }
  // EC2 names a refused action UnauthorizedOperation, not AccessDenied.
  Answer access_denied(const Call& c) const override {
    const std::string action = "ec2:" + c.action;
    return ec2_error(403, "UnauthorizedOperation",
                     "You are not authorized to perform this operation. User: " + std::string(kSimulatorUserArn) +
                         " is not authorized to perform: " + action + " because no identity-based policy allows the " +
                         action + " action");
  }
  Answer throttled(const Call&) const override {
    return ec2_error(503, "RequestLimitExceeded", "Request limit exceeded.");
  }
  Answer internal_error(const Call&) const override {
    return ec2_error(500, "InternalError", "An internal error has occurred");
  }

 private:
  // DryRun=true: "Checks whether you have the required permissions for the action, without actually making the
  // request, and provides an error response. If you have the required permissions, the error response is
  // DryRunOperation. Otherwise, it is UnauthorizedOperation." (every EC2 action's reference). A refusal is the
  // router's `deny` fault, answered before the action runs, as IAM's is; the permitted answer is HTTP 412.
  static bool dry_run(const Call& c) { return param(c.params, "DryRun") == "true"; }
  static Answer would_succeed() {
    return ec2_error(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
  }

  Answer describe_instances(const Params& p) {
    auto ids = list_param(p, "InstanceId");
    std::set<std::string> id_filter, state_filter;
    bool has_id_filter = false, has_state_filter = false;
    for (int f = 1;; ++f) {
      std::string prefix = "Filter." + std::to_string(f);
      auto name = param(p, prefix + ".Name");
      if (name.empty()) break;
      auto values = list_param(p, prefix + ".Value");
      if (name == "instance-id") {
        has_id_filter = true;
        id_filter.insert(values.begin(), values.end());
      } else if (name == "instance-state-name") {
        has_state_filter = true;
        state_filter.insert(values.begin(), values.end());
      } else {
        return ec2_error(400, "InvalidParameterValue", "The filter '" + name + "' is invalid");
      }
    }
    int max_results = 0;
    if (auto mr = param(p, "MaxResults"); !mr.empty()) {
      if (!ids.empty())
        return ec2_error(400, "InvalidParameterCombination",
                         "The parameter instancesSet cannot be used with the parameter maxResults");
      try {
        max_results = std::stoi(mr);
      } catch (...) {
        max_results = -1;
      }
      if (max_results < 5 || max_results > 1000)
        return ec2_error(400, "InvalidParameterValue",
                         "Value ( " + mr +
                             " ) for parameter maxResults is invalid. Expecting a value between 5 and "
                             "1000.");
    }
    for (const auto& id : ids)
      if (!state_.instances.contains(id) && id != state_.opt.imds_instance_id)
        return ec2_error(400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
    size_t offset = 0;
    if (auto tok = param(p, "NextToken"); !tok.empty()) {
      if (!tok.starts_with("ec2-") || !parse_offset(tok.substr(4), offset))
        return ec2_error(400, "InvalidParameterValue", "Invalid value for NextToken");
    }
    // The load balancer's own instance (IMDS's instance-id) is described when asked for by id, as EC2 would.
    Instance self;
    self.view.id = state_.opt.imds_instance_id;
    self.view.zone = state_.opt.zones.front();
    self.view.address = "127.0.0.1";
    self.view.ec2_state = "running";
    auto wanted = [&](const std::string& id) {
      return (ids.empty() || std::find(ids.begin(), ids.end(), id) != ids.end()) &&
             (!has_id_filter || id_filter.contains(id));
    };
    std::vector<const Instance*> selected;
    for (const auto& [id, inst] : state_.instances) {
      if (!wanted(id)) continue;
      if (has_state_filter && !state_filter.contains(inst.view.ec2_state)) continue;
      selected.push_back(&inst);
    }
    if ((!ids.empty() || has_id_filter) && wanted(self.view.id) &&
        (!has_state_filter || state_filter.contains("running")))
      selected.push_back(&self);
    if (state_.opt.page_size > 0) max_results = max_results > 0 ? std::min(max_results, state_.opt.page_size)
                                                                 : state_.opt.page_size;
    size_t end =
        max_results > 0 ? std::min(selected.size(), offset + static_cast<size_t>(max_results)) : selected.size();

    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto root = doc.append_child("DescribeInstancesResponse");
    root.append_attribute("xmlns") = kEc2Ns;
    root.append_child("requestId").text() = request_id().c_str();
    auto rs = root.append_child("reservationSet");
    static const std::map<std::string, int> codes = {{"pending", 0},     {"running", 16},  {"shutting-down", 32},
                                                     {"terminated", 48}, {"stopping", 64}, {"stopped", 80}};
    for (size_t i = offset; i < end; ++i) {
      const Instance& inst = *selected[i];
      const auto& v = inst.view;
      // One reservation per instance, as when each was launched by its own RunInstances call (what Auto Scaling
      // does).
      auto r = rs.append_child("item");
      r.append_child("reservationId").text() = ("r-" + v.id.substr(2)).c_str();
      r.append_child("ownerId").text() = "123456789012";
      r.append_child("requesterId").text() = "940372691376";
      r.append_child("groupSet");
      auto item = r.append_child("instancesSet").append_child("item");
      item.append_child("instanceId").text() = v.id.c_str();
      item.append_child("imageId").text() = "ami-0123456789abcdef0";
      auto st = item.append_child("instanceState");
      st.append_child("code").text() = codes.count(v.ec2_state) ? codes.at(v.ec2_state) : 0;
      st.append_child("name").text() = v.ec2_state.c_str();
      bool has_ip = v.ec2_state != "terminated";
      std::string dns = "ip-" + v.address + "." + state_.opt.region + ".compute.internal";
      std::replace(dns.begin(), dns.begin() + static_cast<long>(3 + v.address.size()), '.', '-');
      item.append_child("privateDnsName").text() = has_ip ? dns.c_str() : "";
      item.append_child("dnsName");
      item.append_child("reason");
      item.append_child("amiLaunchIndex").text() = 0;
      item.append_child("productCodes");
      item.append_child("instanceType").text() = "t3.micro";
      item.append_child("launchTime").text() = iso8601(std::chrono::system_clock::now()).c_str();
      auto pl = item.append_child("placement");
      pl.append_child("availabilityZone").text() = v.zone.c_str();
      pl.append_child("groupName");
      pl.append_child("tenancy").text() = "default";
      item.append_child("monitoring").append_child("state").text() = "disabled";
      if (has_ip) {
        item.append_child("subnetId").text() = "subnet-0123456789abcdef0";
        item.append_child("vpcId").text() = "vpc-0123456789abcdef0";
        item.append_child("privateIpAddress").text() = v.address.c_str();
      }
      item.append_child("architecture").text() = "x86_64";
      item.append_child("rootDeviceType").text() = "ebs";
      item.append_child("rootDeviceName").text() = "/dev/xvda";
      item.append_child("virtualizationType").text() = "hvm";
      auto tags = item.append_child("tagSet");
      if (!v.group.empty()) {
        auto tag = tags.append_child("item");
        tag.append_child("key").text() = "aws:autoscaling:groupName";
        tag.append_child("value").text() = v.group.c_str();
      }
      item.append_child("hypervisor").text() = "xen";
      // The instance's IMDS settings (EC2's InstanceMetadataOptionsResponse); the group's instances get AWS's
      // defaults for current launch templates.
      const bool is_self = &inst == &self;
      auto md = item.append_child("metadataOptions");
      md.append_child("state").text() = "applied";
      md.append_child("httpTokens").text() = is_self ? state_.opt.imds_http_tokens.c_str() : "required";
      md.append_child("httpPutResponseHopLimit").text() = is_self ? state_.opt.imds_hop_limit : 2;
      md.append_child("httpEndpoint").text() = "enabled";
      md.append_child("httpProtocolIpv6").text() = "disabled";
      md.append_child("instanceMetadataTags").text() = "disabled";
    }
    if (end < selected.size()) root.append_child("nextToken").text() = ("ec2-" + std::to_string(end)).c_str();
    return {200, xml_string(doc)};
  }
  pugi::xml_node response(pugi::xml_document& doc, const char* name) {
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto root = doc.append_child(name);
    root.append_attribute("xmlns") = kEc2Ns;
    root.append_child("requestId").text() = request_id().c_str();
    return root;
  }

  // CreateTags (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html) on instances: keys of 1
  // to 127 characters not starting with "aws:", values up to 256, at most 50 tags per resource; an existing key
  // gets the new value. All or nothing, as EC2 does.
  Answer create_tags(const Params& p) {
    auto ids = list_param(p, "ResourceId");
    if (ids.empty()) return ec2_error(400, "MissingParameter", "The request must contain the parameter resourceIdSet");
    if (ids.size() > 1000) return ec2_error(400, "InvalidParameterValue", "Too many resource IDs (at most 1000)");
    std::vector<std::pair<std::string, std::string>> tags;
    for (int n = 1;; ++n) {
      const std::string prefix = "Tag." + std::to_string(n);
      if (!p.contains(prefix + ".Key")) break;
      std::string key = param(p, prefix + ".Key"), value = param(p, prefix + ".Value");
      if (key.empty()) return ec2_error(400, "InvalidParameterValue", "Tag key must not be empty");
      if (key.size() > 127)
        return ec2_error(400, "InvalidParameterValue",
                         "Tag key exceeds the maximum length of 127 characters");
      if (value.size() > 256)
        return ec2_error(400, "InvalidParameterValue",
                         "Tag value exceeds the maximum length of 256 characters");
      if (key.starts_with("aws:"))
        return ec2_error(400, "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
      tags.emplace_back(std::move(key), std::move(value));
    }
    if (tags.empty()) return ec2_error(400, "MissingParameter", "The request must contain the parameter tagSet");
    for (const auto& id : ids) {
      auto it = state_.instances.find(id);
      if (it == state_.instances.end())
        return ec2_error(400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
      auto after = it->second.tags;
      for (const auto& [k, v] : tags) after[k] = v;
      if (after.size() > 50)
        return ec2_error(400, "TagLimitExceeded", "The maximum number of Tags for a resource has been reached.");
    }
    for (const auto& id : ids)
      for (const auto& [k, v] : tags) state_.instances.at(id).tags[k] = v;
    pugi::xml_document doc;
    response(doc, "CreateTagsResponse").append_child("return").text() = "true";
    return {200, xml_string(doc)};
  }

  // DescribeTags (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeTags.html) of instances'
  // tags, with the filters resource-id, resource-type, key and value, MaxResults 5 to 1000 and NextToken.
  Answer describe_tags(const Params& p) {
    std::map<std::string, std::set<std::string>> filters;
    for (int f = 1;; ++f) {
      const std::string prefix = "Filter." + std::to_string(f);
      auto name = param(p, prefix + ".Name");
      if (name.empty()) break;
      if (name != "resource-id" && name != "resource-type" && name != "key" && name != "value")
        return ec2_error(400, "InvalidParameterValue", "The filter '" + name + "' is invalid");
      auto values = list_param(p, prefix + ".Value");
      filters[name].insert(values.begin(), values.end());
    }
    auto pass = [&](const char* name, const std::string& v) {
      auto it = filters.find(name);
      return it == filters.end() || it->second.contains(v);
    };
    size_t max_results = 0;
    if (auto mr = param(p, "MaxResults"); !mr.empty()) {
      int n = -1;
      try {
        n = std::stoi(mr);
      } catch (...) {
      }
      if (n < 5 || n > 1000)
        return ec2_error(400, "InvalidParameterValue",
                         "Value ( " + mr + " ) for parameter maxResults is invalid. Expecting a value between 5 and "
                                           "1000.");
      max_results = static_cast<size_t>(n);
    }
    size_t offset = 0;
    if (auto tok = param(p, "NextToken"); !tok.empty()) {
      if (!tok.starts_with("tags-") || !parse_offset(tok.substr(5), offset))
        return ec2_error(400, "InvalidParameterValue", "Invalid value for NextToken");
    }
    std::vector<std::tuple<std::string, std::string, std::string>> found;  // id, key, value; by id then key
    for (const auto& [id, inst] : state_.instances) {
      if (!pass("resource-id", id) || !pass("resource-type", "instance")) continue;
      for (const auto& [k, v] : inst.tags)
        if (pass("key", k) && pass("value", v)) found.emplace_back(id, k, v);
    }
    size_t end = max_results > 0 ? std::min(found.size(), offset + max_results) : found.size();
    pugi::xml_document doc;
    auto root = response(doc, "DescribeTagsResponse");
    auto set = root.append_child("tagSet");
    for (size_t i = offset; i < end; ++i) {
      auto item = set.append_child("item");
      item.append_child("resourceId").text() = std::get<0>(found[i]).c_str();
      item.append_child("resourceType").text() = "instance";
      item.append_child("key").text() = std::get<1>(found[i]).c_str();
      item.append_child("value").text() = std::get<2>(found[i]).c_str();
    }
    if (end < found.size()) root.append_child("nextToken").text() = ("tags-" + std::to_string(end)).c_str();
    return {200, xml_string(doc)};
  }
};

}  // namespace

std::unique_ptr<Service> make_ec2_api(SimState& state) { return std::make_unique<Ec2Api>(state); }

}  // namespace hasg::sim
