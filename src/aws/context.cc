#include "aws/context.h"

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "aws/endpoints.h"
#include "aws/sqs.h"

namespace hasg::aws {

std::string_view to_string(ClientUse use) {
  switch (use) {
    case ClientUse::Discovery: return "discovery";
    case ClientUse::Lifecycle: return "lifecycle";
    case ClientUse::Events: return "events";
    case ClientUse::EventAcks: return "event-acks";
    case ClientUse::Metrics: return "metrics";
    case ClientUse::Imds: return "imds";
  }
  return "?";
}

AwsContext::~AwsContext() = default;

Result<std::unique_ptr<AwsContext>> AwsContext::from_environment(std::unique_ptr<Environment> env_owned,
                                                                 ContextOptions options) {
  std::unique_ptr<AwsContext> ctx(new AwsContext());
  ctx->env_ = std::move(env_owned);
  ctx->clock_ = options.clock ? options.clock : &system_clock();
  ctx->policies_ = options.policies;
  auto make_http = options.make_http ? options.make_http : [](ClientUse) { return make_curl_http_client(); };
  const Environment& env = *ctx->env_;
  const Clock& clock = *ctx->clock_;

  ctx->imds_http_ = make_http(ClientUse::Imds);
  if (auto endpoint = ImdsClient::endpoint_from(env))
    ctx->imds_ = std::make_unique<ImdsClient>(*ctx->imds_http_, *endpoint, clock);
  auto region = resolve_region(env, ctx->imds_.get());
  if (!region) return region.error();
  ctx->region_ = *region;

  // Every endpoint now: a wrong override is reported at start, not when the first event or metric is sent.
  auto endpoint = [&](const char* env_suffix, const char* prefix, const char* version,
                      const char* display) -> Result<ServiceEndpoint> {
    auto url = resolve_endpoint(env, env_suffix, prefix, ctx->region_);
    if (!url) return url.error();
    return ServiceEndpoint{*url, ctx->region_, prefix, version, display};
  };
  auto asg = endpoint("AUTO_SCALING", "autoscaling", kAutoScalingVersion, "Auto Scaling");
  if (!asg) return asg.error();
  auto ec2 = endpoint("EC2", "ec2", kEc2Version, "EC2");
  if (!ec2) return ec2.error();
  auto sqs = endpoint("SQS", "sqs", kSqsVersion, "SQS");
  if (!sqs) return sqs.error();
  // CloudWatch's serviceId is "CloudWatch": AWS_ENDPOINT_URL_CLOUDWATCH; its endpoint prefix is "monitoring".
  auto cloudwatch = endpoint("CLOUDWATCH", "monitoring", kCloudWatchVersion, "CloudWatch");
  if (!cloudwatch) return cloudwatch.error();

  // Credentials are shared by every client: ChainCredentialsProvider::get() is serialised by its own mutex.
  ctx->credentials_ = std::make_unique<ChainCredentialsProvider>(env, *ctx->imds_http_, clock);
  const ClientPolicies& p = ctx->policies_;
  ctx->discovery_http_ = make_http(ClientUse::Discovery);
  ctx->lifecycle_http_ = make_http(ClientUse::Lifecycle);
  ctx->events_http_ = make_http(ClientUse::Events);
  ctx->event_acks_http_ = make_http(ClientUse::EventAcks);
  ctx->metrics_http_ = make_http(ClientUse::Metrics);
  auto query = [&](HttpClient& http, const ServiceEndpoint& e, const RetryPolicy& retry) {
    return std::make_unique<QueryClient>(http, *ctx->credentials_, clock, e, retry, &ctx->stats_);
  };
  ctx->discovery_autoscaling_ = query(*ctx->discovery_http_, *asg, p.discovery);
  ctx->discovery_ec2_ = query(*ctx->discovery_http_, *ec2, p.discovery);
  ctx->lifecycle_ = query(*ctx->lifecycle_http_, *asg, p.lifecycle);
  ctx->cloudwatch_ = query(*ctx->metrics_http_, *cloudwatch, p.metrics);
  ctx->sqs_ = std::make_unique<JsonClient>(*ctx->events_http_, *ctx->credentials_, clock, *sqs, sqs_protocol(),
                                           p.events, &ctx->stats_);
  // Deletions must not wait behind a long poll on the same connection: their own connection, short timeouts.
  ctx->sqs_acks_ = std::make_unique<JsonClient>(*ctx->event_acks_http_, *ctx->credentials_, clock, *sqs,
                                                sqs_protocol(), p.lifecycle, &ctx->stats_);
  return ctx;
}

Result<std::string> AwsContext::instance_id() {
  if (imds_ == nullptr) return make_error("ImdsDisabled", "IMDS is disabled (AWS_EC2_METADATA_DISABLED)", false);
  return imds_->get("meta-data/instance-id");
}

}  // namespace hasg::aws
