// The simulator's wire helpers, shared by every simulated service: form (Query protocol) parameters, XML output,
// timestamps, request ids, and AWS's error documents.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pugi {
class xml_document;
}

namespace hasg::sim {

using Params = std::multimap<std::string, std::string>;

// One AWS answer: status, body and its content type.
struct Answer {
  Answer() = default;
  Answer(int s, std::string b, std::string type = "text/xml")
      : status(s), body(std::move(b)), content_type(std::move(type)) {}
  int status = 200;
  std::string body;
  std::string content_type = "text/xml";
  std::vector<std::pair<std::string, std::string>> headers;  // beside x-amzn-RequestId
};

std::string xml_string(const pugi::xml_document& doc);
std::string iso8601(std::chrono::system_clock::time_point t);     // 2026-12-01T13:00:00Z
std::string iso8601_ms(std::chrono::system_clock::time_point t);  // 2026-12-01T13:00:00.123Z
std::string md5_hex(std::string_view data);

// application/x-www-form-urlencoded -> parameters.
Params parse_form(std::string_view text);
std::string param(const Params& p, const std::string& key);  // "" when absent
// "Prefix.1", "Prefix.2", ... in index order (the Query protocol's list encoding).
std::vector<std::string> list_param(const Params& p, const std::string& prefix);
bool parse_offset(std::string_view s, size_t& out);

std::string random_hex(std::mt19937_64& rng, size_t n);
// A request id like AWS's (a random UUID); thread-safe.
std::string request_id();

// The Query protocol's error document, as Auto Scaling (and SQS) answer it: <ErrorResponse xmlns=NS><Error>
// <Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/></ErrorResponse>.
Answer query_error(const char* xmlns, int status, const std::string& code, const std::string& message);
// EC2's error document: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
Answer ec2_error(int status, const std::string& code, const std::string& message);
// The mix some AWS-compatible endpoints answer: <ErrorResponse><Errors><Error><Code/><Message/></Error></Errors>
// <RequestId/></ErrorResponse> (a fault kind: AWS itself never sends it).
Answer mixed_error(int status, const std::string& code, const std::string& message);

}  // namespace hasg::sim
