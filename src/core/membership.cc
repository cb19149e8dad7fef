#include "core/membership.h"

#include <map>

#include "core/server_id.h"

namespace hasg::core {

std::vector<DesiredServer> serving_after(const DesiredBackend& desired, const ActualBackend* actual, const Plan& plan,
                                         const std::set<std::string>& unmanaged) {
  if (actual == nullptr || !actual->exists) return desired.servers;
  const std::string& be = desired.backend;
  // Each managed server's address and whether it is in rotation, then the plan's ops replayed on that.
  struct State {
    DesiredServer server;
    bool ready = false;
  };
  std::map<std::string, State> state;
  for (const auto& s : actual->servers)
    if (!unmanaged.contains(server_key(be, s.name)))
      state[s.name] = State{DesiredServer{s.name, s.address, s.port, s.id}, s.admin == AdminState::Ready};
  for (const auto& op : plan.ops) {
    if (op.backend != be) continue;
    auto it = state.find(op.server);
    switch (op.kind) {
      case OpKind::Add:  // a held (gated) server is out of rotation until its check passes
        state[op.server] = State{DesiredServer{op.server, op.address, op.port, op.server_id}, !op.hold};
        break;
      case OpKind::SetAddress:
        if (it != state.end()) {
          it->second.server.address = op.address;
          it->second.server.port = op.port;
        }
        break;
      case OpKind::Enable:
        if (it != state.end()) it->second.ready = true;
        break;
      case OpKind::Drain:
        if (it != state.end()) it->second.ready = false;
        break;
      case OpKind::Remove:
        state.erase(op.server);
        break;
      case OpKind::CompleteLifecycle:
      case OpKind::Heartbeat:
      case OpKind::ReportUnhealthy:
      case OpKind::RecordDrained:
        break;  // Auto Scaling's business, not HAProxy's
    }
  }
  // The file keeps each server's id when it is a stable one (its own, or the next free candidate after a
  // collision), so a reload changes no server's place on a consistent-hashing ring. A server with another id (added
  // by an older version without `id`) gets a stable one in the file: the next reload moves it to where every node
  // has it, without cutting its connections now. Ids HAProxy holds in the backend are never given twice.
  std::set<int> taken;
  for (const auto& s : actual->servers)
    if (s.id > 0) taken.insert(s.id);
  std::vector<std::string> fresh;
  for (auto& [name, s] : state) {
    if (is_stable_server_id(s.server.id))
      taken.insert(s.server.id);
    else
      fresh.push_back(name);
  }
  auto ids = assign_server_ids(std::move(fresh), taken);
  std::vector<DesiredServer> out;
  for (auto& [name, s] : state) {
    if (!s.ready) continue;
    if (auto it = ids.find(name); it != ids.end()) s.server.id = it->second;
    out.push_back(std::move(s.server));
  }
  return out;
}

}  // namespace hasg::core
