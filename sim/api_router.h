// Routes an AWS API request (POST or GET on "/") to its service: the one named by the SigV4 credential scope
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request), checks the signature, counts the call, applies injected
// faults, and answers with the service's own documents.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "sim/service.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace hasg::sim {

class ApiRouter {
 public:
  explicit ApiRouter(SimState& state) : state_(state) {}
  // The first service added also answers requests that name no known service.
  void add(std::unique_ptr<Service> service) { services_.push_back(std::move(service)); }
  void handle(const httplib::Request& req, httplib::Response& res);

 private:
  Service* by_signing_name(const std::string& name) const;
  // Without a credential scope (unsigned requests), the service whose JSON target prefix or action table matches,
  // for the error's shape.
  Service* guess(const Call& call, const std::string& target) const;
  std::optional<Answer> authenticate(const httplib::Request& req, const Service& service, const Call& call);

  SimState& state_;
  std::vector<std::unique_ptr<Service>> services_;
};

}  // namespace hasg::sim
