// SQS (version 2012-11-05) in both of its protocols: JSON 1.0 (X-Amz-Target: AmazonSQS.Action, JSON answers and
// errors with __type and x-amzn-query-error), which current SDKs and haproxy-asg use, and the Query protocol
// (Action=...&Version=2012-11-05, XML answers), which older botocore (Debian 12's awscli and boto3) uses. Handlers
// read their input through Input (either protocol) and build the JSON shape of their answer; render() turns it into
// XML for Query clients.
#include <algorithm>
#include <pugixml.hpp>
#include <regex>
#include <set>

#include "sim/service.h"
#include "util/strings.h"

namespace hasg::sim {

namespace {

constexpr const char* kSqsNs = "http://queue.amazonaws.com/doc/2012-11-05/";
constexpr const char* kNonExistentQueue = "AWS.SimpleQueueService.NonExistentQueue";

// An error answer in waiting: Query code, HTTP status, message.
struct SqsError {
  int status;
  std::string code;
  std::string message;
};

SqsError invalid_value(const std::string& name, const std::string& value, const std::string& reason) {
  return {400, "InvalidParameterValue", "Value " + value + " for parameter " + name + " is invalid. Reason: " + reason};
}

// The call's input, whichever protocol carried it.
class Input {
 public:
  explicit Input(const Call& c) : c_(c) {}

  std::optional<std::string> str(const std::string& name) const {
    if (c_.json) {
      auto it = c_.input.find(name);
      if (it == c_.input.end() || it->is_null()) return std::nullopt;
      return it->is_string() ? it->get<std::string>() : it->dump();
    }
    auto it = c_.params.find(name);
    if (it == c_.params.end()) return std::nullopt;
    return it->second;
  }

  // nullopt when absent; an error when present but not an integer in [lo, hi].
  Result<std::optional<int>> integer(const std::string& name, int lo, int hi, const std::string& reason) const {
    auto s = str(name);
    if (!s) return std::optional<int>();
    int v = 0;
    if (!parse_int(*s, v) || v < lo || v > hi) {
      auto e = invalid_value(name, *s, reason);
      return make_error(e.code, e.message);
    }
    return std::optional<int>(v);
  }

  // JSON: an array of strings; Query: query_name.1, query_name.2, ...
  std::vector<std::string> list(const std::string& json_name, const std::string& query_name) const {
    std::vector<std::string> out;
    if (c_.json) {
      auto it = c_.input.find(json_name);
      if (it != c_.input.end() && it->is_array())
        for (const auto& v : *it)
          if (v.is_string()) out.push_back(v.get<std::string>());
      return out;
    }
    return list_param(c_.params, query_name);
  }

  // JSON: an object of strings; Query: query_name.N.Name / query_name.N.Value.
  std::map<std::string, std::string> map(const std::string& json_name, const std::string& query_name) const {
    std::map<std::string, std::string> out;
    if (c_.json) {
      auto it = c_.input.find(json_name);
      if (it != c_.input.end() && it->is_object())
        for (const auto& [k, v] : it->items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
      return out;
    }
    for (int i = 1;; ++i) {
      std::string prefix = query_name + "." + std::to_string(i);
      auto name = c_.params.find(prefix + ".Name");
      if (name == c_.params.end()) break;
      out[name->second] = param(c_.params, prefix + ".Value");
    }
    return out;
  }

  // JSON: an array of objects of strings; Query: query_name.N.Field.
  std::vector<std::map<std::string, std::string>> entries(const std::string& json_name, const std::string& query_name,
                                                          const std::vector<std::string>& fields) const {
    std::vector<std::map<std::string, std::string>> out;
    if (c_.json) {
      auto it = c_.input.find(json_name);
      if (it != c_.input.end() && it->is_array())
        for (const auto& e : *it) {
          std::map<std::string, std::string> m;
          if (e.is_object())
            for (const auto& f : fields)
              if (auto v = e.find(f); v != e.end() && v->is_string()) m[f] = v->get<std::string>();
          out.push_back(std::move(m));
        }
      return out;
    }
    for (int i = 1;; ++i) {
      std::string prefix = query_name + "." + std::to_string(i) + ".";
      std::map<std::string, std::string> m;
      for (const auto& f : fields)
        if (auto v = c_.params.find(prefix + f); v != c_.params.end()) m[f] = v->second;
      if (m.empty()) break;
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  const Call& c_;
};

// The Query protocol's XML for a JSON-shaped answer: lists and maps are flattened the way SQS's model says.
void to_xml(pugi::xml_node parent, const std::string& name, const nlohmann::json& v) {
  static const std::map<std::string, std::string> list_members = {{"Messages", "Message"},
                                                                  {"Successful", "DeleteMessageBatchResultEntry"},
                                                                  {"Failed", "BatchResultErrorEntry"},
                                                                  {"QueueUrls", "QueueUrl"}};
  if (v.is_object() && (name == "Attributes")) {
    for (const auto& [k, val] : v.items()) {
      auto a = parent.append_child("Attribute");
      a.append_child("Name").text() = k.c_str();
      a.append_child("Value").text() = (val.is_string() ? val.get<std::string>() : val.dump()).c_str();
    }
  } else if (v.is_array()) {
    auto it = list_members.find(name);
    std::string member = it == list_members.end() ? name : it->second;
    for (const auto& e : v) to_xml(parent, member, e);
  } else if (v.is_object()) {
    auto node = parent.append_child(name.c_str());
    for (const auto& [k, val] : v.items()) to_xml(node, k, val);
  } else if (v.is_string()) {
    parent.append_child(name.c_str()).text() = v.get<std::string>().c_str();
  } else {
    parent.append_child(name.c_str()).text() = v.dump().c_str();
  }
}

std::string json_type(const std::string& code) {
  if (code == kNonExistentQueue) return "QueueDoesNotExist";
  if (code == "QueueAlreadyExists") return "QueueNameExists";
  const std::string prefix = "AWS.SimpleQueueService.";
  return code.starts_with(prefix) ? code.substr(prefix.size()) : code;
}

bool valid_queue_name(const std::string& name) {
  static const std::regex re("[A-Za-z0-9_-]{1,80}(\\.fifo)?");
  return std::regex_match(name, re) && name.size() <= 80;
}

class SqsApi : public Service {
 public:
  explicit SqsApi(SimState& state) : Service(state) {
    on("CreateQueue", [this](Call& c) { return run(c, &SqsApi::create_queue); });
    on("GetQueueUrl", [this](Call& c) { return run(c, &SqsApi::get_queue_url); });
    on("GetQueueAttributes", [this](Call& c) { return run(c, &SqsApi::get_queue_attributes); });
    on("SendMessage", [this](Call& c) { return run(c, &SqsApi::send_message); });
    on("ReceiveMessage", [this](Call& c) { return run(c, &SqsApi::receive_message); });
    on("DeleteMessage", [this](Call& c) { return run(c, &SqsApi::delete_message); });
    on("DeleteMessageBatch", [this](Call& c) { return run(c, &SqsApi::delete_message_batch); });
    on("ChangeMessageVisibility", [this](Call& c) { return run(c, &SqsApi::change_message_visibility); });
    on("PurgeQueue", [this](Call& c) { return run(c, &SqsApi::purge_queue); });
  }

  std::string signing_name() const override { return "sqs"; }
  std::string json_target_prefix() const override { return "AmazonSQS"; }

  Answer error(const Call& c, int status, const std::string& code, const std::string& message) const override {
    if (!c.json) return query_error(kSqsNs, status, code, message);
    Answer a{status, nlohmann::json{{"__type", "com.amazonaws.sqs#" + json_type(code)}, {"message", message}}.dump(),
             "application/x-amz-json-1.0"};
    a.headers.emplace_back("x-amzn-query-error", code + (status >= 500 ? ";Receiver" : ";Sender"));
    return a;
  }
  Answer throttled(const Call& c) const override { return error(c, 400, "RequestThrottled", "Rate exceeded"); }
  // JSON: the generic coral AccessDeniedException, with the Query-era code AccessDenied in x-amzn-query-error (what
  // the SDKs report); Query: Code AccessDenied, "Access to the resource URL is denied."
  Answer access_denied(const Call& c) const override {
    if (!c.json) {
      std::string url = param(c.params, "QueueUrl");
      return query_error(kSqsNs, 403, "AccessDenied",
                         "Access to the resource " + (url.empty() ? state_.queue_url("") : url) + " is denied.");
    }
    const std::string action = "sqs:" + to_lower(c.action);
    Answer a{403,
             nlohmann::json{{"__type", "com.amazon.coral.service#AccessDeniedException"},
                            {"Message", "User: " + std::string(kSimulatorUserArn) + " is not authorized to perform: " +
                                            action + " because no identity-based policy allows the " + action +
                                            " action"}}
                 .dump(),
             "application/x-amz-json-1.0"};
    a.headers.emplace_back("x-amzn-query-error", "AccessDenied;Sender");
    return a;
  }
  Answer internal_error(const Call& c) const override {
    return error(c, 500, "InternalError", "We encountered an internal error. Please try again.");
  }

 private:
  using Outcome = std::variant<nlohmann::json, SqsError>;

  Answer run(Call& c, Outcome (SqsApi::*handler)(Call&, const Input&)) {
    Input in(c);
    auto out = (this->*handler)(c, in);
    if (auto* e = std::get_if<SqsError>(&out)) return error(c, e->status, e->code, e->message);
    auto& result = std::get<nlohmann::json>(out);
    if (c.json) return {200, result.dump(), "application/x-amz-json-1.0"};
    pugi::xml_document doc;
    auto root = doc.append_child((c.action + "Response").c_str());
    root.append_attribute("xmlns") = kSqsNs;
    // Calls with an output always have their <ActionResult> wrapper (botocore looks it up), empty or not.
    static const std::set<std::string> with_output = {"CreateQueue",    "GetQueueUrl",    "GetQueueAttributes",
                                                      "SendMessage",    "ReceiveMessage", "DeleteMessageBatch"};
    if (with_output.contains(c.action)) {
      auto r = root.append_child((c.action + "Result").c_str());
      for (const auto& [k, v] : result.items()) to_xml(r, k, v);
    }
    root.append_child("ResponseMetadata").append_child("RequestId").text() = request_id().c_str();
    return {200, xml_string(doc)};
  }

  static SqsError missing(const std::string& name) {
    return {400, "MissingParameter", "The request must contain the parameter " + name + "."};
  }

  SqsError no_queue(const Call& c) const {
    return {
        400, kNonExistentQueue,
        c.json ? "The specified queue does not exist." : "The specified queue does not exist for this wsdl version."};
  }

  // The queue named by QueueUrl.
  std::variant<SqsQueue*, SqsError> queue(const Call& c, const Input& in) {
    auto url = in.str("QueueUrl");
    if (!url || url->empty()) return missing("QueueUrl");
    SqsQueue* q = state_.queue_by_url(*url);
    if (!q) return no_queue(c);
    return q;
  }

  Outcome create_queue(Call&, const Input& in) {
    auto name = in.str("QueueName");
    if (!name) return missing("QueueName");
    if (!valid_queue_name(*name))
      return SqsError{400, "InvalidParameterValue",
                      "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"};
    static const std::set<std::string> known = {"DelaySeconds",
                                                "MaximumMessageSize",
                                                "MessageRetentionPeriod",
                                                "Policy",
                                                "ReceiveMessageWaitTimeSeconds",
                                                "VisibilityTimeout",
                                                "RedrivePolicy",
                                                "RedriveAllowPolicy",
                                                "KmsMasterKeyId",
                                                "KmsDataKeyReusePeriodSeconds",
                                                "SqsManagedSseEnabled",
                                                "FifoQueue",
                                                "ContentBasedDeduplication"};
    auto attrs = in.map("Attributes", "Attribute");
    for (const auto& [k, v] : attrs)
      if (!known.contains(k)) return SqsError{400, "InvalidAttributeName", "Unknown Attribute " + k + "."};
    static const std::map<std::string, std::pair<int, int>> ranges = {{"DelaySeconds", {0, 900}},
                                                                      {"MaximumMessageSize", {1024, 262144}},
                                                                      {"MessageRetentionPeriod", {60, 1209600}},
                                                                      {"ReceiveMessageWaitTimeSeconds", {0, 20}},
                                                                      {"VisibilityTimeout", {0, 43200}}};
    for (const auto& [k, range] : ranges) {
      auto it = attrs.find(k);
      int v = 0;
      if (it != attrs.end() && (!parse_int(it->second, v) || v < range.first || v > range.second))
        return SqsError{400, "InvalidAttributeValue", "Invalid value for the parameter " + k + "."};
    }
    if (auto it = state_.queues.find(*name); it != state_.queues.end()) {
      for (const auto& [k, v] : attrs)
        if (auto cur = it->second.attributes.find(k); cur == it->second.attributes.end() || cur->second != v)
          return SqsError{400, "QueueAlreadyExists",
                          "A queue already exists with the same name and a different value for attribute " + k};
      return nlohmann::json{{"QueueUrl", state_.queue_url(*name)}};
    }
    SqsQueue q;
    q.name = *name;
    q.attributes = attrs;
    q.created = std::chrono::system_clock::now();
    state_.queues[*name] = std::move(q);
    return nlohmann::json{{"QueueUrl", state_.queue_url(*name)}};
  }

  Outcome get_queue_url(Call& c, const Input& in) {
    auto name = in.str("QueueName");
    if (!name) return missing("QueueName");
    if (!state_.queues.contains(*name)) return no_queue(c);
    return nlohmann::json{{"QueueUrl", state_.queue_url(*name)}};
  }

  Outcome get_queue_attributes(Call& c, const Input& in) {
    auto qv = queue(c, in);
    if (auto* e = std::get_if<SqsError>(&qv)) return *e;
    SqsQueue& q = *std::get<SqsQueue*>(qv);
    auto now = std::chrono::steady_clock::now();
    int visible = 0, in_flight = 0, delayed = 0;
    for (const auto& m : q.messages) {
      if (m.visible_at <= now)
        ++visible;
      else if (m.received)
        ++in_flight;
      else
        ++delayed;
    }
    auto epoch = [](std::chrono::system_clock::time_point t) {
      return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
    };
    std::map<std::string, std::string> all = {
        {"QueueArn", state_.queue_arn(q.name)},
        {"ApproximateNumberOfMessages", std::to_string(visible)},
        {"ApproximateNumberOfMessagesNotVisible", std::to_string(in_flight)},
        {"ApproximateNumberOfMessagesDelayed", std::to_string(delayed)},
        {"CreatedTimestamp", epoch(q.created)},
        {"LastModifiedTimestamp", epoch(q.created)},
        {"VisibilityTimeout", std::to_string(q.int_attribute("VisibilityTimeout", 30))},
        {"MaximumMessageSize", std::to_string(q.int_attribute("MaximumMessageSize", 262144))},
        {"MessageRetentionPeriod", std::to_string(q.int_attribute("MessageRetentionPeriod", 345600))},
        {"DelaySeconds", std::to_string(q.int_attribute("DelaySeconds", 0))},
        {"ReceiveMessageWaitTimeSeconds", std::to_string(q.int_attribute("ReceiveMessageWaitTimeSeconds", 0))},
        {"SqsManagedSseEnabled", "true"}};
    nlohmann::json attrs = nlohmann::json::object();
    for (const auto& n : in.list("AttributeNames", "AttributeName")) {
      if (n == "All") {
        for (const auto& [k, v] : all) attrs[k] = v;
      } else if (auto it = all.find(n); it != all.end()) {
        attrs[n] = it->second;
      } else if (!q.attributes.contains(n)) {
        return SqsError{400, "InvalidAttributeName", "Unknown Attribute " + n + "."};
      } else {
        attrs[n] = q.attributes.at(n);
      }
    }
    if (attrs.empty()) return nlohmann::json::object();
    return nlohmann::json{{"Attributes", attrs}};
  }

  Outcome send_message(Call& c, const Input& in) {
    auto qv = queue(c, in);
    if (auto* e = std::get_if<SqsError>(&qv)) return *e;
    SqsQueue& q = *std::get<SqsQueue*>(qv);
    auto body = in.str("MessageBody");
    if (!body) return missing("MessageBody");
    if (body->empty())
      return SqsError{400, "InvalidParameterValue",
                      "The request must contain a non-empty message body. Reason: Message body is empty."};
    if (static_cast<int>(body->size()) > q.int_attribute("MaximumMessageSize", 262144))
      return SqsError{400, "InvalidParameterValue",
                      "One or more parameters are invalid. Reason: Message must be shorter than " +
                          std::to_string(q.int_attribute("MaximumMessageSize", 262144)) + " bytes."};
    auto delay = in.integer("DelaySeconds", 0, 900, "Must be >= 0 and <= 900, if provided.");
    if (!delay) return SqsError{400, delay.error().code, delay.error().message};
    std::string id = state_.send_message(q, *body, delay->value_or(q.int_attribute("DelaySeconds", 0)));
    return nlohmann::json{{"MD5OfMessageBody", md5_hex(*body)}, {"MessageId", id}};
  }

  Outcome receive_message(Call& c, const Input& in) {
    auto qv = queue(c, in);
    if (auto* e = std::get_if<SqsError>(&qv)) return *e;
    std::string name = std::get<SqsQueue*>(qv)->name;
    auto max = in.integer("MaxNumberOfMessages", 1, 10, "Must be between 1 and 10, if provided.");
    if (!max) return SqsError{400, max.error().code, max.error().message};
    auto wait = in.integer("WaitTimeSeconds", 0, 20, "Must be >= 0 and <= 20, if provided.");
    if (!wait) return SqsError{400, wait.error().code, wait.error().message};
    auto visibility = in.integer("VisibilityTimeout", 0, 43200, "Must be between 0 and 43200, if provided.");
    if (!visibility) return SqsError{400, visibility.error().code, visibility.error().message};
    std::set<std::string> wanted;
    for (const auto& n : in.list("AttributeNames", "AttributeName")) wanted.insert(n);
    for (const auto& n : in.list("MessageSystemAttributeNames", "MessageSystemAttributeName")) wanted.insert(n);
    auto wants = [&](const std::string& n) { return wanted.contains("All") || wanted.contains(n); };

    SqsQueue* q = std::get<SqsQueue*>(qv);
    int limit = max->value_or(1);
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::seconds(wait->value_or(q->int_attribute("ReceiveMessageWaitTimeSeconds", 0)));
    nlohmann::json messages = nlohmann::json::array();
    // A long poll waits (releasing the state's lock) until a message is visible, the wait ends, or stop().
    for (;;) {
      auto it = state_.queues.find(name);
      if (it == state_.queues.end()) break;  // purged away under us is fine; deleted is not simulated
      q = &it->second;
      auto now = std::chrono::steady_clock::now();
      auto sys_now = std::chrono::system_clock::now();
      int vis = visibility->value_or(q->int_attribute("VisibilityTimeout", 30));
      auto wake = deadline;
      for (auto& m : q->messages) {
        if (static_cast<int>(messages.size()) >= limit) break;
        if (m.visible_at > now) {
          wake = std::min(wake, m.visible_at);
          continue;
        }
        m.received = true;
        ++m.receive_count;
        if (!m.first_received) m.first_received = sys_now;
        m.visible_at = now + std::chrono::seconds(vis);
        std::string handle = "AQEB" + random_hex(state_.rng, 96);
        q->receipts[handle] = m.id;
        nlohmann::json j = {{"MessageId", m.id}, {"ReceiptHandle", handle}, {"MD5OfBody", m.md5}, {"Body", m.body}};
        nlohmann::json attrs = nlohmann::json::object();
        auto ms = [](std::chrono::system_clock::time_point t) {
          return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
        };
        if (wants("SenderId")) attrs["SenderId"] = state_.opt.access_key_id;
        if (wants("SentTimestamp")) attrs["SentTimestamp"] = ms(m.sent);
        if (wants("ApproximateReceiveCount")) attrs["ApproximateReceiveCount"] = std::to_string(m.receive_count);
        if (wants("ApproximateFirstReceiveTimestamp"))
          attrs["ApproximateFirstReceiveTimestamp"] = ms(*m.first_received);
        if (!attrs.empty()) j["Attributes"] = attrs;
        messages.push_back(std::move(j));
      }
      if (!messages.empty() || now >= deadline || state_.stopping) break;
      state_.sqs_cv.wait_until(*c.lock, wake);
    }
    if (messages.empty()) return nlohmann::json::object();
    return nlohmann::json{{"Messages", messages}};
  }

  // Deletes the message a receipt handle names; false when the handle was never given.
  bool delete_by_handle(SqsQueue& q, const std::string& handle) {
    auto r = q.receipts.find(handle);
    if (r == q.receipts.end()) return false;
    std::string id = r->second;
    std::erase_if(q.messages, [&](const SqsMessage& m) { return m.id == id; });
    std::erase_if(q.receipts, [&](const auto& kv) { return kv.second == id; });
    return true;
  }

  static SqsError bad_handle(const std::string& handle) {
    return {400, "ReceiptHandleIsInvalid",
            "The input receipt handle \"" + handle + "\" is not a valid receipt handle."};
  }

  Outcome delete_message(Call& c, const Input& in) {
    auto qv = queue(c, in);
    if (auto* e = std::get_if<SqsError>(&qv)) return *e;
    auto handle = in.str("ReceiptHandle");
    if (!handle) return missing("ReceiptHandle");
    if (!delete_by_handle(*std::get<SqsQueue*>(qv), *handle)) return bad_handle(*handle);
    return nlohmann::json::object();
  }

  Outcome delete_message_batch(Call& c, const Input& in) {
    auto qv = queue(c, in);
    if (auto* e = std::get_if<SqsError>(&qv)) return *e;
    SqsQueue& q = *std::get<SqsQueue*>(qv);
    auto entries = in.entries("Entries", "DeleteMessageBatchRequestEntry", {"Id", "ReceiptHandle"});
    if (entries.empty())
      return SqsError{400, "AWS.SimpleQueueService.EmptyBatchRequest",
                      "There should be at least one DeleteMessageBatchRequestEntry in the request."};
    if (entries.size() > 10)
      return SqsError{
          400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
          "Maximum number of entries per request are 10. You have sent " + std::to_string(entries.size()) + "."};
    static const std::regex id_re("[A-Za-z0-9_-]{1,80}");
    std::set<std::string> ids;
    for (auto& e : entries) {
      if (!std::regex_match(e["Id"], id_re))
        return SqsError{400, "AWS.SimpleQueueService.InvalidBatchEntryId",
                        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can "
                        "be at most 80 letters long."};
      if (!ids.insert(e["Id"]).second)
        return SqsError{400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id " + e["Id"] + " repeated."};
    }
    nlohmann::json ok = nlohmann::json::array(), failed = nlohmann::json::array();
    for (auto& e : entries) {
      if (delete_by_handle(q, e["ReceiptHandle"])) {
        ok.push_back({{"Id", e["Id"]}});
      } else {
        failed.push_back({{"Id", e["Id"]},
                          {"SenderFault", true},
                          {"Code", "ReceiptHandleIsInvalid"},
                          {"Message", bad_handle(e["ReceiptHandle"]).message}});
      }
    }
    return nlohmann::json{{"Successful", ok}, {"Failed", failed}};
  }

  Outcome change_message_visibility(Call& c, const Input& in) {
    auto qv = queue(c, in);
    if (auto* e = std::get_if<SqsError>(&qv)) return *e;
    SqsQueue& q = *std::get<SqsQueue*>(qv);
    auto handle = in.str("ReceiptHandle");
    if (!handle) return missing("ReceiptHandle");
    auto vis = in.integer("VisibilityTimeout", 0, 43200, "Must be between 0 and 43200, if provided.");
    if (!vis) return SqsError{400, vis.error().code, vis.error().message};
    if (!*vis) return missing("VisibilityTimeout");
    auto r = q.receipts.find(*handle);
    if (r == q.receipts.end()) return bad_handle(*handle);
    auto now = std::chrono::steady_clock::now();
    auto m = std::find_if(q.messages.begin(), q.messages.end(), [&](const SqsMessage& x) { return x.id == r->second; });
    if (m == q.messages.end() || !m->received || m->visible_at <= now)
      return SqsError{400, "AWS.SimpleQueueService.MessageNotInflight",
                      "Value " + *handle +
                          " for parameter ReceiptHandle is invalid. Reason: Message does not exist or "
                          "is not available for visibility timeout change."};
    m->visible_at = now + std::chrono::seconds(**vis);
    state_.sqs_cv.notify_all();
    return nlohmann::json::object();
  }

  Outcome purge_queue(Call& c, const Input& in) {
    auto qv = queue(c, in);
    if (auto* e = std::get_if<SqsError>(&qv)) return *e;
    SqsQueue& q = *std::get<SqsQueue*>(qv);
    auto now = std::chrono::steady_clock::now();
    if (q.last_purge && now - *q.last_purge < std::chrono::seconds(60))
      return SqsError{403, "AWS.SimpleQueueService.PurgeQueueInProgress",
                      "Only one PurgeQueue operation on " + q.name + " is allowed every 60 seconds."};
    q.last_purge = now;
    q.messages.clear();
    q.receipts.clear();
    return nlohmann::json::object();
  }
};

}  // namespace

std::unique_ptr<Service> make_sqs_api(SimState& state) { return std::make_unique<SqsApi>(state); }

}  // namespace hasg::sim
