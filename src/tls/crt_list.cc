#include "tls/crt_list.h"

#include "util/strings.h"

namespace hasg::tls {

std::string crt_base_of(std::string_view config) {
  std::string base;
  bool in_global = false;
  for (auto raw : lines_of(config, true)) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto words = split_ws(line);
    // A section keyword starts at column 0 in practice; any known one ends "global".
    const bool section = raw.front() != ' ' && raw.front() != '\t';
    if (section) in_global = words.front() == "global";
    if (in_global && words.size() >= 2 && words.front() == "crt-base") base = std::string(words[1]);
  }
  return base;
}

std::string resolve_crt_path(std::string_view path, std::string_view crt_base) {
  if (path.starts_with('/') || crt_base.empty()) return std::string(path);
  std::string out(crt_base);
  if (!out.ends_with('/')) out += '/';
  out += path;
  return out;
}

Result<std::vector<CrtListEntry>> parse_crt_list(std::string_view text, std::string_view crt_base,
                                                 const std::string& filename) {
  std::vector<CrtListEntry> out;
  int line_no = 0;
  for (auto raw : lines_of(text, true)) {
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    size_t end = line.find_first_of(" \t");
    std::string_view path = line.substr(0, end);
    std::string_view rest = end == std::string_view::npos ? std::string_view() : trim(line.substr(end));
    if (rest.starts_with('[') && rest.find(']') == std::string_view::npos)
      return make_error("CrtListInvalid", filename + ":" + std::to_string(line_no) +
                                              ": the bind options' '[' has no closing ']'");
    CrtListEntry e;
    e.cert = resolve_crt_path(path, crt_base);
    e.line = rest.empty() ? e.cert : e.cert + " " + std::string(rest);
    e.line_no = line_no;
    out.push_back(std::move(e));
  }
  return out;
}

bool loaded_from_directory(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (std::string_view ext : {".key", ".ocsp", ".issuer", ".sctl"})
    if (name.ends_with(ext)) return false;
  return true;
}

}  // namespace hasg::tls
