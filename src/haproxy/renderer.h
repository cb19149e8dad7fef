// The haproxy.cfg renderer. The user's own haproxy.cfg is the template: every line of it is kept exactly as written,
// and each managed backend gets, at the end of its section, a marker comment and one `server` line per instance.
// The marker records group, port and options, so structure_of() (the text minus the server lines) changes when
// something only a reload can apply changes, and stays equal when only membership (runtime-applied) changes.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
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

// The cluster's nodes for a `peers` section of the template (cluster.peers), so stick tables are shared: a marker and
// one `peer NODE ADDR:PORT` line per node at the end of that section, and `localpeer SELF` at the end of the global
// section. HAProxy 2.6 listens on the peer line named like its local peer name and connects to the others; the
// local name is the hostname unless `localpeer` (or -L) says otherwise, and a peers section without a line of that
// name is removed with a warning ("Removing incomplete section 'peers lb' (no peer named 'X')", seen on 2.6.12).
// `localpeer` is ignored after a peers section (configuration.txt 2.6), so the global section must come first.
struct ManagedPeers {
  std::string section;  // the template's peers section
  std::string group;    // the cluster's group, for the marker
  int port = 0;
  std::string self;                        // this node's id; empty: unknown, no localpeer written
  std::vector<core::DesiredServer> nodes;  // name = node id; written sorted by name
};

// The template with the managed servers inserted (and the peers, when given). Errors (code "TemplateError"): an
// empty template, a managed backend without its section, a backend managed twice, a template that already holds
// haproxy-asg's markers (it is a rendered file: rendering it again would duplicate the servers); for peers, a
// missing peers section or global section, a global section after the peers section, a `localpeer` of its own.
Result<std::string> render(std::string_view template_text, const std::string& template_name,
                           const std::vector<ManagedBackend>& managed, const ManagedPeers* peers = nullptr);

// The rendered text minus the managed server lines (marker lines kept).
std::string structure_of(std::string_view rendered);

// What `haproxy -c` could still object to in a render beyond its structure: per managed block (in the file's order)
// how many server lines it holds, whether any section names a server or an id twice (template servers too), and
// which managed servers the rest of the file names (a reference HAProxy resolves at start-up).
struct RenderShape {
  std::string structure;      // structure_of()
  std::vector<size_t> servers;  // server lines per managed block
  bool unique = true;
  // (managed block, server name) of each managed server the structure names, sorted: a word of the structure equal
  // to its name, or every managed server when a line that can name one (`use-server`, `track`, a `srv_*` fetch)
  // also holds what HAProxy rewrites before it reads a name (`$` of an environment variable, `\`, quotes).
  std::vector<std::pair<size_t, std::string>> referenced;
};
RenderShape shape_of(std::string_view rendered);

// Whether a render of shape `next` can be written without `haproxy -c` after one of shape `validated` passed it:
// the same structure (every line but the managed server lines: the template, each block's marker with its port and
// options, the peers), servers only in blocks where HAProxy accepted server lines of that form (the same options,
// an address and port: the renderer writes plain IPs only) and no block emptied, no name or id twice in a section,
// and every managed server the template names (`use-server`, `track`, `srv_*(backend/server)`) still there.
// `haproxy -c` costs 0.1 s of CPU at 5,000 servers (0.26 s at 20,000) and says nothing new about such a change; a
// membership change is then a runtime command and a file written, without a check that would make a 1 s cycle
// overrun on a busy machine.
bool admits(const RenderShape& validated, const RenderShape& next);

// The marker comment's leading text, after indentation (for tools that look for managed blocks).
inline constexpr std::string_view kMarkerPrefix = "# haproxy-asg: group ";

}  // namespace hasg::haproxy
