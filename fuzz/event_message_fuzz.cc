// The events queue's message bodies (SQS): Auto Scaling notifications, EventBridge events, SNS envelopes. The parser
// promises never to throw and to give a one-line reason for the log.
#include "core/events.h"
#include "fuzz_check.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body = fuzz::input(data, size);
  core::EventMessage m = core::parse_event_message(body);
  FUZZ_CHECK(!m.reason.empty());
  FUZZ_CHECK(m.reason.find('\n') == std::string::npos);
  FUZZ_CHECK(m.reason.find('\r') == std::string::npos);
  if (m.kind == core::EventKind::LifecycleAction)
    FUZZ_CHECK(m.transition == core::kLaunchingTransition || m.transition == core::kTerminatingTransition);
  return 0;
}
