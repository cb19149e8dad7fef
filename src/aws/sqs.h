// The SQS calls the events listener makes, over SQS's JSON protocol (AmazonSQS.<Operation>, the queue named by
// "QueueUrl" in the body, sent to the service endpoint)
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html,
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessageBatch.html).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "aws/json_client.h"
#include "util/result.h"

namespace hasg::aws {

inline constexpr const char* kSqsVersion = "2012-11-05";
inline constexpr const char* kSqsTargetPrefix = "AmazonSQS";
// SQS's JSON protocol as the SDKs speak it (botocore's sqs/2012-11-05: json 1.0, awsQueryCompatible).
inline JsonProtocol sqs_protocol() { return JsonProtocol{kSqsTargetPrefix, "1.0", true}; }

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  bool operator==(const SqsMessage&) const = default;
};

// Decodes a ReceiveMessage answer ({"Messages":[...]}, or {} when the poll found nothing). A message without
// MessageId or ReceiptHandle, or a field of the wrong type, is a "MalformedResponse" error.
Result<std::vector<SqsMessage>> parse_receive_messages(const nlohmann::json& answer);

// One ReceiveMessage: up to `max_messages` (1-10), long-polling up to `wait_seconds` (0-20) when the queue is
// empty; `visibility_timeout_s` overrides the queue's for the messages received. The client's request timeout
// must exceed `wait_seconds` (else every quiet poll would time out): an "InvalidArgument" error otherwise, as for
// out-of-range values.
Result<std::vector<SqsMessage>> receive_messages(JsonClient& client, const std::string& queue_url,
                                                 int max_messages = 10, int wait_seconds = 20,
                                                 std::optional<int> visibility_timeout_s = std::nullopt);

struct SqsDeleteFailure {
  std::string receipt_handle;
  std::string code;     // e.g. "ReceiptHandleIsInvalid"
  std::string message;
  bool sender_fault = false;
  bool operator==(const SqsDeleteFailure&) const = default;
};

struct SqsDeleteResult {
  size_t deleted = 0;
  std::vector<SqsDeleteFailure> failed;  // per entry, in the order given
};

// Deletes the messages with these receipt handles, in DeleteMessageBatch calls of at most 10 entries (SQS's
// limit). Entries that failed are reported one by one; an entry SQS answered about neither way counts as failed
// ("MissingResult"). An Error only when a whole call failed (earlier batches may have been deleted: deleting again
// is harmless).
Result<SqsDeleteResult> delete_message_batch(JsonClient& client, const std::string& queue_url,
                                             const std::vector<std::string>& receipt_handles);

}  // namespace hasg::aws
