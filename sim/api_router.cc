#include "sim/api_router.h"

#include <httplib.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "aws/sigv4.h"

namespace hasg::sim {

Service* ApiRouter::by_signing_name(const std::string& name) const {
  for (const auto& s : services_)
    if (s->signing_name() == name) return s.get();
  return nullptr;
}

Service* ApiRouter::guess(const Call& call, const std::string& target) const {
  for (const auto& s : services_)
    if (call.json ? !s->json_target_prefix().empty() && target.starts_with(s->json_target_prefix() + ".")
                  : s->has(call.action))
      return s.get();
  return services_.front().get();
}

// Checks the signature and the key. Returns an error answer, or nullopt when the request may proceed.
std::optional<Answer> ApiRouter::authenticate(const httplib::Request& req, const Service& service, const Call& call) {
  aws::SignableRequest sr;
  sr.method = req.method;
  auto q = req.target.find('?');
  sr.path = req.target.substr(0, q);
  sr.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  for (const auto& [k, v] : req.headers) sr.headers.emplace_back(k, v);
  sr.body = req.body;
  auto now = std::chrono::system_clock::now();
  auto verified = aws::verify(
      sr,
      [&](const std::string& key) -> std::optional<std::string> {
        if (key == state_.opt.access_key_id) return state_.opt.secret_access_key;
        auto it = state_.temp_credentials.find(key);
        if (it != state_.temp_credentials.end()) return it->second.secret;
        return std::nullopt;
      },
      now);
  if (!verified) {
    const auto& e = verified.error();
    int status = e.code == "IncompleteSignature" ? 400 : 403;
    return service.auth_error(call, status, e.code, e.message);
  }
  if (auto it = state_.temp_credentials.find(verified->access_key_id); it != state_.temp_credentials.end()) {
    std::string token = req.get_header_value("X-Amz-Security-Token");
    if (token != it->second.token)
      return service.error(call, 403, "InvalidClientTokenId", "The security token included in the request is invalid.");
    if (now >= it->second.expires)
      return service.error(call, 403, "ExpiredToken", "The security token included in the request is expired");
  }
  return std::nullopt;
}

void ApiRouter::handle(const httplib::Request& req, httplib::Response& res) {
  Call call;
  auto qpos = req.target.find('?');
  call.params =
      parse_form(qpos == std::string::npos ? std::string_view() : std::string_view(req.target).substr(qpos + 1));
  std::string target = req.get_header_value("X-Amz-Target");
  if (req.method == "POST" && !target.empty()) {
    // The JSON protocol: X-Amz-Target: Prefix.Action, the input a JSON object.
    call.json = true;
    auto dot = target.rfind('.');
    call.action = dot == std::string::npos ? target : target.substr(dot + 1);
    call.input = req.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(req.body, nullptr, false);
  } else {
    if (req.method == "POST") {
      auto form = parse_form(req.body);
      call.params.insert(form.begin(), form.end());
    }
    call.action = param(call.params, "Action");
    // Query clients may post to the queue's URL (/ACCOUNT/NAME) instead of naming it in QueueUrl.
    if (req.path != "/" && !call.params.contains("QueueUrl"))
      call.params.emplace("QueueUrl", "http://" + req.get_header_value("Host") + req.path);
  }

  Service* service = nullptr;
  bool known_service = true;
  if (auto auth = aws::parse_authorization(req.get_header_value("Authorization")); auth) {
    service = by_signing_name(auth->service);
    if (!service) {
      known_service = false;
      service = services_.front().get();
    }
  } else {
    service = guess(call, target);
  }

  Answer answer;
  std::optional<Fault> fault;
  {
    std::unique_lock lock(state_.mu);
    call.lock = &lock;
    if (auto denied = authenticate(req, *service, call)) {
      answer = *denied;
    } else if (call.json && call.input.is_discarded()) {
      answer =
          service->error(call, 400, "SerializationException", "Start of structure or map found where not expected.");
    } else if (call.action.empty()) {
      answer = service->error(call, 400, "MissingAction", "The request must contain the parameter Action");
    } else {
      ++state_.calls[call.action];
      fault = state_.take_fault(call.action, [&](const std::string& name) {
        return call.json ? call.input.is_object() && call.input.contains(name) : call.params.contains(name);
      });
      if (fault && fault->kind == Fault::Kind::MixedErrorShape && !call.json) {
        answer = mixed_error(400, "Throttling", "Rate exceeded");
      } else if (fault && (fault->kind == Fault::Kind::Throttle || fault->kind == Fault::Kind::MixedErrorShape)) {
        answer = service->throttled(call);
      } else if (fault && fault->kind == Fault::Kind::ServerError) {
        answer = service->internal_error(call);
      } else if (fault && fault->kind == Fault::Kind::Deny) {
        answer = service->access_denied(call);
      } else if (!known_service) {
        answer = service->error(call, 400, "InvalidAction",
                                "The action " + call.action + " is not valid for this web service.");
      } else {
        answer = service->dispatch(call);
      }
    }
  }
  if (fault && fault->kind == Fault::Kind::Slow)
    std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
  if (fault && fault->kind == Fault::Kind::Malformed) answer.body = answer.body.substr(0, answer.body.size() / 2);
  res.status = answer.status;
  res.set_header("x-amzn-RequestId", request_id());
  for (const auto& [k, v] : answer.headers) res.set_header(k, v);
  if (fault && fault->kind == Fault::Kind::Truncated) {
    // The whole length announced, half the body sent, then the connection closed: the client sees the answer end
    // early (curl: "transfer closed with N bytes remaining").
    auto body = std::make_shared<std::string>(std::move(answer.body));
    res.set_content_provider(body->size(), answer.content_type,
                             [body](size_t offset, size_t length, httplib::DataSink& sink) {
                               size_t half = body->size() / 2;
                               if (offset >= half) return false;
                               sink.write(body->data() + offset, std::min(length, half - offset));
                               return true;
                             });
    return;
  }
  res.set_content(answer.body, answer.content_type);
}

}  // namespace hasg::sim
