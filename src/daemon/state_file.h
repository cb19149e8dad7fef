// The state file: what one cycle hands the next (core::SyncState), kept on disk so that a restart neither forgets
// a drain in progress nor a reload that failed. Optional (`state_file`); JSON, written atomically.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "util/result.h"

namespace hasg::daemon {

// {"drains": {"backend/server": <since, ms since the epoch>}, "reload_pending": bool,
//  "hooks": {"group/hook/instance": {"group", "hook", "transition", "since", "last_beat", "completed"}},
//  "down_since": {"backend/server": ms}, "reported": ["group/instance", ...]}
std::string state_to_json(const core::SyncState& state);
// An Error when the text is not what state_to_json writes; entries that cannot be used are skipped, each with a
// line in `warnings`.
Result<core::SyncState> state_from_json(std::string_view text, std::vector<std::string>& warnings);

class StateFile {
 public:
  explicit StateFile(std::string path) : path_(std::move(path)) {}
  // The saved state; an empty one when there is no file (or no path), or the file cannot be used (logged).
  core::SyncState load();
  // Writes the state when it differs from what was last loaded or saved. A failure is returned (the daemon books it
  // as a fault) and tried again by the next save: the daemon keeps running on its state in memory.
  Status save(const core::SyncState& state);

 private:
  std::string path_;
  core::SyncState saved_;
};

}  // namespace hasg::daemon
