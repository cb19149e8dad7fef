#include "core/load.h"

#include <algorithm>
#include <set>

namespace hasg::core {

void GaugeStats::add(double v) {
  if (count == 0) {
    min = max = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  sum += v;
  ++count;
}

namespace {

// What grew from `before` to `now`; a counter that went down was cleared, so all of `now` is new.
uint64_t growth(uint64_t before, uint64_t now) { return now >= before ? now - before : now; }

}  // namespace

void LoadLedger::observe(const LoadSample& sample, bool complete) {
  std::map<std::string, uint64_t> queued;  // this sample's queue of each backend, over every worker
  for (const auto& [pid, backends] : sample) {
    auto worker = last_.find(pid);
    for (const auto& [name, now] : backends) {
      queued[name] += now.queued;
      if (!seeded_) continue;
      BackendCounters before;  // a worker or backend not seen before counts from zero
      if (worker != last_.end()) {
        if (auto b = worker->second.find(name); b != worker->second.end()) before = b->second;
      }
      auto& p = period_[name];
      uint64_t ended = growth(before.requests, now.requests);
      p.requests += ended;
      p.responses_5xx += growth(before.responses_5xx, now.responses_5xx);
      p.response_ms_weighted += static_cast<double>(now.response_ms) * static_cast<double>(ended);
    }
  }
  if (seeded_ && complete) {
    for (const auto& [name, q] : queued) period_[name].queued.add(static_cast<double>(q));
  }
  if (complete) {
    last_ = sample;
  } else {
    for (const auto& [pid, backends] : sample) last_[pid] = backends;
  }
  seeded_ = seeded_ || complete;
}

std::map<std::string, BackendLoad> LoadLedger::take() {
  std::map<std::string, BackendLoad> out;
  out.swap(period_);
  return out;
}

std::map<std::string, HostCounts> count_hosts(const std::vector<GroupMembers>& groups,
                                              const std::vector<BackendSpec>& backends,
                                              const std::vector<ActualBackend>& actual) {
  std::map<std::string, const ActualBackend*> by_name;
  for (const auto& a : actual) by_name[a.backend] = &a;
  std::map<std::string, HostCounts> out;
  for (const auto& g : groups) {
    auto& counts = out[g.group];
    for (const auto& m : g.members) {
      if (!m.served) continue;
      bool seen = false, down = false, out_of_rotation = false;
      for (const auto& spec : backends) {
        if (spec.group != g.group) continue;
        auto a = by_name.find(spec.backend);
        if (a == by_name.end() || !a->second->exists) continue;
        const auto& servers = a->second->servers;
        auto s = std::lower_bound(servers.begin(), servers.end(), m.instance_id,
                                  [](const ActualServer& x, const std::string& id) { return x.name < id; });
        if (s == servers.end() || s->name != m.instance_id) continue;
        seen = true;
        if (s->admin != AdminState::Ready) out_of_rotation = true;
        else if (!s->up) down = true;
      }
      if (!seen || out_of_rotation) continue;
      if (down) ++counts.unhealthy;
      else ++counts.healthy;
    }
  }
  return out;
}

std::vector<GroupLoad> group_loads(const std::map<std::string, BackendLoad>& period,
                                   const std::vector<BackendSpec>& backends,
                                   const std::map<std::string, HostCounts>& hosts) {
  std::vector<GroupLoad> out;
  std::map<std::string, size_t> index;
  std::map<std::string, double> weighted;
  std::set<std::string> counted;  // a backend listed twice counts once
  for (const auto& spec : backends) {
    auto [it, fresh] = index.try_emplace(spec.group, out.size());
    if (fresh) {
      out.emplace_back();
      out.back().group = spec.group;
      if (auto h = hosts.find(spec.group); h != hosts.end()) out.back().hosts = h->second;
    }
    if (!counted.insert(spec.backend).second) continue;
    auto p = period.find(spec.backend);
    if (p == period.end()) continue;
    auto& g = out[it->second];
    g.requests += p->second.requests;
    g.responses_5xx += p->second.responses_5xx;
    weighted[spec.group] += p->second.response_ms_weighted;
    const auto& q = p->second.queued;
    if (q.count > 0) {
      if (g.queued.count == 0) {
        g.queued = q;
      } else {
        g.queued.count = std::max(g.queued.count, q.count);
        g.queued.sum += q.sum;
        g.queued.min += q.min;
        g.queued.max += q.max;
      }
    }
  }
  for (auto& g : out) {
    if (g.requests > 0) g.response_seconds = weighted[g.group] / static_cast<double>(g.requests) / 1000.0;
  }
  return out;
}

}  // namespace hasg::core
