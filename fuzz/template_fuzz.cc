// The template scanner and renderer (the user's haproxy.cfg). Beyond not crashing: the servers written are exactly
// the ones given, membership never changes structure_of() (so a membership change never causes a reload), a member
// leaving is admitted without `haproxy -c` unless the template names it, a block's first servers and a block emptied
// are not, and a rendered file is never accepted as a template again (that would duplicate its servers).
#include <algorithm>

#include "fuzz_check.h"
#include "haproxy/renderer.h"
#include "util/strings.h"

using namespace hasg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::input(data, size);
  (void)haproxy::parse_sections(text, "fuzz.cfg");
  auto info = haproxy::inspect_template(text, "fuzz.cfg");
  if (!info) {
    FUZZ_CHECK(info.error().message.find("fuzz.cfg") != std::string::npos);
    return 0;
  }
  if (info->backends.empty()) return 0;

  haproxy::ManagedBackend m;
  m.backend = *info->backends.begin();
  m.group = "app";
  m.port = 8080;
  m.server_options = "check inter 2s";
  auto empty = haproxy::render(text, "fuzz.cfg", {m});
  m.servers = {{"i-0123456789abcdef0", "127.0.0.1", 0}};
  auto one = haproxy::render(text, "fuzz.cfg", {m});
  m.servers.push_back({"i-00000001", "::1", 81});
  auto two = haproxy::render(text, "fuzz.cfg", {m});
  FUZZ_CHECK(empty.ok() == two.ok() && one.ok() == two.ok());
  if (!two) return 0;

  // (Each render's shape once: its structure is what structure_of() returns, from the same scan.)
  const haproxy::RenderShape shape_two = haproxy::shape_of(*two), shape_empty = haproxy::shape_of(*empty),
                             shape_one = haproxy::shape_of(*one);
  FUZZ_CHECK(shape_empty.structure == shape_two.structure);
  FUZZ_CHECK(shape_one.structure == shape_two.structure);
  // Membership alone: a member leaving may be written without `haproxy -c` after the render with it passed (unless
  // the template's own servers repeat a name or id, or the template names the member: HAProxy would not pass it);
  // the first servers of a block and a block emptied never are.
  const bool named = std::binary_search(shape_two.referenced.begin(), shape_two.referenced.end(),
                                        std::pair<size_t, std::string>{0, "i-00000001"});
  FUZZ_CHECK(haproxy::admits(shape_two, shape_one) == (shape_two.unique && !named));
  FUZZ_CHECK(!haproxy::admits(shape_two, shape_empty));
  FUZZ_CHECK(!haproxy::admits(shape_empty, shape_two));
  FUZZ_CHECK(two->find("\n    server i-0123456789abcdef0 127.0.0.1:8080 check inter 2s\n") != std::string::npos);
  FUZZ_CHECK(two->find("\n    server i-00000001 [::1]:81 check inter 2s\n") != std::string::npos);
  FUZZ_CHECK(!haproxy::render(*two, "fuzz.cfg", {m}).ok());

  // A hostile name never reaches the file, whatever the template (the other hostile values are unit-tested).
  haproxy::ManagedBackend hostile = m;
  hostile.servers = {{"i-1\nserver x 127.0.0.1:1", "127.0.0.1", 0}};
  FUZZ_CHECK(!haproxy::render(text, "fuzz.cfg", {hostile}).ok());
  return 0;
}
