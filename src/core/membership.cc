#include "core/membership.h"

#include <map>

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
      state[s.name] = State{DesiredServer{s.name, s.address, s.port}, s.admin == AdminState::Ready};
  for (const auto& op : plan.ops) {
    if (op.backend != be) continue;
    auto it = state.find(op.server);
    switch (op.kind) {
      case OpKind::Add:  // a held (gated) server is out of rotation until its check passes
        state[op.server] = State{DesiredServer{op.server, op.address, op.port}, !op.hold};
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
  std::vector<DesiredServer> out;
  for (auto& [name, s] : state)
    if (s.ready) out.push_back(std::move(s.server));
  return out;
}

}  // namespace hasg::core
