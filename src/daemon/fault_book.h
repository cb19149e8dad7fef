// The faults the daemon is living with right now: one entry per kind of fault (a key such as "aws.discovery" or
// "haproxy.runtime"), each with what failed, what the operator can do, and since when. It logs each fault once when
// it starts and once when it ends (a fault that lasts an hour at a 5 s interval must not write 720 identical error
// lines), and /healthz reads it: a fault younger than the grace period is reported but healthy (one throttled call
// is not an outage), an older one makes the daemon unhealthy. Thread-safe: the loop, the event sources and the
// CloudWatch publisher report into one book.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hasg::daemon {

struct ActiveFault {
  std::string key;
  std::string message;  // what failed, as last seen
  std::string remedy;   // what to do about it; may be empty
  std::chrono::steady_clock::time_point since;
  int occurrences = 1;
};

class FaultBook {
 public:
  using Clock = std::chrono::steady_clock;

  // `key` is failing now. Logged (error) only when it was not already failing; later reports update the message
  // silently (debug). Returns true when the fault is new.
  bool report(const std::string& key, std::string message, std::string remedy = {}, Clock::time_point now = Clock::now());
  // `key` works again: logged (info) once, with how long it lasted, if it was failing. Returns true when it was.
  bool resolve(const std::string& key, Clock::time_point now = Clock::now());
  // Every fault whose key starts with `prefix` works again (e.g. all of one backend's).
  void resolve_prefix(const std::string& prefix, Clock::time_point now = Clock::now());

  bool failing(const std::string& key) const;
  std::vector<ActiveFault> active() const;  // by key

  // /healthz: unhealthy when a fault has lasted longer than `grace`. The text lists every active fault either way
  // ("ok" alone when there is none), one line each: key, age, message, and the remedy.
  std::pair<bool, std::string> health(std::chrono::milliseconds grace, Clock::time_point now = Clock::now()) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, ActiveFault> faults_;
};

}  // namespace hasg::daemon
