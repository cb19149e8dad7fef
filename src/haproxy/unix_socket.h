// A blocking-style exchange over a unix stream socket: connect (with a timeout), write a request while reading the
// answer (so a large pipeline never deadlocks on full buffers), read until the peer closes. Used by the runtime and
// master CLI clients; both end their sessions by closing ("quit", or one command in non-interactive mode).
// UnixSocketTransport frames Runtime API commands (payloads included) on one such exchange.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "haproxy/runtime_command.h"
#include "util/result.h"

namespace hasg::haproxy {

// Sends `request` and returns everything read until EOF. `timeout` bounds the connect and any period without
// progress (no byte written or read). With `half_close`, the write side is shut once the request is sent: the
// master CLI (2.6.12) waits for that before it answers and closes. Errors have code "ConnectionError" and are
// retryable, except "HaproxyNotRunning" when the socket file is missing or refuses connections.
Result<std::string> unix_exchange(const std::string& path, const std::string& request,
                                  std::chrono::milliseconds timeout, bool half_close = false);

// HAProxy's runtime socket (https://docs.haproxy.org/2.6/management.html#9.3). Commands are pipelined on one
// connection in interactive ("prompt") mode so that each answer can be told apart, which is what makes batching a
// thousand commands cheap (one connection, one round of writes).
class UnixSocketTransport : public RuntimeTransport {
 public:
  explicit UnixSocketTransport(std::string socket_path,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Every command is checked with check_command() before anything is sent: one that cannot be framed is an Error
  // and nothing is sent.
  Result<std::vector<std::string>> send(const std::vector<Command>& commands) override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::chrono::milliseconds timeout_;
};

// Splits what an interactive ("prompt") session printed into one answer per command. HAProxy 2.6 ends every
// answer, including the empty one of "prompt" itself, with "\n> "; what follows the last prompt ("quit") is empty.
// A trailing newline of each answer is dropped. An Error when fewer than `commands` answers came back.
Result<std::vector<std::string>> split_prompt_answers(const std::string& raw, size_t commands);
// Drops the "+ " prompts 2.6 prints before the answer of a command with a payload (`prompts` = its payload lines
// + 1: one after the command line, one after each payload line). Observed on 2.6.12 for "set ssl cert F <<" with a
// 47-line PEM: 48 times "+ ", then "Transaction created for certificate F!".
std::string strip_payload_prompts(std::string answer, size_t prompts);

}  // namespace hasg::haproxy
