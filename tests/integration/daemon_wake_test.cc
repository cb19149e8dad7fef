// The daemon's one wake-up seam, in process: an event source's wake runs a cycle at once instead of at the next
// interval, a burst of wakes coalesces, and the daemon starts and stops its sources with itself.
#include <atomic>
#include <thread>

#include "config/config.h"
#include "daemon/daemon.h"
#include "sync_rig.h"

namespace hasg::test {
namespace {

class CountingObserver : public daemon::CycleObserver {
 public:
  void cycle_ended(const daemon::CycleEnd& end) override { (end.report != nullptr ? ok : failed)++; }
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
};

class ManualSource : public daemon::EventSource {
 public:
  const char* name() const override { return "manual"; }
  Status start(daemon::WakeFn wake) override {
    wake_ = std::move(wake);
    started = true;
    return Ok{};
  }
  void stop() override { stopped = true; }
  void wake(const std::string& why) { wake_(why); }
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};

 private:
  daemon::WakeFn wake_;
};

TEST(DaemonWake, AnEventRunsACycleAtOnceAndBurstsCoalesce) {
  SyncRig rig(48, 2);  // 41-47 are DaemonTest's
  // An hour between timed cycles: any cycle after the first one comes from a wake.
  const std::string yaml = rig.dir().file("haproxy-asg.yaml");
  std::string text = read_file(yaml);
  text.replace(text.find("interval: 1s"), 12, "interval: 1h");
  write_file(yaml, text + "listen: 127.0.0.1:0\n");  // the port is never used here: any free one
  auto cfg = config::load_config(yaml);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : sim_env(rig.sim())) env[k] = v;
  auto aws = discovery::AwsDiscovery::from_environment(std::make_unique<aws::MapEnvironment>(env));
  ASSERT_TRUE(aws.ok()) << aws.error().message;

  daemon::Daemon d(yaml, *cfg, std::move(*aws));
  auto source = std::make_unique<ManualSource>();
  ManualSource* src = source.get();
  auto observer = std::make_unique<CountingObserver>();
  CountingObserver* seen = observer.get();
  d.add_event_source(std::move(source));
  d.add_observer(std::move(observer));
  int rc = -1;
  std::thread loop([&] { rc = d.run(); });

  ASSERT_TRUE(wait_until([&] { return seen->ok.load() == 1; })) << "the first cycle runs at start";
  EXPECT_TRUE(src->started.load());
  src->wake("test event");
  ASSERT_TRUE(wait_until([&] { return seen->ok.load() == 2; }, std::chrono::seconds(5)))
      << "a wake runs a cycle without waiting for the interval";

  // Ten wakes in a row (microseconds each; a cycle takes milliseconds): they coalesce into a cycle or two, not ten.
  for (int i = 0; i < 10; ++i) src->wake("burst " + std::to_string(i));
  ASSERT_TRUE(wait_until([&] { return seen->ok.load() >= 3; }, std::chrono::seconds(5)));
  EXPECT_LE(seen->ok.load(), 6);
  EXPECT_EQ(seen->failed.load(), 0);

  d.stop();
  loop.join();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(src->stopped.load()) << "the daemon stops its sources before it returns";
}

}  // namespace
}  // namespace hasg::test
