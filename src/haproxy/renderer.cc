#include "haproxy/renderer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <unordered_set>

#include "core/aws_values.h"
#include "util/strings.h"

namespace hasg::haproxy {
namespace {

// Words that open a section in HAProxy 2.6's configuration: its REGISTER_CONFIG_SECTION list (the spoe-* sections
// live in SPOE's own files, not in haproxy.cfg).
constexpr std::array<std::string_view, 16> kSectionKeywords = {
    "global",      "defaults", "frontend", "backend", "listen", "peers",       "resolvers", "userlist",
    "program",     "http-errors", "ring",  "mailers", "cache",  "log-forward", "fcgi-app",  "namespace_list"};

constexpr std::string_view kIndent = "    ";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The first `n` whitespace-separated words of a line, stopping at a comment.
std::vector<std::string_view> words(std::string_view line, size_t n) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (out.size() < n) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size() || line[i] == '#') break;
    size_t b = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    out.push_back(line.substr(b, i - b));
  }
  return out;
}

// Lines without their '\n'; a final line without a newline is a line too.
bool is_blank_or_comment(std::string_view line) {
  std::string_view t = trim(line);
  return t.empty() || t.front() == '#';
}

bool is_marker(std::string_view line) { return trim(line).starts_with(kMarkerPrefix); }

struct Section {
  size_t start = 0;  // the header line
  size_t end = 0;    // one past its last line (the next header, or the end)
  std::string keyword;
  std::string name;
};

Result<std::vector<Section>> sections_of(const std::vector<std::string_view>& lines, const std::string& filename) {
  std::vector<Section> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto w = words(lines[i], 2);
    if (w.empty() || std::find(kSectionKeywords.begin(), kSectionKeywords.end(), w[0]) == kSectionKeywords.end())
      continue;
    if (!out.empty()) out.back().end = i;
    Section s{i, lines.size(), std::string(w[0]), w.size() > 1 ? std::string(w[1]) : ""};
    if (s.name.empty() && (s.keyword == "backend" || s.keyword == "listen"))
      return make_error("TemplateError",
                        filename + ":" + std::to_string(i + 1) + ": '" + s.keyword + "' section without a name");
    out.push_back(std::move(s));
  }
  return out;
}

bool is_proxy_with_servers(const Section& s) { return s.keyword == "backend" || s.keyword == "listen"; }

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  size_t size = 0;
  for (const auto& l : lines) size += l.size() + 1;
  out.reserve(size);
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  return out;
}

// A server name or address goes into the file (and into runtime commands) as one plain word: whitespace, a control
// character, '#' (a comment), quotes or a backslash (HAProxy's quoting and escapes) or ';' (the runtime API's
// command separator) would change its meaning. Discovery refuses such values from AWS first; this is the last guard.
bool is_word(std::string_view s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || std::string_view("#\\\"';").find(c) != std::string_view::npos;
  });
}

// Where lines appended to a section go: after its last directive (blank lines and comments before the next header
// belong to what follows).
size_t end_of_directives(const std::vector<std::string_view>& lines, const Section& s) {
  size_t at = s.start + 1;
  for (size_t i = s.start + 1; i < s.end; ++i)
    if (!is_blank_or_comment(lines[i])) at = i + 1;
  return at;
}

}  // namespace

Result<TemplateInfo> inspect_template(std::string_view text, const std::string& filename) {
  if (trim(text).empty()) return make_error("TemplateError", filename + ": the template is empty");
  auto lines = lines_of(text);
  auto sections = sections_of(lines, filename);
  if (!sections.ok()) return sections.error();
  TemplateInfo info;
  for (const auto& s : *sections) {
    if (!is_proxy_with_servers(s)) continue;
    info.backends.insert(s.name);
    bool in_managed_block = false;  // a rendered file's managed servers are not the template's own
    for (size_t i = s.start + 1; i < s.end; ++i) {
      if (is_marker(lines[i])) {
        in_managed_block = true;
        continue;
      }
      auto w = words(lines[i], 2);
      if (in_managed_block && !w.empty() && w[0] == "server") continue;
      in_managed_block = false;
      if (w.size() == 2 && w[0] == "server") info.declared_servers.insert(core::server_key(s.name, std::string(w[1])));
    }
  }
  return info;
}

Result<std::vector<ConfigSection>> parse_sections(std::string_view text, const std::string& filename) {
  auto lines = lines_of(text, /*strip_cr=*/true);
  auto sections = sections_of(lines, filename);
  if (!sections.ok()) return sections.error();
  std::vector<ConfigSection> out;
  for (const auto& s : *sections) {
    ConfigSection c{s.keyword, s.name, {}};
    for (size_t i = s.start + 1; i < s.end; ++i) {
      auto w = words(lines[i], SIZE_MAX);
      if (!w.empty()) c.directives.emplace_back(w.begin(), w.end());
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::string> render(std::string_view template_text, const std::string& template_name,
                           const std::vector<ManagedBackend>& managed, const ManagedPeers* peers) {
  if (trim(template_text).empty()) return make_error("TemplateError", template_name + ": the template is empty");
  auto lines = lines_of(template_text);
  for (size_t i = 0; i < lines.size(); ++i)
    if (is_marker(lines[i]))
      return make_error("TemplateError", template_name + ":" + std::to_string(i + 1) +
                                             ": the template already holds haproxy-asg's managed servers "
                                             "(is it a rendered haproxy.cfg rather than the template?)");
  auto sections = sections_of(lines, template_name);
  if (!sections.ok()) return sections.error();

  // First section of each name wins; HAProxy itself rejects two proxies of one name, and `haproxy -c` says so.
  std::map<std::string, const Section*> by_name;
  for (const auto& s : *sections)
    if (is_proxy_with_servers(s)) by_name.emplace(s.name, &s);

  std::map<size_t, std::vector<std::string>> inserts;  // line index -> lines inserted before it
  std::set<std::string> seen;
  for (const auto& m : managed) {
    if (!seen.insert(m.backend).second)
      return make_error("TemplateError", template_name + ": backend '" + m.backend + "' is managed twice");
    auto it = by_name.find(m.backend);
    if (it == by_name.end())
      return make_error("TemplateError", template_name + ": no 'backend " + m.backend +
                                             "' section for managed backend '" + m.backend + "'");
    const Section& s = *it->second;
    const size_t at = end_of_directives(lines, s);

    std::string options(trim(m.server_options));
    // The group and the options go into the marker comment (the options into each server line too): a control
    // character would end the line early and make the rest a directive of its own.
    if (!core::is_one_line(m.group) || !core::is_one_line(options) || options.find('#') != std::string::npos)
      return make_error("TemplateError", "backend '" + m.backend +
                                             "': cannot write a group name or server options holding a control "
                                             "character or '#'");
    std::vector<std::string> block;
    block.push_back(std::string(kIndent) + std::string(kMarkerPrefix) + m.group + ", port " +
                    std::to_string(m.port) + ", options: " + (options.empty() ? "none" : options) +
                    " (managed; do not edit)");
    std::vector<core::DesiredServer> servers = m.servers;
    std::sort(servers.begin(), servers.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& srv : servers) {
      if (!is_word(srv.name) || !is_word(srv.address))
        return make_error("TemplateError", "backend '" + m.backend + "': cannot write server '" +
                                               core::printable(srv.name) + "' with address '" +
                                               core::printable(srv.address) + "' (not one plain word)");
      std::string line = std::string(kIndent) + "server " + srv.name + " " +
                         core::endpoint(srv.address, srv.port != 0 ? srv.port : m.port);
      if (srv.id > 0) line += " id " + std::to_string(srv.id);
      if (!options.empty()) line += " " + options;
      block.push_back(std::move(line));
    }
    inserts[at] = std::move(block);
  }

  if (peers != nullptr && !peers->section.empty()) {
    auto find = [&](std::string_view keyword, std::string_view name) -> const Section* {
      for (const auto& s : *sections)
        if (s.keyword == keyword && (name.empty() || s.name == name)) return &s;
      return nullptr;
    };
    const Section* ps = find("peers", peers->section);
    if (ps == nullptr)
      return make_error("TemplateError", template_name + ": no 'peers " + peers->section +
                                             "' section for cluster.peers.section '" + peers->section + "'");
    const Section* global = find("global", "");
    if (global == nullptr || global->start > ps->start)
      return make_error("TemplateError", template_name + ": 'peers " + peers->section +
                                             "' needs a global section before it (haproxy-asg writes this node's "
                                             "'localpeer' there; HAProxy ignores one after a peers section)");
    for (size_t i = global->start + 1; i < global->end; ++i) {
      auto w = words(lines[i], 1);
      if (!w.empty() && w[0] == "localpeer")
        return make_error("TemplateError", template_name + ":" + std::to_string(i + 1) +
                                               ": remove 'localpeer': with cluster.peers haproxy-asg writes this "
                                               "node's own (its node id)");
    }
    if (!peers->self.empty()) {
      if (!is_word(peers->self))
        return make_error("TemplateError", "cluster: cannot write localpeer '" + peers->self + "'");
      auto& g = inserts[end_of_directives(lines, *global)];
      g.push_back(std::string(kIndent) + "# haproxy-asg: this node's name in peers " + peers->section +
                  " (managed; do not edit)");
      g.push_back(std::string(kIndent) + "localpeer " + peers->self);
    }
    auto& block = inserts[end_of_directives(lines, *ps)];
    block.push_back(std::string(kIndent) + "# haproxy-asg: peers of cluster group " + peers->group + ", port " +
                    std::to_string(peers->port) + " (managed; do not edit)");
    std::vector<core::DesiredServer> nodes = peers->nodes;
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& n : nodes) {
      if (!is_word(n.name) || !is_word(n.address))
        return make_error("TemplateError", "peers '" + peers->section + "': cannot write peer '" + n.name +
                                               "' with address '" + n.address + "'");
      block.push_back(std::string(kIndent) + "peer " + n.name + " " + core::endpoint(n.address, peers->port));
    }
    // Without this node among its peers (its id unknown, or its own address not discovered: at boot, or after a
    // restart while it is not InService), HAProxy cannot use the section: 2.6.12 drops it with a warning at every
    // `haproxy -c` ("Removing incomplete section"; v2.6.0's cfgparse.c has "unable to find local peer" as an error
    // for a stick table naming it). Written `disabled`, the section is left out silently by every 2.6 (the same
    // code): the node serves with local tables until it is among its peers (a validated reload then).
    const bool has_self = std::any_of(nodes.begin(), nodes.end(), [&](const auto& n) { return n.name == peers->self; });
    if (peers->self.empty() || !has_self) block.push_back(std::string(kIndent) + "disabled");
  }

  std::vector<std::string> out;
  out.reserve(lines.size() + 16);
  for (size_t i = 0; i <= lines.size(); ++i) {
    if (auto it = inserts.find(i); it != inserts.end())
      for (auto& l : it->second) out.push_back(std::move(l));
    if (i < lines.size()) out.emplace_back(lines[i]);
  }
  return join_lines(out);
}

namespace {

// The one scan behind structure_of() and shape_of(): the text minus the managed server lines; with `blocks`, each
// managed block's server lines too.
std::string scan_managed(std::string_view rendered, std::vector<std::vector<std::string_view>>* blocks) {
  std::vector<std::string> out;
  bool in_managed_block = false;
  for (auto line : lines_of(rendered)) {
    if (is_marker(line)) {
      in_managed_block = true;
      if (blocks != nullptr) blocks->emplace_back();
    } else if (in_managed_block) {
      auto w = words(line, 1);
      if (!w.empty() && w[0] == "server") {
        if (blocks != nullptr) blocks->back().push_back(line);
        continue;
      }
      in_managed_block = false;
    }
    out.emplace_back(line);
  }
  return join_lines(out);
}

}  // namespace

std::string structure_of(std::string_view rendered) { return scan_managed(rendered, nullptr); }

RenderShape shape_of(std::string_view rendered) {
  std::vector<std::vector<std::string_view>> blocks;
  RenderShape shape;
  shape.structure = scan_managed(rendered, &blocks);
  for (const auto& block : blocks) shape.servers.push_back(block.size());
  // The managed servers the rest of the file names (`use-server`, `track B/S`, `srv_is_up(B/S)`, a comment): the
  // words of a server name's alphabet (HAProxy's: letters, digits, '-', '_', '.', ':') in the structure. A line that
  // can name a server and holds what HAProxy rewrites first (an environment variable, an escape, quotes that join
  // words) could name any of them.
  std::unordered_set<std::string_view> words_of_structure;
  bool any_name = false;
  for (auto line : lines_of(shape.structure)) {
    for (size_t i = 0; i < line.size(); ++i) {
      size_t j = i;
      while (j < line.size() && is_haproxy_name_char(line[j])) ++j;
      if (j > i) words_of_structure.insert(line.substr(i, j - i));
      i = j;  // line[j] is not a name's character (or the end)
    }
    if (!any_name && line.find_first_of("$\\\"'") != std::string_view::npos)
      for (auto w : words(line, SIZE_MAX))
        if (w == "use-server" || w == "track" || w.find("srv_") != std::string_view::npos) any_name = true;
  }
  for (size_t b = 0; b < blocks.size(); ++b)
    for (auto line : blocks[b])
      if (auto w = words(line, 2); w.size() == 2 && (any_name || words_of_structure.contains(w[1])))
        shape.referenced.emplace_back(b, std::string(w[1]));
  std::sort(shape.referenced.begin(), shape.referenced.end());
  shape.referenced.erase(std::unique(shape.referenced.begin(), shape.referenced.end()), shape.referenced.end());
  // HAProxy refuses a server name or id twice in one proxy: the managed servers and the template's own together,
  // section by section (an `id` word anywhere on a server line counts: a false alarm only costs a `haproxy -c`).
  std::set<std::string_view> names, ids;
  for (auto line : lines_of(rendered)) {
    auto w = words(line, SIZE_MAX);
    if (w.empty()) continue;
    if (std::find(kSectionKeywords.begin(), kSectionKeywords.end(), w[0]) != kSectionKeywords.end()) {
      names.clear();
      ids.clear();
      continue;
    }
    if (w[0] != "server") continue;
    if (w.size() < 3 || !names.insert(w[1]).second) shape.unique = false;
    for (size_t i = 2; i + 1 < w.size(); ++i)
      if (w[i] == "id" && !ids.insert(w[i + 1]).second) shape.unique = false;
  }
  return shape;
}

bool admits(const RenderShape& validated, const RenderShape& next) {
  if (!validated.unique || !next.unique || next.structure != validated.structure ||
      next.servers.size() != validated.servers.size())
    return false;
  // A block's first servers (their options never parsed by HAProxy), and a block emptied (HAProxy may want a server
  // there: a backend with `use-fcgi-app` refuses to have none): validated.
  for (size_t i = 0; i < next.servers.size(); ++i)
    if ((next.servers[i] == 0) != (validated.servers[i] == 0)) return false;
  // A server the rest of the file names must still be there, in the same block (HAProxy refuses a reference to a
  // server it lacks, and `track app/X` names the backend too).
  return std::includes(next.referenced.begin(), next.referenced.end(), validated.referenced.begin(),
                       validated.referenced.end());
}

}  // namespace hasg::haproxy
