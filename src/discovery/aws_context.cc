#include "discovery/aws_context.h"

#include "aws/autoscaling.h"
#include "aws/clock.h"
#include "aws/ec2.h"
#include "aws/endpoints.h"

namespace hasg::discovery {

Result<std::unique_ptr<AwsContext>> AwsContext::from_environment(std::unique_ptr<aws::Environment> env_owned,
                                                                 aws::RetryPolicy retry) {
  std::unique_ptr<AwsContext> ctx(new AwsContext());
  ctx->env_ = std::move(env_owned);
  const aws::Environment& env = *ctx->env_;
  ctx->http_ = aws::make_curl_http_client();
  ctx->imds_http_ = aws::make_curl_http_client();
  if (auto endpoint = aws::ImdsClient::endpoint_from(env))
    ctx->imds_ = std::make_unique<aws::ImdsClient>(*ctx->imds_http_, *endpoint, aws::system_clock());
  auto region = aws::resolve_region(env, ctx->imds_.get());
  if (!region) return region.error();
  ctx->region_ = *region;
  auto asg_url = aws::resolve_endpoint(env, "AUTO_SCALING", "autoscaling", ctx->region_);
  if (!asg_url) return asg_url.error();
  auto ec2_url = aws::resolve_endpoint(env, "EC2", "ec2", ctx->region_);
  if (!ec2_url) return ec2_url.error();
  ctx->credentials_ = std::make_unique<aws::ChainCredentialsProvider>(env, *ctx->imds_http_, aws::system_clock());
  ctx->autoscaling_ = std::make_unique<aws::QueryClient>(
      *ctx->http_, *ctx->credentials_, aws::system_clock(),
      aws::ServiceEndpoint{*asg_url, ctx->region_, "autoscaling", aws::kAutoScalingVersion, "Auto Scaling"}, retry,
      &ctx->stats_);
  ctx->ec2_ = std::make_unique<aws::QueryClient>(
      *ctx->http_, *ctx->credentials_, aws::system_clock(),
      aws::ServiceEndpoint{*ec2_url, ctx->region_, "ec2", aws::kEc2Version, "EC2"}, retry, &ctx->stats_);
  ctx->provider_ = std::make_unique<AsgProvider>(*ctx->autoscaling_, *ctx->ec2_);
  return ctx;
}

}  // namespace hasg::discovery
