#include "haproxy/runtime_command.h"

#include "util/strings.h"

namespace hasg::haproxy {

namespace {

// The payload as sent: without its one optional trailing newline.
std::string_view payload_body(const Command& c) {
  std::string_view p = c.payload;
  if (p.ends_with("\r\n"))
    p.remove_suffix(2);
  else if (p.ends_with('\n'))
    p.remove_suffix(1);
  return p;
}

// The payload's lines as HAProxy reads them, an empty last one included (unlike lines_of()).
std::vector<std::string_view> body_lines(std::string_view body) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t nl = body.find('\n', start);
    std::string_view line = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) return out;
    start = nl + 1;
  }
}

}  // namespace

std::string one_line(std::string_view s) {
  std::string out(trim(s));
  for (auto& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  if (out.size() > 300) out = out.substr(0, 300) + "...";
  return out;
}

bool Expect::matches(std::string_view answer) const {
  std::string_view a = trim(answer);
  switch (kind) {
    case Kind::Empty:
      return a.empty();
    case Kind::EndsWith:
      return !texts.empty() && a.ends_with(texts.front());
    case Kind::StartsWithAny:
      for (const auto& t : texts)
        if (a.starts_with(t)) return true;
      return false;
    case Kind::Anything:
      return true;
  }
  return false;
}

Status check_command(const Command& c) {
  // ';' separates commands and a newline ends one: either would shift every later answer. A line ending with "<<"
  // (even glued to a word: 2.6.12 checks the line's last two bytes) switches HAProxy to reading a payload, which
  // would swallow the following commands.
  if (c.text.find_first_of("\n\r;") != std::string::npos || trim(c.text).empty() || c.text.ends_with("<<"))
    return make_error("InvalidCommand", "refusing to send runtime command \"" + one_line(c.text) +
                                            "\": empty, contains a newline or ';', or ends with \"<<\"");
  if (c.payload.empty()) return Ok{};
  // HAProxy ends a payload at its first empty line (a line of only "\r" counts: the "\r" is stripped): the rest
  // would be read as commands. PEM files joined with blank lines between blocks are the usual cause.
  std::string_view body = payload_body(c);
  size_t line_no = 1;
  for (auto line : body_lines(body)) {
    if (line.empty())
      return make_error("InvalidCommand", "refusing to send runtime command \"" + one_line(c.text) +
                                              "\": its payload has an empty line (line " + std::to_string(line_no) +
                                              "), which would end the payload early; remove empty lines");
    ++line_no;
  }
  if (body.find('\0') != std::string_view::npos)
    return make_error("InvalidCommand",
                      "refusing to send runtime command \"" + one_line(c.text) + "\": its payload holds a NUL byte");
  return Ok{};
}

std::string frame_command(const Command& c) {
  if (c.payload.empty()) return c.text + "\n";
  std::string out = c.text;
  out += " <<\n";  // "<<" must not be glued to the last word
  out += payload_body(c);
  out += "\n\n";  // the end of the last line, then the empty line that ends the payload
  return out;
}

size_t payload_lines(const Command& c) {
  if (c.payload.empty()) return 0;
  return body_lines(payload_body(c)).size();
}

Result<std::vector<std::string>> RuntimeTransport::run(const std::vector<std::string>& commands) {
  std::vector<Command> cmds;
  cmds.reserve(commands.size());
  for (const auto& c : commands) cmds.push_back(Command{c, {}, Expect::anything(), false});
  return send(cmds);
}

}  // namespace hasg::haproxy
