// A Runtime API command as a value: what is sent (a line, and optionally a payload), how success is recognised in
// HAProxy's answer, and whether it is retried while HAProxy still holds connections. The transport interface that
// sends such commands lives here too, so that the unix socket transport and the client both build on it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace hasg::haproxy {

// How a command's success is recognised, judged on the answer trimmed of surrounding white space. The Runtime API
// has no status codes: success is a known text (or no text at all), anything else is HAProxy explaining a failure.
struct Expect {
  enum class Kind {
    Empty,          // no answer at all ("set server ... state ready", "enable health", "shutdown sessions")
    EndsWith,       // the answer ends with texts[0] ("New server registered.", "Success!")
    StartsWithAny,  // the answer starts with one of texts ("IP changed from", "no need to change the addr")
    Anything,       // any answer (reads: "show ..."; the caller parses it)
  };
  Kind kind = Kind::Empty;
  std::vector<std::string> texts;

  static Expect empty() { return {}; }
  static Expect ends_with(std::string text) { return {Kind::EndsWith, {std::move(text)}}; }
  static Expect starts_with_any(std::vector<std::string> texts) { return {Kind::StartsWithAny, std::move(texts)}; }
  static Expect anything() { return {Kind::Anything, {}}; }

  bool matches(std::string_view answer) const;
  bool operator==(const Expect&) const = default;
};

struct Command {
  std::string text;     // one command line: no newline, no ';', not ending with "<<"
  // Sent after the line with HAProxy's "<<" syntax (management.txt 2.6, section 9.3: "the first line needs to end
  // with the "<<\n" pattern. The next lines will be treated as the payload [...] it needs to end with an empty
  // line"). Empty: no payload. One trailing newline is allowed; an empty line inside would end the payload early
  // and is refused by check_command().
  std::string payload;
  Expect expect;
  // "del server" right after "shutdown sessions": HAProxy answers "Server still has connections attached to it"
  // while the cut connections close; the command alone is then sent again for a while.
  bool retry_while_connected = false;

  bool operator==(const Command&) const = default;
};

// Whether a command can be framed without shifting the answers of the commands after it: the line is not empty
// and holds no newline or ';' and does not end with "<<" (either would make HAProxy read it as more than one
// command, or start a payload); the payload has no empty line. An Error with code "InvalidCommand" otherwise.
Status check_command(const Command& c);
// The bytes sent for a command that passed check_command(): "TEXT\n", or "TEXT <<\nPAYLOAD\n\n".
std::string frame_command(const Command& c);
// The number of payload lines HAProxy reads (0 without a payload). In interactive mode 2.6 prints the prompt
// "+ " after the command line and after each payload line, before the answer: lines + 1 of them.
size_t payload_lines(const Command& c);

// Sends commands and returns their raw answers. An interface so that the client is tested without HAProxy.
class RuntimeTransport {
 public:
  virtual ~RuntimeTransport() = default;
  // One answer per command, in order (the answer only: no prompt). A transport failure (socket missing, refused,
  // timeout) is an Error; what HAProxy answered, even an error message, is an answer. Does not judge `expect`.
  virtual Result<std::vector<std::string>> send(const std::vector<Command>& commands) = 0;
  // Commands without payload, by their text.
  Result<std::vector<std::string>> run(const std::vector<std::string>& commands);
};

// An answer or command on one line, shortened, for error messages.
std::string one_line(std::string_view s);

}  // namespace hasg::haproxy
