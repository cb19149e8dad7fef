#include "aws/query_client.h"

#include <pugixml.hpp>

#include <string_view>

#include "util/strings.h"

namespace hasg::aws {

std::pair<std::string, std::string> parse_error_body(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_string(body.c_str())) return {};
  // Auto Scaling (Query): <ErrorResponse><Error><Code/><Message/></Error></ErrorResponse>
  // EC2:                  <Response><Errors><Error><Code/><Message/></Error></Errors></Response>
  // Some AWS-compatible endpoints mix the two (<ErrorResponse><Errors><Error>). botocore's QueryParser reads any
  // root and unwraps an <Errors> level wherever it is (parsers.py, QueryParser._do_error_parse), so the code and
  // message of every mix are AWS's error, never "an unexpected HTTP 400".
  pugi::xml_node root = doc.document_element();
  pugi::xml_node err = root.child("Error");
  if (!err) err = root.child("Errors").child("Error");
  if (!err || std::string_view(err.child_value("Code")).empty()) return {};
  return {err.child_value("Code"), err.child_value("Message")};
}

std::string form_encode(const QueryParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += uri_encode(k);
    out += '=';
    out += uri_encode(v);
  }
  return out;
}

QueryClient::QueryClient(HttpClient& http, CredentialsProvider& credentials, const Clock& clock,
                         ServiceEndpoint endpoint, RetryPolicy retry, ApiStats* stats)
    : caller_(http, credentials, clock, std::move(endpoint), retry, stats) {}

Result<std::string> QueryClient::attempt(const std::string& body,
                                         const std::function<Status(const std::string&)>& decode) {
  auto resp = caller_.post({{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, body);
  if (!resp) return resp.error();
  if (resp->status >= 200 && resp->status < 300) {
    if (decode) {
      if (auto st = decode(resp->body); !st) return st.error();
    }
    return std::move(resp->body);
  }
  auto [code, message] = parse_error_body(resp->body);
  return error_from_response(std::move(code), std::move(message), *resp);
}

Result<std::string> QueryClient::call(const std::string& action, const QueryParams& params,
                                      const std::function<Status(const std::string&)>& decode) {
  QueryParams all = {{"Action", action}, {"Version", endpoint().api_version}};
  all.insert(all.end(), params.begin(), params.end());
  const std::string body = form_encode(all);
  return caller_.call(action, [&] { return attempt(body, decode); });
}

}  // namespace hasg::aws
