// floor_bench: the floor under a steady cycle, measured against the simulator the daemon talks to, so that the
// footprint rows of bench/run.sh can report a cycle's CPU as a multiple of it in the same run.
//
//   floor_bench --config haproxy-asg.yaml [--rounds 20]
//
// With the daemon's AWS environment (AWS_ENDPOINT_URL=... and the simulator's keys), it fetches once the
// DescribeAutoScalingGroups pages a cycle asks for (the configured groups, 50 names and 100 groups a page, as
// aws/autoscaling.cc does), then measures the CPU time of this thread for:
//   xml_parse_ms  parsing those pages (parse_describe_auto_scaling_groups, every page): the floor
//   discovery_ms  the provider's whole discovery as a steady cycle makes it (signing, HTTP on loopback, the answer's
//                 digest; the parse and the members only when the answer changed: in a steady cycle, never)
// each the mean over --rounds. Prints "name value" lines.
#include <CLI/CLI.hpp>

#include <time.h>

#include <cstdio>
#include <string>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/environment.h"
#include "config/config.h"
#include "discovery/aws_discovery.h"

namespace {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  int rounds = 20;
  CLI::App app{"floor_bench: CPU of parsing a steady cycle's DescribeAutoScalingGroups answers (the floor)"};
  app.add_option("--config", config_path, "the daemon's YAML (its groups are asked for)")->required();
  app.add_option("--rounds", rounds, "measured repetitions")->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  auto cfg = hasg::config::load_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "floor_bench: %s\n", cfg.error().message.c_str());
    return 1;
  }
  auto ctx = hasg::discovery::AwsDiscovery::from_environment(std::make_unique<hasg::aws::ProcessEnvironment>());
  if (!ctx) {
    std::fprintf(stderr, "floor_bench: %s\n", ctx.error().message.c_str());
    return 1;
  }
  const std::vector<std::string> names = cfg->groups();
  auto& client = (*ctx)->aws().discovery_autoscaling();

  // The pages, as describe_auto_scaling_groups asks for them.
  std::vector<std::string> pages;
  size_t bytes = 0, instances = 0;
  constexpr size_t kMaxNames = 50;
  for (size_t start = 0; start < names.size(); start += kMaxNames) {
    std::string token;
    do {
      hasg::aws::QueryParams params;
      for (size_t i = start; i < std::min(names.size(), start + kMaxNames); ++i)
        params.emplace_back("AutoScalingGroupNames.member." + std::to_string(i - start + 1), names[i]);
      params.emplace_back("MaxRecords", "100");
      if (!token.empty()) params.emplace_back("NextToken", token);
      auto body = client.call("DescribeAutoScalingGroups", params);
      if (!body) {
        std::fprintf(stderr, "floor_bench: %s\n", body.error().message.c_str());
        return 1;
      }
      auto page = hasg::aws::parse_describe_auto_scaling_groups(*body);
      if (!page) {
        std::fprintf(stderr, "floor_bench: %s\n", page.error().message.c_str());
        return 1;
      }
      for (const auto& g : page->groups) instances += g.instances.size();
      token = page->next_token;
      bytes += body->size();
      pages.push_back(std::move(*body));
    } while (!token.empty());
  }

  size_t parsed = 0;
  double t0 = thread_cpu_ms();
  for (int r = 0; r < rounds; ++r)
    for (const auto& p : pages) parsed += hasg::aws::parse_describe_auto_scaling_groups(p)->groups.size();
  const double parse_ms = (thread_cpu_ms() - t0) / rounds;

  auto& provider = (*ctx)->provider();
  if (auto warm = provider.discover(names); !warm) {  // fills the address cache, as the daemon's first cycle does
    std::fprintf(stderr, "floor_bench: %s\n", warm.error().message.c_str());
    return 1;
  }
  t0 = thread_cpu_ms();
  for (int r = 0; r < rounds; ++r)
    if (!provider.discover(names)) return 1;
  const double discovery_ms = (thread_cpu_ms() - t0) / rounds;

  std::printf("groups %zu\ninstances %zu\npages %zu\nbytes %zu\nxml_parse_ms %.3f\ndiscovery_ms %.3f\n",
              parsed / static_cast<size_t>(rounds), instances, pages.size(), bytes, parse_ms, discovery_ms);
  return 0;
}
