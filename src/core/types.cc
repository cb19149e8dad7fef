#include "core/types.h"

namespace hasg::core {

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
