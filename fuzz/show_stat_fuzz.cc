// The runtime API's "show stat" CSV, read three ways: sessions per server (the drain watch), backend counters (the
// load sampler) and the server rows the status view shows. The first byte picks the reader (its digit, '0' to '2',
// in the seed files): one parse per execution, the rest is the answer.
#include "fuzz_check.h"
#include "haproxy/runtime_client.h"
#include "haproxy/server_stats.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text = fuzz::input(data + 1, size - 1);
  switch (static_cast<uint8_t>(data[0] - '0') % 3) {
    case 0:
      if (auto sessions = haproxy::parse_stat_sessions(text); sessions)
        for (const auto& [backend, server] : *sessions) FUZZ_CHECK(server.second >= 0);
      break;
    case 1:
      (void)haproxy::parse_backend_counters(text);
      break;
    default:
      if (auto rows = haproxy::parse_server_stats(text); rows)
        for (const auto& s : *rows) FUZZ_CHECK(s.sessions >= 0 && s.weight >= 0);
      break;
  }
  return 0;
}
