// A real HAProxy (Debian's 2.6, /usr/sbin/haproxy) in master-worker mode for tests: a temp dir holding
// haproxy.cfg, the admin runtime socket (admin.sock) and the master CLI socket (master.sock). Stopped (master and
// workers) on destruction. Talks to the sockets with plain code, so it does not depend on the code under test.
// Loopback only: every bind and server address in configs given to it must be 127.0.0.x or ::1.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "support/process.h"

namespace hasg::test {

class HaproxyFixture {
 public:
  static constexpr const char* kHaproxy = "/usr/sbin/haproxy";

  HaproxyFixture();
  ~HaproxyFixture();
  HaproxyFixture(const HaproxyFixture&) = delete;
  HaproxyFixture& operator=(const HaproxyFixture&) = delete;

  // A minimal valid preamble to compose configs with: a "defaults" section in mode http with short timeouts.
  // (The fixture adds its own "global" section with the stats socket; HAProxy merges several global sections, so
  // a config may still have its own.)
  static std::string preamble();
  // Whether /usr/sbin/haproxy is installed (tests may GTEST_SKIP otherwise).
  static bool available();

  // Writes haproxy.cfg (fixture's global section + `config_text`) and starts `haproxy -W -S master.sock -f
  // haproxy.cfg` in the foreground, then waits until both sockets answer. False on failure; log() says why.
  bool start(const std::string& config_text, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Rewrites haproxy.cfg the same way (for reload tests); does not reload.
  void write_config(const std::string& config_text);
  // Stops HAProxy (SIGTERM to the master, which stops its workers). Idempotent.
  void stop();
  bool running();

  // One command on a fresh connection in non-interactive mode; the answer read to EOF ("" on connect failure).
  std::string runtime(const std::string& cmd) const;
  std::string master(const std::string& cmd) const;
  // The master's reload count from "show proc" (-1 when unreadable).
  int master_reloads() const;

  const std::string& dir() const { return dir_.path(); }
  std::string admin_socket() const { return dir_.file("admin.sock"); }
  std::string master_socket() const { return dir_.file("master.sock"); }
  std::string config_path() const { return dir_.file("haproxy.cfg"); }
  std::string log_path() const { return dir_.file("haproxy.log"); }
  std::string log() const;  // HAProxy's stdout+stderr so far
  int master_pid() const { return proc_ ? proc_->pid() : -1; }

  // Sends `text` to a unix socket and reads the answer until EOF (or `timeout` without progress).
  static std::string unix_request(const std::string& path, const std::string& text,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The current sessions of `server` in a `show stat` answer (scur, its fifth column); -1 when it is not there.
  static int sessions_in(const std::string& show_stat, const std::string& server);

 private:
  TempDir dir_;
  std::unique_ptr<Process> proc_;
};

}  // namespace hasg::test
