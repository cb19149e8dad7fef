// Logs for journald: plain text lines on stderr by default (journald adds time and unit), JSON lines on request.
#pragma once

#include <string>

namespace hasg::daemon {

// format: "text" or "json". Safe to call more than once (the last call wins).
void setup_logging(const std::string& format);

}  // namespace hasg::daemon
