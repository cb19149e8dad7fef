#include "aws/json_client.h"

#include "util/strings.h"

namespace hasg::aws {

std::pair<std::string, std::string> parse_json_error(const HttpResponse& response) {
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  std::string code, message;
  if (body.is_object()) {
    auto text = [&](const char* key) {
      auto it = body.find(key);
      return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    message = text("message");
    if (message.empty()) message = text("Message");
    code = text("__type");
    // "com.amazonaws.sqs#QueueDoesNotExist", or "Code:http://internal.amazon.com/..." in older services.
    if (auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
    if (auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
  }
  // "AWS.SimpleQueueService.NonExistentQueue;Sender": the code the Query protocol gave, which is what the SDKs
  // report and what the documentation lists.
  std::string query_error = response.header("x-amzn-query-error");
  if (auto semi = query_error.find(';'); semi != std::string::npos && semi > 0)
    code = std::string(trim(std::string_view(query_error).substr(0, semi)));
  if (code.empty()) message.clear();
  return {code, message};
}

JsonClient::JsonClient(HttpClient& http, CredentialsProvider& credentials, const Clock& clock, ServiceEndpoint endpoint,
                       JsonProtocol protocol, RetryPolicy retry, ApiStats* stats)
    : caller_(http, credentials, clock, std::move(endpoint), retry, stats), protocol_(std::move(protocol)) {}

Result<nlohmann::json> JsonClient::call(const std::string& operation, const nlohmann::json& input) {
  // Invalid UTF-8 in a string is replaced rather than thrown about: the caller's values are ids and URLs.
  const std::string body =
      input.is_null() ? std::string("{}") : input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Headers headers = {{"Content-Type", "application/x-amz-json-" + protocol_.json_version},
                     {"X-Amz-Target", protocol_.target_prefix + "." + operation}};
  if (protocol_.query_compatible) headers.emplace_back("x-amzn-query-mode", "true");
  // Decoded inside the call: a malformed answer is a failed call for the statistics and their listener.
  nlohmann::json parsed = nlohmann::json::object();
  auto answer = caller_.call(operation, [&]() -> Result<std::string> {
    auto resp = caller_.post(headers, body);
    if (!resp) return resp.error();
    if (resp->status >= 200 && resp->status < 300) {
      if (trim(resp->body).empty()) {
        parsed = nlohmann::json::object();
        return std::string();
      }
      parsed = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded() || !parsed.is_object())
        return make_error("MalformedResponse", endpoint().display_name + " " + operation +
                                                   ": the answer is not a JSON object: " + resp->body.substr(0, 200));
      return std::string();
    }
    auto [code, message] = parse_json_error(*resp);
    return error_from_response(std::move(code), std::move(message), *resp);
  });
  if (!answer) return answer.error();
  return parsed;
}

}  // namespace hasg::aws
