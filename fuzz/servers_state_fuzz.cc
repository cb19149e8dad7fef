// The runtime API's "show servers state" (format 1): what the planner compares the desired servers with.
#include "fuzz_check.h"
#include "haproxy/runtime_client.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::input(data, size);
  auto r = haproxy::parse_servers_state(text);
  if (!r) {
    FUZZ_CHECK(!r.error().message.empty());
    return 0;
  }
  for (const auto& be : *r) {
    FUZZ_CHECK(!be.backend.empty());
    for (size_t i = 0; i < be.servers.size(); ++i) {
      const auto& s = be.servers[i];
      FUZZ_CHECK(!s.name.empty());
      FUZZ_CHECK(s.port >= 0 && s.port <= 65535);
      if (i > 0) FUZZ_CHECK(be.servers[i - 1].name <= s.name);  // sorted by name
    }
  }
  return 0;
}
