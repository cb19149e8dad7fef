// The master CLI's answers: "show proc" (reload counters, workers), "show info"'s Pid line, and the framing of an
// interactive session's answers.
#include "fuzz_check.h"
#include "haproxy/load_sampler.h"
#include "haproxy/master_client.h"
#include "haproxy/unix_socket.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::input(data, size);
  if (auto p = haproxy::parse_show_proc(text); p) {
    FUZZ_CHECK(p->master_pid > 0);
    FUZZ_CHECK(p->reloads >= 0 && p->failed_reloads >= 0);
  }
  if (auto pid = haproxy::parse_info_pid(text); pid) FUZZ_CHECK(*pid > 0);
  for (size_t n : {size_t{1}, size_t{3}}) {
    if (auto answers = haproxy::split_prompt_answers(text, n); answers) FUZZ_CHECK(answers->size() >= n);
  }
  return 0;
}
