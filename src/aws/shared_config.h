// The AWS shared credentials and config files (~/.aws/credentials, ~/.aws/config). Their INI dialect has quirks
// (profile sections are "[profile x]" in config but "[x]" in credentials; nested sub-sections for services), so
// it is parsed here rather than with a generic INI library, of which Debian has none for C++ anyway.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/environment.h"
#include "util/result.h"

namespace hasg::aws {

using Profile = std::map<std::string, std::string>;  // keys lower-cased

// Parses one file's text. `is_config_file` selects the section naming rule. Errors name file:line.
Result<std::map<std::string, Profile>> parse_shared_file(std::string_view text, std::string_view filename,
                                                          bool is_config_file);

// The active profile name (AWS_PROFILE, else "default") and the two file paths (from the environment, else
// $HOME/.aws/credentials and $HOME/.aws/config).
struct SharedFiles {
  std::string profile;
  std::string credentials_path;
  std::string config_path;
};
SharedFiles shared_files(const Environment& env);

// A fingerprint of both files (inode, size and modification time of each; "-" for a missing one): it changes when
// either file is rewritten or replaced (a rename over it, as rotation tools write), so a reader can tell that
// credentials it took from them may be stale without parsing them again.
std::string shared_files_stamp(const Environment& env);

// The active profile merged from both files (credentials file wins), or nullopt when neither file has it.
// A missing file is not an error; an unreadable or malformed one is.
Result<std::optional<Profile>> load_profile(const Environment& env);

}  // namespace hasg::aws
