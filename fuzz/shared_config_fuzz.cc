// The AWS shared credentials and config files (INI), in both naming rules.
#include "aws/shared_config.h"
#include "fuzz_check.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::input(data, size);
  for (bool is_config : {false, true}) {
    auto r = aws::parse_shared_file(text, "fuzz", is_config);
    if (!r) {
      FUZZ_CHECK(r.error().message.find("fuzz") != std::string::npos);  // errors name the file
      continue;
    }
    for (const auto& [name, profile] : *r)
      for (const auto& [key, value] : profile)
        for (char c : key) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));  // keys lower-cased
  }
  return 0;
}
