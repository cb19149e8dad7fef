// A small signed client for the simulator's AWS APIs in unit tests: Query calls (form POST, XML answer) and SQS's
// JSON 1.0 protocol, signed with SigV4 like any SDK. One client per thread (it keeps one curl handle).
#pragma once

#include <chrono>
#include <optional>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <string>
#include <utility>
#include <vector>

#include "aws/http.h"
#include "aws/sigv4.h"
#include "sim/simulator.h"
#include "util/strings.h"

namespace hasg::sim::test {

class SimClient {
 public:
  explicit SimClient(const Simulator& sim) : sim_(sim), http_(aws::make_curl_http_client()) {}

  // A Query API call: Action=ACTION&Version=VERSION&params..., signed for `service`.
  aws::HttpResponse query(const std::string& service, const std::string& action,
                          const std::vector<std::pair<std::string, std::string>>& params,
                          const std::string& version = "2011-01-01") {
    std::string body = "Action=" + action + "&Version=" + version;
    for (const auto& [k, v] : params) body += "&" + uri_encode(k) + "=" + uri_encode(v);
    return send(service, {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, body,
                std::chrono::seconds(10));
  }

  // An SQS call in the JSON 1.0 protocol.
  aws::HttpResponse sqs(const std::string& action, const nlohmann::json& input,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return send("sqs", {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", "AmazonSQS." + action}},
                input.dump(), timeout);
  }

  static nlohmann::json json(const aws::HttpResponse& r) { return nlohmann::json::parse(r.body, nullptr, false); }

 private:
  aws::HttpResponse send(const std::string& service, aws::Headers headers, const std::string& body,
                         std::chrono::milliseconds timeout) {
    std::string host = "127.0.0.1:" + std::to_string(sim_.port());
    headers.emplace_back("Host", host);
    aws::SignableRequest sr{"POST", "/", "", headers, body};
    aws::Credentials creds{sim_.options().access_key_id, sim_.options().secret_access_key, "", std::nullopt, "test"};
    aws::HttpRequest req;
    req.method = "POST";
    req.url = sim_.url() + "/";
    aws::SigningParams sp;
    sp.region = sim_.options().region;
    sp.service = service;
    sp.time = std::chrono::system_clock::now();
    req.headers = aws::signed_headers(sr, creds, sp);
    req.body = body;
    req.timeout = timeout;
    auto r = http_->send(req);
    if (!r) return aws::HttpResponse{-1, {}, r.error().message};
    return *r;
  }

  const Simulator& sim_;
  std::unique_ptr<aws::HttpClient> http_;
};

// The text of the first element named `name` anywhere in an XML document ("" when absent).
inline std::string xml_text(const std::string& xml, const std::string& name) {
  pugi::xml_document doc;
  if (!doc.load_string(xml.c_str())) return "";
  auto n = doc.select_node(("//" + name).c_str());
  return n ? n.node().text().get() : "";
}

// An instance of the simulator by id (terminated ones are gone), and its lifecycle state ("gone" when gone).
inline std::optional<SimInstance> find_instance(const Simulator& sim, const std::string& id) {
  for (const auto& i : sim.instances())
    if (i.id == id) return i;
  return std::nullopt;
}

inline std::string lifecycle_of(const Simulator& sim, const std::string& id) {
  auto i = find_instance(sim, id);
  return i ? i->lifecycle : "gone";
}

}  // namespace hasg::sim::test
