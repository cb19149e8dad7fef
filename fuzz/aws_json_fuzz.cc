// AWS's JSON answers: IMDS's instance-profile credentials, SQS ReceiveMessage answers, JSON-protocol error
// documents (body and x-amzn-query-error header), and the ISO 8601 timestamps they carry.
#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/imds.h"
#include "aws/json_client.h"
#include "aws/sqs.h"
#include "fuzz_check.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body = fuzz::input(data, size);

  if (auto c = aws::parse_instance_credentials(body, "role"); c) {
    FUZZ_CHECK(!c->access_key_id.empty() && !c->secret_access_key.empty() && !c->session_token.empty());
    FUZZ_CHECK(c->expiration.has_value());
  }

  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded()) {
    if (auto messages = aws::parse_receive_messages(doc); messages)
      for (const auto& m : *messages) FUZZ_CHECK(!m.message_id.empty() && !m.receipt_handle.empty());
  }

  aws::HttpResponse response;
  response.status = 400;
  response.body = body;
  (void)aws::parse_json_error(response);
  response.headers = {{"x-amzn-query-error", body}};
  (void)aws::parse_json_error(response);

  (void)aws::parse_iso8601_utc(body);
  return 0;
}
