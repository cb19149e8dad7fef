// HAProxy's Runtime API over its unix stats socket (https://docs.haproxy.org/2.6/management.html#9.3).
// Commands are pipelined on one connection in interactive ("prompt") mode so that each answer can be told apart,
// which is what makes batching a thousand commands cheap (one connection, one round of writes).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/types.h"
#include "util/result.h"

namespace hasg::haproxy {

// Sends commands and returns their raw answers. An interface so that the applier is tested without HAProxy.
class RuntimeTransport {
 public:
  virtual ~RuntimeTransport() = default;
  // One answer per command, in order. A transport failure (socket missing, refused, timeout) is an Error; what
  // HAProxy answered, even an error message, is an answer.
  virtual Result<std::vector<std::string>> run(const std::vector<std::string>& commands) = 0;
};

class UnixSocketTransport : public RuntimeTransport {
 public:
  explicit UnixSocketTransport(std::string socket_path,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  Result<std::vector<std::string>> run(const std::vector<std::string>& commands) override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::chrono::milliseconds timeout_;
};

// Typed operations over a transport. Every command's answer is checked: anything but the known success answer is
// an Error naming the command and quoting HAProxy.
class RuntimeClient {
 public:
  explicit RuntimeClient(RuntimeTransport& transport) : t_(transport) {}

  // Servers of the given backends ("show servers state" plus scur from "show stat"). A backend HAProxy does not
  // know comes back with exists = false.
  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>& backends);

  // Applies ops in order, batched on as few connections as possible. Stops at the first failed command and says
  // which; what was applied before it stays applied (the next cycle sees it and plans from there).
  // Op::Add -> "add server B/S ADDR:PORT OPTIONS", then "enable health B/S" when OPTIONS has "check", then
  // "set server B/S state ready". Op::Remove -> "set server B/S state maint", "shutdown sessions server B/S",
  // "del server B/S" (the del is retried for up to 3 s while HAProxy answers "Server still has connections
  // attached to it": the cut sessions and idle connections close asynchronously).
  struct ApplyResult {
    size_t applied = 0;          // ops fully applied
    size_t commands = 0;         // runtime commands sent
  };
  Result<ApplyResult> apply(const std::vector<core::Op>& ops);

  // The commands an op becomes (public for tests and for `plan` output).
  static std::vector<std::string> commands_for(const core::Op& op);

 private:
  RuntimeTransport& t_;
};

// Parsers of HAProxy's answers; pure.
// Splits what an interactive ("prompt") session printed into one answer per command. HAProxy 2.6 ends every
// answer, including the empty one of "prompt" itself, with "\n> "; what follows the last prompt ("quit") is empty.
// A trailing newline of each answer is dropped. An Error when fewer than `commands` answers came back.
Result<std::vector<std::string>> split_prompt_answers(const std::string& raw, size_t commands);
// Whether `answer` is HAProxy's success answer to `command` (one of those commands_for produces).
bool is_success_answer(const std::string& command, const std::string& answer);

// "show servers state" (format 1). Returns backend -> servers (scur left 0).
Result<std::vector<core::ActualBackend>> parse_servers_state(const std::string& text);
// "show stat" CSV: (backend, server) -> scur. Only server rows.
Result<std::vector<std::pair<std::string, std::pair<std::string, int>>>> parse_stat_sessions(const std::string& text);

}  // namespace hasg::haproxy
