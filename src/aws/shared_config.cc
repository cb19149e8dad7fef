#include "aws/shared_config.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/strings.h"

namespace hasg::aws {

namespace {

Error parse_error(std::string_view filename, size_t line, std::string_view what) {
  return make_error("SharedConfigError", std::string(filename) + ":" + std::to_string(line) + ": " + std::string(what));
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Values may carry a trailing comment only after whitespace, as the Rust and Java SDKs parse them: "a#b" is a value,
// "a #b" is "a" and a comment.
std::string_view strip_value_comment(std::string_view v) {
  for (size_t i = 1; i < v.size(); ++i)
    if ((v[i] == '#' || v[i] == ';') && is_space(v[i - 1])) return trim(v.substr(0, i));
  return v;
}

// "~/x" as the SDKs expand it, so AWS_SHARED_CREDENTIALS_FILE=~/creds works when the shell did not expand it.
std::string expand_home(const std::string& path, const Environment& env) {
  if (path.starts_with("~/")) {
    if (auto home = env.get("HOME")) return *home + path.substr(1);
  }
  return path;
}

// The file's text, nullopt when it does not exist (not an error: most hosts have neither file).
Result<std::optional<std::string>> read_optional_file(const std::string& path) {
  if (path.empty()) return std::optional<std::string>{};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>{};
    return make_error("SharedConfigError", "cannot read " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return make_error("SharedConfigError", "cannot read " + path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("SharedConfigError", "cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error("SharedConfigError", "cannot read " + path);
  return std::optional<std::string>{ss.str()};
}

}  // namespace

Result<std::map<std::string, Profile>> parse_shared_file(std::string_view text, std::string_view filename,
                                                          bool is_config_file) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a BOM left by Windows editors
  std::map<std::string, Profile> profiles;
  bool in_section = false;
  Profile* current = nullptr;         // null inside a section that is not a profile (sso-session, services)
  std::string* last_value = nullptr;  // the previous property's value, for continuation lines
  bool have_property = false;         // a continuation line needs a property above it in the same section
  bool in_subsection = false;         // the previous property was "name =" with nothing: a nested sub-section
  size_t property_indent = 0;         // leading whitespace of the previous property line
  size_t lineno = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++lineno;
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;

    // A line indented deeper than the property above continues it (deeper, as botocore's configparser decides, so
    // a file indented throughout still reads as one property per line). Under "s3 =" it is a sub-property
    // ("  max_concurrent_requests = 10") of that service's settings, never a key of the profile.
    size_t indent = static_cast<size_t>(line.data() - raw.data());
    if (have_property && indent > property_indent) {
      if (!in_subsection && last_value != nullptr) {
        *last_value += "\n";
        *last_value += strip_value_comment(line);
      }
      continue;
    }

    if (line[0] == '[') {
      size_t close = line.find(']');
      if (close == std::string_view::npos) return parse_error(filename, lineno, "section header without ']'");
      std::string_view rest = trim(line.substr(close + 1));
      if (!rest.empty() && rest[0] != '#' && rest[0] != ';')
        return parse_error(filename, lineno, "unexpected text after section header");
      std::string_view name = trim(line.substr(1, close - 1));
      if (name.empty()) return parse_error(filename, lineno, "empty section name");
      in_section = true;
      have_property = false;
      last_value = nullptr;
      current = nullptr;
      if (!is_config_file) {
        current = &profiles[std::string(name)];
      } else if (name == "default") {
        current = &profiles["default"];
      } else if (name.size() > 7 && name.starts_with("profile") && is_space(name[7])) {
        current = &profiles[std::string(trim(name.substr(8)))];  // never empty: `name` is trimmed
      }
      // Any other config-file section ([sso-session x], [services x], a bare [x]) is not a profile: the SDKs
      // ignore bare names there, so its properties are read (for syntax) and dropped.
      continue;
    }

    if (!in_section) return parse_error(filename, lineno, "property before any [section]");
    size_t eq = line.find('=');
    // The line itself is not quoted: it may hold a secret key.
    if (eq == std::string_view::npos) return parse_error(filename, lineno, "expected 'name = value' or '[section]'");
    std::string key = to_lower(trim(line.substr(0, eq)));
    if (key.empty()) return parse_error(filename, lineno, "property without a name");
    std::string value(strip_value_comment(trim(line.substr(eq + 1))));
    have_property = true;
    in_subsection = value.empty();
    property_indent = indent;
    if (current != nullptr) {
      std::string& slot = (*current)[key];
      slot = std::move(value);
      last_value = &slot;
    } else {
      last_value = nullptr;
    }
  }
  return profiles;
}

SharedFiles shared_files(const Environment& env) {
  SharedFiles f;
  f.profile = env.get("AWS_PROFILE").value_or("default");
  auto home = env.get("HOME");
  if (auto p = env.get("AWS_SHARED_CREDENTIALS_FILE"))
    f.credentials_path = expand_home(*p, env);
  else if (home)
    f.credentials_path = *home + "/.aws/credentials";
  if (auto p = env.get("AWS_CONFIG_FILE"))
    f.config_path = expand_home(*p, env);
  else if (home)
    f.config_path = *home + "/.aws/config";
  return f;
}

std::string shared_files_stamp(const Environment& env) {
  SharedFiles f = shared_files(env);
  std::string out;
  for (const std::string* path : {&f.credentials_path, &f.config_path}) {
    struct stat st {};
    if (path->empty() || ::stat(path->c_str(), &st) != 0) {
      out += "-;";
      continue;
    }
    out += std::to_string(st.st_ino) + "," + std::to_string(st.st_size) + "," + std::to_string(st.st_mtim.tv_sec) +
           "." + std::to_string(st.st_mtim.tv_nsec) + ";";
  }
  return out;
}

Result<std::optional<Profile>> load_profile(const Environment& env) {
  SharedFiles f = shared_files(env);
  std::optional<Profile> merged;
  // Config first, then credentials on top: the credentials file wins, as in every SDK.
  for (bool is_config : {true, false}) {
    const std::string& path = is_config ? f.config_path : f.credentials_path;
    auto text = read_optional_file(path);
    if (!text) return text.error();
    if (!text->has_value()) continue;
    auto parsed = parse_shared_file(**text, path, is_config);
    if (!parsed) return parsed.error();
    auto it = parsed->find(f.profile);
    if (it == parsed->end()) continue;
    if (!merged) merged.emplace();
    for (auto& [k, v] : it->second) (*merged)[k] = v;
  }
  return merged;
}

}  // namespace hasg::aws
