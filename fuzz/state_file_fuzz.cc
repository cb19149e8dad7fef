// The daemon's state file (JSON it wrote, read back after a restart; it may be damaged). What is read must survive
// a write and a read unchanged, so a restart never changes the drain and hook books by itself.
#include "daemon/state_file.h"
#include "fuzz_check.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::input(data, size);
  std::vector<std::string> warnings;
  auto state = daemon::state_from_json(text, warnings);
  if (!state) return 0;
  std::string written = daemon::state_to_json(*state);
  std::vector<std::string> again_warnings;
  auto again = daemon::state_from_json(written, again_warnings);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again_warnings.empty());
  FUZZ_CHECK(*again == *state);
  return 0;
}
