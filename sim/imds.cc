#include "sim/imds.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "sim/wire.h"

namespace hasg::sim {

void serve_imds(SimState& state, const httplib::Request& req, httplib::Response& res) {
  std::unique_lock lock(state.mu);
  // Faults injected for "IMDS": slow answers, or 503 (IMDS's answer when overwhelmed) for the other kinds.
  if (auto fault = state.take_fault("IMDS")) {
    if (fault->kind == Fault::Kind::Slow) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
      lock.lock();
    } else {
      res.status = 503;
      return;
    }
  }
  auto now_steady = std::chrono::steady_clock::now();
  if (req.path == "/latest/api/token") {
    if (req.method != "PUT") {
      res.status = 405;
      return;
    }
    int ttl = 0;
    try {
      ttl = std::stoi(req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds"));
    } catch (...) {
    }
    if (ttl < 1 || ttl > 21600) {
      res.status = 400;
      return;
    }
    std::string token = random_hex(state.rng, 40);
    state.imds_tokens[token] = now_steady + std::chrono::seconds(ttl);
    res.set_header("X-aws-ec2-metadata-token-ttl-seconds", std::to_string(ttl));
    res.set_content(token, "text/plain");
    return;
  }
  // IMDSv2 only: a GET without a valid token is 401, as on an instance with HttpTokens=required.
  auto tok = state.imds_tokens.find(req.get_header_value("X-aws-ec2-metadata-token"));
  if (tok == state.imds_tokens.end() || tok->second <= now_steady) {
    res.status = 401;
    return;
  }
  const std::string creds_path = "/latest/meta-data/iam/security-credentials/";
  if (req.path == creds_path) {
    res.set_content(state.opt.imds_role, "text/plain");
  } else if (req.path == creds_path + state.opt.imds_role) {
    auto now = std::chrono::system_clock::now();
    std::string key = "ASIA" + random_hex(state.rng, 16);
    for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    TempCredentials tc{random_hex(state.rng, 40), random_hex(state.rng, 64), now + state.opt.imds_credentials_lifetime};
    state.temp_credentials[key] = tc;
    nlohmann::json j = {{"Code", "Success"},
                        {"LastUpdated", iso8601(now)},
                        {"Type", "AWS-HMAC"},
                        {"AccessKeyId", key},
                        {"SecretAccessKey", tc.secret},
                        {"Token", tc.token},
                        {"Expiration", iso8601(tc.expires)}};
    res.set_content(j.dump(2), "text/plain");
  } else if (req.path == "/latest/meta-data/placement/region") {
    res.set_content(state.opt.region, "text/plain");
  } else if (req.path == "/latest/meta-data/placement/availability-zone") {
    res.set_content(state.opt.zones.front(), "text/plain");
  } else if (req.path == "/latest/meta-data/instance-id") {
    res.set_content(state.opt.imds_instance_id, "text/plain");
  } else {
    res.status = 404;
  }
}

}  // namespace hasg::sim
