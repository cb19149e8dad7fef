// One simulated AWS service: its signing name (the SERVICE of the SigV4 credential scope that routes a request
// to it), its error document, and an action -> handler table. The router (api_router.h) authenticates, counts and
// faults a call, then dispatches it here with the state's mutex held.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/sim_state.h"
#include "sim/wire.h"

namespace hasg::sim {

// The identity IAM messages name (the simulator has one user).
inline constexpr const char* kSimulatorUserArn = "arn:aws:iam::123456789012:user/simulator";

struct Call {
  std::string action;
  Params params;                                 // Query protocol: query string and form body
  nlohmann::json input;                          // JSON protocol (X-Amz-Target): the body object
  bool json = false;                             // which of the two protocols the client speaks
  std::unique_lock<std::mutex>* lock = nullptr;  // SimState::mu, held; a handler may wait on it (long polls)
};

class Service {
 public:
  using Handler = std::function<Answer(Call&)>;

  explicit Service(SimState& state) : state_(state) {}
  virtual ~Service() = default;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // The credential scope's service name: "autoscaling", "ec2", "sqs".
  virtual std::string signing_name() const = 0;
  // The X-Amz-Target prefix of its JSON protocol ("AmazonSQS"), empty when it speaks only the Query protocol.
  virtual std::string json_target_prefix() const { return ""; }
  // Its error document for `call` (Query or JSON protocol).
  virtual Answer error(const Call& call, int status, const std::string& code, const std::string& message) const = 0;
  // What it answers to a bad signature or key (most services name the cause; EC2 says AuthFailure).
  virtual Answer auth_error(const Call& call, int status, const std::string& code, const std::string& message) const {
    return error(call, status, code, message);
  }
  virtual Answer throttled(const Call& call) const = 0;
  // What it answers when IAM does not allow the caller the action. Auto Scaling (and most Query services): HTTP
  // 403, Code AccessDenied, Type Sender, "User: ARN is not authorized to perform: SERVICE:ACTION because no
  // identity-based policy allows the SERVICE:ACTION action".
  virtual Answer access_denied(const Call& call) const {
    const std::string action = signing_name() + ":" + call.action;
    return error(call, 403, "AccessDenied",
                 "User: " + std::string(kSimulatorUserArn) + " is not authorized to perform: " + action +
                     " because no identity-based policy allows the " + action + " action");
  }
  virtual Answer internal_error(const Call& call) const = 0;

  bool has(const std::string& action) const { return handlers_.contains(action); }
  // Runs the action's handler, or answers InvalidAction.
  Answer dispatch(Call& call) {
    auto it = handlers_.find(call.action);
    if (it == handlers_.end())
      return error(call, 400, "InvalidAction", "The action " + call.action + " is not valid for this web service.");
    return it->second(call);
  }

 protected:
  void on(const std::string& action, Handler handler) { handlers_[action] = std::move(handler); }
  SimState& state_;

 private:
  std::map<std::string, Handler> handlers_;
};

// The services, each in its own file.
std::unique_ptr<Service> make_autoscaling_api(SimState& state);  // autoscaling_api.cc
std::unique_ptr<Service> make_ec2_api(SimState& state);          // ec2_api.cc
std::unique_ptr<Service> make_sqs_api(SimState& state);          // sqs_api.cc
std::unique_ptr<Service> make_cloudwatch_api(SimState& state);   // cloudwatch_api.cc

}  // namespace hasg::sim
