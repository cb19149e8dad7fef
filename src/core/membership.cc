#include "core/membership.h"

#include <algorithm>
#include <map>

namespace hasg::core {

std::vector<DesiredServer> serving_after(const DesiredBackend& desired, const ActualBackend* actual, const Plan& plan,
                                         const std::set<std::string>& unmanaged) {
  if (actual == nullptr || !actual->exists) return desired.servers;
  const std::string& be = desired.backend;
  std::map<std::string, DesiredServer> serving;
  for (const auto& s : actual->servers) {
    if (unmanaged.contains(be + "/" + s.name)) continue;
    if (s.admin == AdminState::Ready) serving[s.name] = DesiredServer{s.name, s.address, s.port};
  }
  for (const auto& op : plan.ops) {
    if (op.backend != be) continue;
    switch (op.kind) {
      case OpKind::Add:
        serving[op.server] = DesiredServer{op.server, op.address, op.port};
        break;
      case OpKind::SetAddress:
        if (auto it = serving.find(op.server); it != serving.end()) {
          it->second.address = op.address;
          it->second.port = op.port;
        } else {
          // Not in rotation yet: an Enable of the same server follows and picks the new address up.
          serving[op.server] = DesiredServer{op.server, op.address, op.port};
          serving[op.server].name = "\x01" + op.server;  // placeholder, resolved by Enable below
        }
        break;
      case OpKind::Enable: {
        auto pending = serving.find(op.server);
        if (pending != serving.end() && pending->second.name.starts_with('\x01')) {
          pending->second.name = op.server;
          break;
        }
        for (const auto& s : actual->servers)
          if (s.name == op.server) serving[op.server] = DesiredServer{s.name, s.address, s.port};
        break;
      }
      case OpKind::Drain:
      case OpKind::Remove:
        serving.erase(op.server);
        break;
    }
  }
  std::vector<DesiredServer> out;
  for (auto& [name, s] : serving)
    if (!s.name.starts_with('\x01')) out.push_back(std::move(s));
  return out;
}

}  // namespace hasg::core
