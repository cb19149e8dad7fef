// The haproxy.cfg renderer. The user's own haproxy.cfg is the template: every line of it is kept exactly as written,
// and each managed backend gets, at the end of its section, a marker comment and one `server` line per instance.
// The marker records group, port and options, so structure_of() (the text minus the server lines) changes when
// something only a reload can apply changes, and stays equal when only membership (runtime-applied) changes.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "util/result.h"

namespace hasg::haproxy {

struct ManagedBackend {
  std::string backend;
  std::string group;
  int port = 0;
  std::string server_options;
  // As they should be written (a server's port 0 means `port`; an id > 0 is written as `id N`, before the options).
  std::vector<core::DesiredServer> servers;
};

struct TemplateInfo {
  std::set<std::string> backends;          // every backend and listen section name
  std::set<std::string> declared_servers;  // "backend/server" for every server line of the template itself
};

// Errors (code "TemplateError") name the template and the line.
Result<TemplateInfo> inspect_template(std::string_view text, const std::string& filename);

// One section of a configuration: its keyword ("global", "frontend", ...), its name, and the words of each directive
// (comments dropped), in order. For readers of settings (`haproxy-asg doctor`); quoting is not interpreted.
struct ConfigSection {
  std::string keyword;
  std::string name;
  std::vector<std::vector<std::string>> directives;
};
Result<std::vector<ConfigSection>> parse_sections(std::string_view text, const std::string& filename);

// The template with the managed servers inserted. Errors (code "TemplateError"): an empty template, a managed
// backend without its section, a backend managed twice, a template that already holds haproxy-asg's markers (it
// is a rendered file: rendering it again would duplicate the servers).
Result<std::string> render(std::string_view template_text, const std::string& template_name,
                           const std::vector<ManagedBackend>& managed);

// The rendered text minus the managed server lines (marker lines kept).
std::string structure_of(std::string_view rendered);

// The marker comment's leading text, after indentation (for tools that look for managed blocks).
inline constexpr std::string_view kMarkerPrefix = "# haproxy-asg: group ";

}  // namespace hasg::haproxy
