// AWS's Query-protocol answers (XML): DescribeAutoScalingGroups, DescribeLifecycleHooks, DescribeInstances (members
// and metadata options), DescribeTags, and the error document every Query service answers with.
#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "aws/query_client.h"
#include "fuzz_check.h"

using namespace hasg;

// The first byte picks the decoder (its digit, '0' to '4', in the seed files): one XML parse per execution instead of
// five, so the 10 million executions are reached five times sooner; the rest is the answer.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string xml = fuzz::input(data + 1, size - 1);
  switch (static_cast<uint8_t>(data[0] - '0') % 5) {
    case 0:
      if (auto groups = aws::parse_describe_auto_scaling_groups(xml); !groups)
        FUZZ_CHECK(!groups.error().message.empty());
      break;
    case 1:
      if (auto hooks = aws::parse_describe_lifecycle_hooks(xml); !hooks) FUZZ_CHECK(!hooks.error().message.empty());
      break;
    case 2:
      if (auto page = aws::parse_describe_instances(xml); page) {
        // Every instance described can be asked for its metadata options.
        for (const auto& i : page->instances) (void)aws::parse_instance_metadata_options(xml, i.instance_id);
      } else {
        FUZZ_CHECK(!page.error().message.empty());
      }
      break;
    case 3:
      if (auto tags = aws::parse_describe_tags(xml); !tags) FUZZ_CHECK(!tags.error().message.empty());
      break;
    default:
      (void)aws::parse_error_body(xml);
      break;
  }
  return 0;
}
