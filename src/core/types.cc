#include "core/types.h"

namespace hasg::core {

std::string server_key(const std::string& backend, const std::string& server) { return backend + "/" + server; }

std::string endpoint(const std::string& address, int port) {
  bool ipv6 = address.find(':') != std::string::npos && !address.starts_with("[");
  return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::Add: return "add";
    case OpKind::Enable: return "enable";
    case OpKind::SetAddress: return "set-address";
    case OpKind::Drain: return "drain";
    case OpKind::Remove: return "remove";
  }
  return "?";
}

const char* to_string(AdminState s) {
  switch (s) {
    case AdminState::Ready: return "ready";
    case AdminState::Drain: return "drain";
    case AdminState::Maint: return "maint";
  }
  return "?";
}

}  // namespace hasg::core
