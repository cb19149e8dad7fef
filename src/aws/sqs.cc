#include "aws/sqs.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace hasg::aws {

namespace {

Error malformed(const std::string& operation, const std::string& what) {
  return make_error("MalformedResponse", "malformed SQS " + operation + " answer: " + what, false);
}

Error invalid(const std::string& what) { return make_error("InvalidArgument", what, false); }

// A string member, "" when absent; nullopt when present with another type.
std::optional<std::string> string_member(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

Result<std::vector<SqsMessage>> parse_receive_messages(const nlohmann::json& answer) {
  if (!answer.is_object()) return malformed("ReceiveMessage", "not a JSON object");
  std::vector<SqsMessage> out;
  auto it = answer.find("Messages");
  if (it == answer.end() || it->is_null()) return out;
  if (!it->is_array()) return malformed("ReceiveMessage", "Messages is not a list");
  for (const auto& m : *it) {
    if (!m.is_object()) return malformed("ReceiveMessage", "a message is not an object");
    auto id = string_member(m, "MessageId"), handle = string_member(m, "ReceiptHandle"),
         body = string_member(m, "Body");
    if (!id || !handle || !body) return malformed("ReceiveMessage", "a message field is not a string");
    if (id->empty() || handle->empty())
      return malformed("ReceiveMessage", "a message without MessageId or ReceiptHandle");
    out.push_back(SqsMessage{std::move(*id), std::move(*handle), std::move(*body)});
  }
  return out;
}

Result<std::vector<SqsMessage>> receive_messages(JsonClient& client, const std::string& queue_url, int max_messages,
                                                 int wait_seconds, std::optional<int> visibility_timeout_s) {
  if (queue_url.empty()) return invalid("SQS ReceiveMessage: no queue URL");
  if (max_messages < 1 || max_messages > 10)
    return invalid("SQS ReceiveMessage: MaxNumberOfMessages must be 1 to 10, not " + std::to_string(max_messages));
  if (wait_seconds < 0 || wait_seconds > 20)
    return invalid("SQS ReceiveMessage: WaitTimeSeconds must be 0 to 20, not " + std::to_string(wait_seconds));
  if (visibility_timeout_s && (*visibility_timeout_s < 0 || *visibility_timeout_s > 43200))
    return invalid("SQS ReceiveMessage: VisibilityTimeout must be 0 to 43200 s, not " +
                   std::to_string(*visibility_timeout_s));
  if (client.retry().request_timeout <= std::chrono::seconds(wait_seconds))
    return invalid("SQS ReceiveMessage: the client's request timeout (" +
                   std::to_string(client.retry().request_timeout.count()) +
                   " ms) must exceed the long poll's WaitTimeSeconds (" + std::to_string(wait_seconds) + " s)");
  nlohmann::json input = {
      {"QueueUrl", queue_url}, {"MaxNumberOfMessages", max_messages}, {"WaitTimeSeconds", wait_seconds}};
  if (visibility_timeout_s) input["VisibilityTimeout"] = *visibility_timeout_s;
  auto answer = client.call("ReceiveMessage", input);
  if (!answer) return answer.error();
  return parse_receive_messages(*answer);
}

Result<SqsDeleteResult> delete_message_batch(JsonClient& client, const std::string& queue_url,
                                             const std::vector<std::string>& receipt_handles) {
  constexpr size_t kMaxEntries = 10;
  SqsDeleteResult result;
  std::vector<std::pair<size_t, SqsDeleteFailure>> failed;  // by position in receipt_handles
  if (receipt_handles.empty()) return result;
  if (queue_url.empty()) return invalid("SQS DeleteMessageBatch: no queue URL");
  for (size_t start = 0; start < receipt_handles.size(); start += kMaxEntries) {
    const size_t end = std::min(receipt_handles.size(), start + kMaxEntries);
    // Entry ids are the handles' positions in the caller's list: unique in the batch, and [0-9] only.
    nlohmann::json entries = nlohmann::json::array();
    for (size_t i = start; i < end; ++i)
      entries.push_back({{"Id", std::to_string(i)}, {"ReceiptHandle", receipt_handles[i]}});
    auto answer = client.call("DeleteMessageBatch", {{"QueueUrl", queue_url}, {"Entries", entries}});
    if (!answer) return answer.error();

    std::map<size_t, bool> seen;  // index -> answered
    auto index_of = [&](const nlohmann::json& entry) -> std::optional<size_t> {
      if (!entry.is_object()) return std::nullopt;
      auto id = string_member(entry, "Id");
      if (!id || id->empty() || id->size() > 9) return std::nullopt;
      size_t i = 0;
      for (char c : *id) {
        if (c < '0' || c > '9') return std::nullopt;
        i = i * 10 + static_cast<size_t>(c - '0');
      }
      if (i < start || i >= end) return std::nullopt;
      return i;
    };
    for (const char* list : {"Successful", "Failed"}) {
      auto it = answer->find(list);
      if (it == answer->end() || it->is_null()) continue;
      if (!it->is_array()) return malformed("DeleteMessageBatch", std::string(list) + " is not a list");
      for (const auto& entry : *it) {
        auto i = index_of(entry);
        if (!i) return malformed("DeleteMessageBatch", std::string("an entry of ") + list + " with an unknown Id");
        if (seen.count(*i)) continue;
        seen[*i] = true;
        if (std::string(list) == "Successful") {
          ++result.deleted;
          continue;
        }
        auto code = string_member(entry, "Code"), message = string_member(entry, "Message");
        auto fault = entry.find("SenderFault");
        failed.emplace_back(*i, SqsDeleteFailure{receipt_handles[*i], code.value_or(""), message.value_or(""),
                                                 fault != entry.end() && fault->is_boolean() && fault->get<bool>()});
      }
    }
    for (size_t i = start; i < end; ++i)
      if (!seen.count(i))
        failed.emplace_back(
            i, SqsDeleteFailure{receipt_handles[i], "MissingResult", "SQS answered nothing about this entry", false});
  }
  std::stable_sort(failed.begin(), failed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& entry : failed) result.failed.push_back(std::move(entry.second));
  return result;
}

}  // namespace hasg::aws
