// The screen of `haproxy-asg status [--watch]`: one block per backend, a line per server with its instance, zone,
// lifecycle state, HAProxy's state and last check, weight, sessions, request rate and drain time left, and the
// rows where the group's view and HAProxy's disagree marked. A pure function of values to text: the refresh loop,
// the sockets and the terminal are the caller's (status_command.cc).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "daemon/status_view.h"

namespace hasg::cli {

// One refresh: the view, when HAProxy's counters were read, and where it came from.
struct StatusSample {
  core::TimePoint at;
  std::vector<daemon::StatusBackend> backends;
  std::string source;  // "config FILE", "daemon URL"
  std::string error;   // non-empty: this refresh failed, and says why
  std::string note;    // said under the title (e.g. how old the daemon's group view is)
};

struct ScreenOptions {
  bool tty = false;   // highlight with ANSI escapes, cut lines at `width`; false: plain text, no escape at all
  int width = 0;      // the terminal's columns; 0: no limit
  bool watch = false;
  std::chrono::milliseconds interval{1000};
};

// Requests per second of a server between two samples (its cumulative request count over the time between them);
// none without a previous sample, a count, or when the count went back (the server was removed and added again).
std::optional<double> request_rate(const StatusSample& cur, const StatusSample* prev, const std::string& backend,
                                   const std::string& server);

// The frame for `cur` (rates against `prev`). Ends with a newline.
std::string render_screen(const StatusSample& cur, const StatusSample* prev, const ScreenOptions& opt);

}  // namespace hasg::cli
