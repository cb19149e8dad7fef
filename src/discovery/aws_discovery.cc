#include "discovery/aws_discovery.h"

namespace hasg::discovery {

AwsDiscovery::AwsDiscovery(std::unique_ptr<aws::AwsContext> aws)
    : aws_(std::move(aws)), provider_(aws_->discovery_autoscaling(), aws_->discovery_ec2()) {}

Result<std::unique_ptr<AwsDiscovery>> AwsDiscovery::from_environment(std::unique_ptr<aws::Environment> env,
                                                                     aws::ContextOptions options) {
  auto ctx = aws::AwsContext::from_environment(std::move(env), std::move(options));
  if (!ctx) return ctx.error();
  return std::make_unique<AwsDiscovery>(std::move(*ctx));
}

}  // namespace hasg::discovery
