// The YAML loader: the documented example parses to the documented values, and every mistake is reported as
// "FILE:LINE: KEY: what is wrong".
#include "config/config.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include "support/process.h"

namespace hasg::config {
namespace {

using std::chrono::milliseconds;

// DESIGN.md's example, verbatim.
const char* kExample = R"(interval: 5s
haproxy:
  template: /etc/haproxy/haproxy.cfg.template
  config: /etc/haproxy/haproxy.cfg          # what HAProxy runs with; written atomically
  runtime_socket: /run/haproxy/admin.sock
  master_socket: /run/haproxy/master.sock
backends:
  - backend: autoscaling_group              # a backend section of the template
    group: app                              # the Auto Scaling group
    port: 80
    server_options: check inter 2s
    drain_timeout: 30s
)";

const char* kMinimalHead = R"(haproxy:
  template: /t.cfg
  config: /c.cfg
  runtime_socket: /admin.sock
)";

Error parse_error(const std::string& yaml, const std::string& file = "/etc/haproxy-asg.yaml") {
  auto r = parse_config(yaml, file);
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << yaml;
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code, "ConfigError");
  return r.error();
}

TEST(Config, DesignExample) {
  auto r = parse_config(kExample, "/etc/haproxy-asg.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Config& c = *r;
  EXPECT_EQ(c.source, "/etc/haproxy-asg.yaml");
  EXPECT_EQ(c.interval, milliseconds(5000));
  EXPECT_EQ(c.haproxy.template_path, "/etc/haproxy/haproxy.cfg.template");
  EXPECT_EQ(c.haproxy.config_path, "/etc/haproxy/haproxy.cfg");
  EXPECT_EQ(c.haproxy.runtime_socket, "/run/haproxy/admin.sock");
  EXPECT_EQ(c.haproxy.master_socket, "/run/haproxy/master.sock");
  EXPECT_EQ(c.haproxy.binary, "/usr/sbin/haproxy");
  ASSERT_EQ(c.backends.size(), 1u);
  EXPECT_EQ(c.backends[0], (BackendConfig{"autoscaling_group", "app", 80, "check inter 2s", milliseconds(30000), "ipv4", "", "", milliseconds(300000), false, milliseconds(30000), 0.25}));
  EXPECT_EQ(c.max_remove_fraction, 0.5);
  EXPECT_EQ(c.state_file, "");
  EXPECT_EQ(c.listen, "127.0.0.1:9717");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.groups(), std::vector<std::string>{"app"});
}

TEST(Config, AllKeys) {
  auto r = parse_config(R"(interval: 500ms
haproxy:
  template: /t.cfg
  config: /c.cfg
  runtime_socket: /admin.sock
  binary: /opt/haproxy/sbin/haproxy
backends:
  - backend: web
    group: g1
    port: 8080
  - backend: api
    group: g2
    port: 9000
    address_family: ipv6
    drain_timeout: 2m
    server_options:
  - backend: web2
    group: g1
    port: 8081
max_remove_share: 25%
state_file: /var/lib/haproxy-asg/state.json
listen: "[::1]:9000"
log_format: json
)",
                        "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->interval, milliseconds(500));
  EXPECT_EQ(r->haproxy.master_socket, "");
  EXPECT_EQ(r->haproxy.binary, "/opt/haproxy/sbin/haproxy");
  ASSERT_EQ(r->backends.size(), 3u);
  EXPECT_EQ(r->backends[0], (BackendConfig{"web", "g1", 8080, "", milliseconds(30000), "ipv4", "", "", milliseconds(300000), false, milliseconds(30000), 0.25}));
  EXPECT_EQ(r->backends[1], (BackendConfig{"api", "g2", 9000, "", milliseconds(120000), "ipv6", "", "", milliseconds(300000), false, milliseconds(30000), 0.25}));
  EXPECT_DOUBLE_EQ(r->max_remove_fraction, 0.25);
  EXPECT_EQ(r->state_file, "/var/lib/haproxy-asg/state.json");
  EXPECT_EQ(r->listen, "[::1]:9000");
  EXPECT_EQ(r->log_format, "json");
  EXPECT_EQ(r->groups(), (std::vector<std::string>{"g1", "g2"}));
}

TEST(Config, ShareAsNumber) {
  auto r = parse_config(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1}]\nmax_remove_share: 1\n",
                        "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->max_remove_fraction, 1.0);
  r = parse_config(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1}]\nmax_remove_share: 0.1\n",
                   "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_DOUBLE_EQ(r->max_remove_fraction, 0.1);
}

TEST(Config, RelativePathsResolveAgainstTheFilesDirectory) {
  auto r = parse_config(R"(haproxy:
  template: haproxy.cfg.template
  config: out/../haproxy.cfg
  runtime_socket: run/admin.sock
  master_socket: run/master.sock
  binary: haproxy
state_file: state.json
backends: [{backend: b, group: g, port: 80}]
)",
                        "/srv/demo/haproxy-asg.yaml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->haproxy.template_path, "/srv/demo/haproxy.cfg.template");
  EXPECT_EQ(r->haproxy.config_path, "/srv/demo/haproxy.cfg");
  EXPECT_EQ(r->haproxy.runtime_socket, "/srv/demo/run/admin.sock");
  EXPECT_EQ(r->haproxy.master_socket, "/srv/demo/run/master.sock");
  EXPECT_EQ(r->haproxy.binary, "haproxy");  // a bare name is looked up in PATH
  EXPECT_EQ(r->state_file, "/srv/demo/state.json");
}

TEST(Config, BadPortNamesFileLineAndKey) {
  // Line 8 holds the port.
  std::string yaml = std::string(kMinimalHead) + R"(backends:
  - backend: app
    group: app
    port: http
)";
  EXPECT_EQ(parse_error(yaml).message,
            "/etc/haproxy-asg.yaml:8: backends[0].port: expected a port number 1-65535, got 'http'");
  EXPECT_NE(parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 0}]\n").message.find(
                "backends[0].port: expected a port number 1-65535, got '0'"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 65536}]\n")
                .message.find("got '65536'"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 80x}]\n")
                .message.find("got '80x'"),
            std::string::npos);
}

TEST(Config, UnknownKeysAreErrors) {
  std::string yaml = std::string(kMinimalHead) + R"(backends:
  - backend: a
    group: g
    port: 80
  - backend: b
    group: g
    port: 81
    drain_timeot: 10s
)";
  EXPECT_EQ(parse_error(yaml).message,
            "/etc/haproxy-asg.yaml:12: backends[1].drain_timeot: unknown key (known: backend, group, port, "
            "server_options, drain_timeout, address_family, lifecycle_hooks, launch_timeout, health_feedback)");
  auto top = parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1}]\nintervall: 5s\n");
  EXPECT_EQ(top.message.rfind("/etc/haproxy-asg.yaml:6: intervall: unknown key (known: interval, haproxy,", 0), 0u)
      << top.message;
  auto hp = parse_error("haproxy:\n  template: /t\n  confg: /c\n");
  EXPECT_EQ(hp.message.rfind("/etc/haproxy-asg.yaml:3: haproxy.confg: unknown key", 0), 0u) << hp.message;
}

TEST(Config, RepeatedKeyIsAnError) {
  auto e = parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1}]\ninterval: 1s\ninterval: 2s\n");
  EXPECT_EQ(e.message, "/etc/haproxy-asg.yaml:7: interval: key given twice");
}

TEST(Config, RequiredKeys) {
  auto missing = [](const std::string& yaml) { return parse_error(yaml).message; };
  EXPECT_NE(missing("backends: [{backend: b, group: g, port: 1}]\n").find(": haproxy: required key missing"),
            std::string::npos);
  EXPECT_NE(missing("haproxy: {config: /c, runtime_socket: /s}\nbackends: [{backend: b, group: g, port: 1}]\n")
                .find("haproxy.template: required key missing"),
            std::string::npos);
  EXPECT_NE(missing("haproxy: {template: /t, runtime_socket: /s}\nbackends: [{backend: b, group: g, port: 1}]\n")
                .find("haproxy.config: required key missing"),
            std::string::npos);
  EXPECT_NE(missing("haproxy: {template: /t, config: /c}\nbackends: [{backend: b, group: g, port: 1}]\n")
                .find("haproxy.runtime_socket: required key missing"),
            std::string::npos);
  EXPECT_NE(missing(kMinimalHead).find("backends: required key missing"), std::string::npos);
  EXPECT_NE(missing(std::string(kMinimalHead) + "backends: []\n").find("backends: at least one backend"),
            std::string::npos);
  EXPECT_NE(missing(std::string(kMinimalHead) + "backends: {backend: b}\n").find("backends: expected a list"),
            std::string::npos);
  EXPECT_EQ(missing(std::string(kMinimalHead) + "backends:\n  - group: g\n    port: 1\n"),
            "/etc/haproxy-asg.yaml:6: backends[0].backend: required key missing (a backend section of the template)");
  EXPECT_NE(missing(std::string(kMinimalHead) + "backends:\n  - backend: b\n    port: 1\n")
                .find("backends[0].group: required key missing"),
            std::string::npos);
  EXPECT_NE(missing(std::string(kMinimalHead) + "backends:\n  - backend: b\n    group: g\n")
                .find("backends[0].port: required key missing"),
            std::string::npos);
  EXPECT_NE(missing(std::string(kMinimalHead) + "backends:\n  - backend:\n    group: g\n    port: 1\n")
                .find("backends[0].backend: expected a value, got nothing"),
            std::string::npos);
}

TEST(Config, DuplicateBackend) {
  auto e = parse_error(std::string(kMinimalHead) + R"(backends:
  - {backend: app, group: g1, port: 80}
  - {backend: app, group: g2, port: 80}
)");
  EXPECT_EQ(e.message, "/etc/haproxy-asg.yaml:7: backends[1].backend: backend 'app' is managed twice");
}

TEST(Config, ValueChecks) {
  std::string be = "backends: [{backend: b, group: g, port: 1}]\n";
  auto msg = [&](const std::string& tail) { return parse_error(std::string(kMinimalHead) + be + tail).message; };
  EXPECT_EQ(msg("interval: 50ms\n"), "/etc/haproxy-asg.yaml:6: interval: must be at least 100ms, got '50ms'");
  EXPECT_NE(msg("interval: soon\n").find("interval: expected a duration"), std::string::npos);
  // More milliseconds than 64 bits hold (found by the config_yaml fuzz target: it overflowed).
  EXPECT_NE(msg("interval: 599999999999999999\n").find("interval: expected a duration"), std::string::npos);
  EXPECT_NE(msg("interval: 9223372036854775807h\n").find("interval: expected a duration"), std::string::npos);
  // Fits in 64-bit milliseconds, but not once added to a nanosecond clock: at most a year.
  EXPECT_NE(msg("interval: 8785h\n").find("interval: expected a duration of at most a year (8784h), got '8785h'"),
            std::string::npos);
  EXPECT_NE(msg("max_remove_share: 1.5\n").find("max_remove_share: expected a share"), std::string::npos);
  EXPECT_NE(msg("max_remove_share: 150%\n").find("max_remove_share: expected a share"), std::string::npos);
  EXPECT_NE(msg("max_remove_share: half\n").find("got 'half'"), std::string::npos);
  EXPECT_NE(msg("log_format: xml\n").find("log_format: expected 'text' or 'json', got 'xml'"), std::string::npos);
  EXPECT_NE(msg("listen: localhost\n").find("listen: expected HOST:PORT"), std::string::npos);
  EXPECT_NE(msg("state_file: [a, b]\n").find("state_file: expected a string, got a list"), std::string::npos);
  auto fam = parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1, address_family: v6}]\n");
  EXPECT_NE(fam.message.find("backends[0].address_family: expected 'ipv4' or 'ipv6', got 'v6'"), std::string::npos);
  auto drain = parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1, drain_timeout: -1s}]\n");
  EXPECT_NE(drain.message.find("backends[0].drain_timeout: expected a duration"), std::string::npos);
  auto same = parse_error("haproxy: {template: /x.cfg, config: /x.cfg, runtime_socket: /s}\n" + be);
  EXPECT_NE(same.message.find("haproxy.config: must differ from haproxy.template"), std::string::npos);
  for (const char* config : {"/etc/./x.cfg", "/etc//x.cfg", "/etc/haproxy/../x.cfg"})
    EXPECT_NE(parse_error(std::string("haproxy: {template: /etc/x.cfg, config: ") + config +
                          ", runtime_socket: /s}\n" + be)
                  .message.find("haproxy.config: must differ from haproxy.template"),
              std::string::npos)
        << config << " is the template's path written another way";
}

// YAML's "\0" makes a NUL byte, which ends a value for every C call (open, connect, exec): "/x.cfg\0" would pass as
// different from "/x.cfg" yet be the same file. It is refused in every string value, naming the key. (It once passed
// the backend-name and node_id checks: strchr(ALLOWED, ch) finds a NUL as ALLOWED's terminator.)
TEST(Config, ANulByteIsRefusedInEveryValue) {
  const std::string be = "backends: [{backend: b, group: g, port: 1}]\n";
  EXPECT_EQ(parse_error("haproxy: {template: /x.cfg, config: \"/x.cfg\\0\", runtime_socket: /s}\n" + be).message,
            "/etc/haproxy-asg.yaml:1: haproxy.config: a value cannot hold a NUL byte (\\0), got '/x.cfg\\x00'");
  const std::pair<std::string, std::string> cases[] = {
      {"backends: [{backend: \"b\\0\", group: g, port: 1}]\n", "backends[0].backend"},
      {"backends: [{backend: b, group: \"g\\0\", port: 1}]\n", "backends[0].group"},
      {"backends: [{backend: b, group: g, port: 1, server_options: \"check\\0\"}]\n", "backends[0].server_options"},
      {be + "cluster: {group: lb, node_id: \"i-1\\0\"}\n", "cluster.node_id"},
      {be + "cluster: {group: lb, peers: {section: \"lb\\0\"}}\n", "cluster.peers.section"},
      {be + "state_file: \"/var/lib/s\\0\"\n", "state_file"},
  };
  for (const auto& [yaml, key] : cases)
    EXPECT_NE(parse_error(std::string(kMinimalHead) + yaml).message.find(key + ": a value cannot hold a NUL byte"),
              std::string::npos)
        << yaml;
}

// Backend names, groups and server options are written into haproxy.cfg and runtime commands (line protocols):
// what would break or inject into a line is refused, naming the key; Auto Scaling's spaces in group names are kept.
TEST(Config, ValuesThatWouldBreakALineAreRefused) {
  auto msg = [&](const std::string& backend) { return parse_error(std::string(kMinimalHead) + backend).message; };
  for (const char* name : {"\"app/x\"", "\"app x\"", "\"app;x\"", "\"app#x\"", "\"app\\nx\"", "\"app\\tx\""})
    EXPECT_NE(msg(std::string("backends: [{backend: ") + name + ", group: g, port: 1}]\n")
                  .find("backends[0].backend: a backend name is letters, digits, '-', '_', '.' or ':'"),
              std::string::npos)
        << name;
  // Every character of HAProxy's alphabet for names (2.6's invalid_char()) is accepted.
  auto ok = parse_config(std::string(kMinimalHead) + "backends: [{backend: \"Web-1_a.b:c\", group: g, port: 1}]\n",
                         "/etc/haproxy-asg.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->backends.at(0).backend, "Web-1_a.b:c");
  EXPECT_EQ(msg("backends: [{backend: b, group: \"app\\nserver evil 127.0.0.9:80\", port: 1}]\n"),
            "/etc/haproxy-asg.yaml:5: backends[0].group: a group name is 1-255 characters without control characters "
            "(newline, tab...), got 'app\\x0aserver evil 127.0.0.9:80'");
  EXPECT_NE(msg("backends: [{backend: b, group: \"" + std::string(256, 'g') + "\", port: 1}]\n").find("1-255"),
            std::string::npos);
  for (const char* options : {"\"check\\nserver evil 127.0.0.9:80\"", "\"check;disable server b/x\"",
                              "\"check # inter 2s\"", "\"check\\tinter 2s\""})
    EXPECT_NE(msg(std::string("backends: [{backend: b, group: g, port: 1, server_options: ") + options + "}]\n")
                  .find("backends[0].server_options: server options hold no control character"),
              std::string::npos)
        << options;
  EXPECT_NE(msg("backends: [{backend: b, group: g, port: 1}]\ncluster: {group: \"lb\\r\"}\n").find("cluster.group:"),
            std::string::npos);

  auto spaced = parse_config(
      std::string(kMinimalHead) + "backends: [{backend: \"web.v2:a_b-c\", group: my app group, port: 1}]\n",
      "/etc/haproxy-asg.yaml");
  ASSERT_TRUE(spaced.ok()) << spaced.error().message;
  EXPECT_EQ(spaced->backends[0].group, "my app group");
  EXPECT_EQ(spaced->backends[0].backend, "web.v2:a_b-c");
}

TEST(Config, SyntaxErrorsAndEmptyFiles) {
  auto e = parse_error(std::string(kMinimalHead) + "backends:\n  - backend: [unclosed\n");
  EXPECT_NE(e.message.find("/etc/haproxy-asg.yaml:"), std::string::npos);
  EXPECT_NE(e.message.find("YAML syntax error"), std::string::npos) << e.message;
  auto tab = parse_error("haproxy:\n  template: a\n\tconfig: b\n");
  EXPECT_EQ(tab.message.rfind("/etc/haproxy-asg.yaml:3: YAML syntax error", 0), 0u) << tab.message;
  EXPECT_EQ(parse_error("").message, "/etc/haproxy-asg.yaml:1: the configuration is empty");
  EXPECT_EQ(parse_error("# only a comment\n").message, "/etc/haproxy-asg.yaml:1: the configuration is empty");
  EXPECT_NE(parse_error("- a\n- b\n").message.find("configuration: expected a mapping, got a list"),
            std::string::npos);
}

TEST(Config, LoadFromFile) {
  test::TempDir dir;
  test::write_file(dir.file("asg.yaml"), R"(haproxy:
  template: haproxy.cfg.template
  config: haproxy.cfg
  runtime_socket: admin.sock
backends: [{backend: b, group: g, port: 80}]
)");
  auto r = load_config(dir.file("asg.yaml"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->source, dir.file("asg.yaml"));
  EXPECT_EQ(r->haproxy.template_path, dir.file("haproxy.cfg.template"));
  EXPECT_EQ(r->haproxy.config_path, dir.file("haproxy.cfg"));

  auto missing = load_config(dir.file("nope.yaml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "NotFound");
  EXPECT_NE(missing.error().message.find(dir.file("nope.yaml")), std::string::npos);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);

  auto is_dir = load_config(dir.path());
  ASSERT_FALSE(is_dir.ok());
  EXPECT_NE(is_dir.error().message.find(dir.path()), std::string::npos);

  test::write_file(dir.file("bad.yaml"), "interval: 5s\nbogus: 1\n");
  auto bad = load_config(dir.file("bad.yaml"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind(dir.file("bad.yaml") + ":2: bogus: unknown key", 0), 0u)
      << bad.error().message;
}

TEST(Config, LifecycleHooksLaunchTimeoutAndEvents) {
  auto r = parse_config(std::string(kMinimalHead) + R"(backends:
  - backend: b
    group: g
    port: 80
    server_options: check inter 1s
    lifecycle_hooks: {terminating: haproxy-asg-drain, launching: haproxy-asg/warm_up}
    launch_timeout: 2m
events:
  queue_url: https://sqs.us-east-1.amazonaws.com/123456789012/asg-events
)", "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->backends[0].hook_terminating, "haproxy-asg-drain");
  EXPECT_EQ(r->backends[0].hook_launching, "haproxy-asg/warm_up");
  EXPECT_EQ(r->backends[0].launch_timeout, std::chrono::minutes(2));
  EXPECT_EQ(r->events_queue_url, "https://sqs.us-east-1.amazonaws.com/123456789012/asg-events");

  auto defaults = parse_config(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1}]\n", "/x.yaml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->backends[0].hook_terminating, "");
  EXPECT_EQ(defaults->backends[0].launch_timeout, std::chrono::minutes(5));
  EXPECT_EQ(defaults->events_queue_url, "");
}

TEST(Config, ServerOptionsLeaveTheIdToHaproxyAsg) {
  EXPECT_EQ(parse_error(std::string(kMinimalHead) +
                        "backends: [{backend: b, group: g, port: 1, server_options: check id 7}]\n")
                .message,
            "/etc/haproxy-asg.yaml:5: backends[0].server_options: must not set 'id': haproxy-asg gives each server "
            "a stable id derived from its instance id");
}

TEST(Config, LifecycleAndEventMistakesNameTheKey) {
  EXPECT_EQ(parse_error(std::string(kMinimalHead) +
                        "backends: [{backend: b, group: g, port: 1, lifecycle_hooks: {launching: up}}]\n")
                .message,
            "/etc/haproxy-asg.yaml:5: backends[0].lifecycle_hooks.launching: needs health checks: add 'check' to "
            "backends[0].server_options (a new instance gets traffic after its first passed check)");
  EXPECT_NE(parse_error(std::string(kMinimalHead) +
                        "backends: [{backend: b, group: g, port: 1, lifecycle_hooks: {terminating: 'a b'}}]\n")
                .message.find("backends[0].lifecycle_hooks.terminating: a lifecycle hook name is"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kMinimalHead) +
                        "backends: [{backend: b, group: g, port: 1, lifecycle_hooks: {terminate: x}}]\n")
                .message.find("backends[0].lifecycle_hooks.terminate: unknown key (known: terminating, launching)"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1}]\nevents: {queue_url: q}\n")
                .message.find("events.queue_url: expected the SQS queue's URL"),
            std::string::npos);
}

TEST(Config, ThePackagedExampleParses) {
  auto r = load_config(std::string(HASG_SOURCE_DIR) + "/packaging/haproxy-asg.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->backends.size(), 1u);
  EXPECT_EQ(r->backends[0].hook_terminating, "haproxy-asg-drain");
  EXPECT_EQ(r->backends[0].hook_launching, "");
}

TEST(Config, HealthFeedback) {
  auto r = parse_config(std::string(kMinimalHead) + R"(backends:
  - backend: b
    group: g
    port: 80
    server_options: check
    health_feedback: {down_for: 45s, max_share: 10%}
  - backend: c
    group: g
    port: 81
)", "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->backends[0].health_feedback);
  EXPECT_EQ(r->backends[0].down_for, std::chrono::seconds(45));
  EXPECT_DOUBLE_EQ(r->backends[0].feedback_max_share, 0.10);
  EXPECT_FALSE(r->backends[1].health_feedback) << "opt-in";
  auto defaults = parse_config(std::string(kMinimalHead) + "backends: [{backend: b, group: g, port: 1, health_feedback: {}}]\n",
                               "/x.yaml");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->backends[0].down_for, std::chrono::seconds(30));
  EXPECT_DOUBLE_EQ(defaults->backends[0].feedback_max_share, 0.25);
  EXPECT_NE(parse_error(std::string(kMinimalHead) +
                        "backends: [{backend: b, group: g, port: 1, health_feedback: {max_share: 2}}]\n")
                .message.find("backends[0].health_feedback.max_share"),
            std::string::npos);
}

TEST(Config, CloudWatch) {
  const std::string backends = "backends: [{backend: b, group: g, port: 1}]\n";
  auto off = parse_config(std::string(kMinimalHead) + backends, "/x.yaml");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_FALSE(off->cloudwatch.enabled) << "opt-in";
  auto r = parse_config(std::string(kMinimalHead) + backends + "cloudwatch: {namespace: Shop/LB, period: 10s}\n",
                        "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->cloudwatch.enabled);
  EXPECT_EQ(r->cloudwatch.metric_namespace, "Shop/LB");
  EXPECT_EQ(r->cloudwatch.period, std::chrono::seconds(10));
  auto defaults = parse_config(std::string(kMinimalHead) + backends + "cloudwatch: {}\n", "/x.yaml");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->cloudwatch.metric_namespace, "HAProxyASG");
  EXPECT_EQ(defaults->cloudwatch.period, std::chrono::seconds(60));
  EXPECT_NE(parse_error(std::string(kMinimalHead) + backends + "cloudwatch: {namespace: AWS/EC2}\n")
                .message.find("cloudwatch.namespace"),
            std::string::npos)
      << "AWS refuses namespaces starting with AWS/";
  EXPECT_NE(parse_error(std::string(kMinimalHead) + backends + "cloudwatch: {period: 1500ms}\n")
                .message.find("cloudwatch.period: expected 1s, 5s, 10s, 30s or a multiple of 60s"),
            std::string::npos);
  EXPECT_FALSE(parse_config(std::string(kMinimalHead) + backends + "cloudwatch: {period: 45s}\n", "/x.yaml").ok())
      << "45 s periods would split unevenly over a minute";
  EXPECT_TRUE(parse_config(std::string(kMinimalHead) + backends + "cloudwatch: {period: 5m}\n", "/x.yaml").ok());
  EXPECT_NE(parse_error(std::string(kMinimalHead) + backends + "cloudwatch: {interval: 5s}\n")
                .message.find("cloudwatch.interval: unknown key (known: namespace, period)"),
            std::string::npos);
}

}  // namespace

TEST(Config, ClusterGroupAndNodeId) {
  auto r = parse_config(std::string(kMinimalHead) + "backends: [{backend: b, group: app, port: 1}]\n"
                        "cluster: {group: lb, node_id: i-0abc123}\n", "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cluster.group, "lb");
  EXPECT_EQ(r->cluster.node_id, "i-0abc123");
  EXPECT_EQ(r->groups(), (std::vector<std::string>{"app", "lb"})) << "discovered in the same call";
  r = parse_config(std::string(kMinimalHead) + "backends: [{backend: b, group: app, port: 1}]\ncluster: {group: lb}\n",
                   "/x.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cluster.node_id, "") << "read from IMDS at start";
  EXPECT_NE(parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: app, port: 1}]\n"
                                                    "cluster: {node_id: i-1}\n")
                .message.find("cluster: required key missing: group"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: app, port: 1}]\n"
                                                    "cluster: {group: lb, node_id: 'a b'}\n")
                .message.find("cluster.node_id"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kMinimalHead) + "backends: [{backend: b, group: app, port: 1}]\n"
                                                    "cluster: {group: lb, nodes: 3}\n")
                .message.find("unknown key"),
            std::string::npos);
}

TEST(Config, ClusterPeers) {
  const std::string head = std::string(kMinimalHead) + "backends: [{backend: b, group: app, port: 1}]\n";
  auto r = parse_config(head + "cluster: {group: lb, peers: {section: lb_peers, port: 10001}}\n", "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cluster.peers_section, "lb_peers");
  EXPECT_EQ(r->cluster.peers_port, 10001);
  r = parse_config(head + "cluster: {group: lb, peers: {section: lb_peers}}\n", "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cluster.peers_port, 10000) << "the default";
  r = parse_config(head + "cluster: {group: lb}\n", "/x.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cluster.peers_section, "") << "opt-in";
  EXPECT_EQ(parse_error(head + "cluster: {group: lb, peers: {port: 10000}}\n").message,
            "/etc/haproxy-asg.yaml:6: cluster.peers: required key missing: section (a peers section of the template)");
  EXPECT_NE(parse_error(head + "cluster: {group: lb, peers: {section: lb, port: 70000}}\n")
                .message.find("cluster.peers.port"),
            std::string::npos);
  for (const char* section : {"'a b'", "\"a\\nb\"", "a#b", "a/b"})
    EXPECT_NE(parse_error(head + "cluster: {group: lb, peers: {section: " + section + "}}\n")
                  .message.find("cluster.peers.section: expected the name of a peers section of the template"),
              std::string::npos)
        << section;
  r = parse_config(head + "cluster: {group: lb, peers: {section: \"Lb-1_a.b:c\"}}\n", "/x.yaml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cluster.peers_section, "Lb-1_a.b:c");
}

}  // namespace hasg::config
