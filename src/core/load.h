// The load a group's backends carried, from HAProxy's own counters: what `cloudwatch:` publishes. Pure: samples of
// the counters go in, each period's requests, 5xx responses, response time and queue come out, per backend.
//
// HAProxy's backend counters ("show stat" backend rows) are the source because they survive what a sync does:
// a server removed at runtime takes its own counters with it, the backend keeps them (2.6 counts a request in the
// backend's req_tot when its stream ends, with the response's status in hrsp_Nxx). A reload starts a new worker whose
// counters begin at zero while the old one finishes its requests: the ledger follows each worker by its pid, so a
// new worker's counts are all new and an old worker's last counts are kept as long as it could be read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"

namespace hasg::core {

// One backend's row in one worker.
struct BackendCounters {
  uint64_t requests = 0;       // req_tot: HTTP requests the backend handled (counted when each ended)
  uint64_t responses_5xx = 0;  // hrsp_5xx
  uint64_t queued = 0;         // qcur: requests waiting for a server now (a gauge)
  uint64_t response_ms = 0;    // rtime: average response time over the worker's last 1,024 responses (a gauge)
  bool operator==(const BackendCounters&) const = default;
};

// Every live worker's backend rows at one moment: pid -> backend -> counters.
using WorkerSample = std::map<std::string, BackendCounters>;
using LoadSample = std::map<int, WorkerSample>;

// A gauge's samples in a period, as CloudWatch's StatisticSet carries them.
struct GaugeStats {
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
  void add(double v);
  bool operator==(const GaugeStats&) const = default;
};

// What one backend carried in a period.
struct BackendLoad {
  uint64_t requests = 0;
  uint64_t responses_5xx = 0;
  // Response time weighted by the requests each sample saw end (milliseconds x requests); divided by `requests`
  // it is the period's average, as far as HAProxy's 1,024-response averages tell.
  double response_ms_weighted = 0;
  GaugeStats queued;
  bool operator==(const BackendLoad&) const = default;
};

class LoadLedger {
 public:
  // Adds what grew since the previous sample. The first sample is the baseline (what HAProxy counted before the
  // daemon looked is nobody's period). A worker not seen before started after the previous sample: all its counts
  // are new. A counter that went down was cleared (`clear counters`): its value counts from zero. A worker that is
  // gone is forgotten; what it counted after its last sample is lost, which is why the daemon samples just before
  // and just after each reload it makes.
  // `complete` is false for a sample of some workers only (the current one, read quickly during a reload): the
  // workers it lacks are not forgotten.
  void observe(const LoadSample& sample, bool complete = true);
  // What every backend carried since the previous take(), and a fresh period.
  std::map<std::string, BackendLoad> take();

 private:
  bool seeded_ = false;
  LoadSample last_;
  std::map<std::string, BackendLoad> period_;
};

// A group's hosts as ELB counts targets: healthy = in rotation and up in every configured backend of the group
// HAProxy has it in; unhealthy = in rotation and down in one. Members the group does not have InService, servers
// draining or held, and instances HAProxy does not have yet count as neither.
struct HostCounts {
  int healthy = 0;
  int unhealthy = 0;
  bool operator==(const HostCounts&) const = default;
};
std::map<std::string, HostCounts> count_hosts(const std::vector<GroupMembers>& groups,
                                              const std::vector<BackendSpec>& backends,
                                              const std::vector<ActualBackend>& actual);

// A group's load in a period: its backends' sums (two backends of one group both count).
struct GroupLoad {
  std::string group;
  uint64_t requests = 0;
  uint64_t responses_5xx = 0;
  std::optional<double> response_seconds;  // none when no request ended in the period
  GaugeStats queued;                       // the backends' queues summed at each sample
  HostCounts hosts;
  bool operator==(const GroupLoad&) const = default;
};
std::vector<GroupLoad> group_loads(const std::map<std::string, BackendLoad>& period,
                                   const std::vector<BackendSpec>& backends,
                                   const std::map<std::string, HostCounts>& hosts);

}  // namespace hasg::core
