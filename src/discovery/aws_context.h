// Everything needed to talk to AWS, set up from the environment the way the SDKs do: credentials chain, region,
// endpoints, one Query client per service, and the Auto Scaling provider on top.
#pragma once

#include <memory>

#include "aws/credentials.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/imds.h"
#include "aws/query_client.h"
#include "discovery/asg_provider.h"

namespace hasg::discovery {

class AwsContext {
 public:
  // Resolves region and endpoints now (so a misconfiguration is reported at start); credentials are fetched on
  // the first call.
  // The context keeps `env` (the credential chain reads it again when it refreshes).
  static Result<std::unique_ptr<AwsContext>> from_environment(std::unique_ptr<aws::Environment> env,
                                                              aws::RetryPolicy retry = {});

  AsgProvider& provider() { return *provider_; }
  aws::QueryClient& autoscaling() { return *autoscaling_; }
  aws::QueryClient& ec2() { return *ec2_; }
  aws::ApiStats& stats() { return stats_; }
  const std::string& region() const { return region_; }

 private:
  AwsContext() = default;
  std::unique_ptr<aws::Environment> env_;
  std::unique_ptr<aws::HttpClient> http_;       // AWS APIs
  std::unique_ptr<aws::HttpClient> imds_http_;  // IMDS (its own connection, its own short timeouts)
  std::unique_ptr<aws::ImdsClient> imds_;
  std::unique_ptr<aws::CredentialsProvider> credentials_;
  std::string region_;
  aws::ApiStats stats_;
  std::unique_ptr<aws::QueryClient> autoscaling_;
  std::unique_ptr<aws::QueryClient> ec2_;
  std::unique_ptr<AsgProvider> provider_;
};

}  // namespace hasg::discovery
