// The Auto Scaling provider on top of an AWS context: what the daemon and the CLI hold to discover groups. The
// provider uses the context's discovery clients only; the daemon reaches the other uses' clients through aws().
#pragma once

#include <memory>

#include "aws/context.h"
#include "discovery/asg_provider.h"

namespace hasg::discovery {

class AwsDiscovery {
 public:
  // aws::AwsContext::from_environment, then the provider on its discovery clients.
  static Result<std::unique_ptr<AwsDiscovery>> from_environment(std::unique_ptr<aws::Environment> env,
                                                                aws::ContextOptions options = {});
  explicit AwsDiscovery(std::unique_ptr<aws::AwsContext> aws);

  AsgProvider& provider() { return provider_; }
  aws::ApiStats& stats() { return aws_->stats(); }
  const std::string& region() const { return aws_->region(); }
  aws::AwsContext& aws() { return *aws_; }

 private:
  std::unique_ptr<aws::AwsContext> aws_;
  AsgProvider provider_;
};

}  // namespace hasg::discovery
