#include "haproxy/master_client.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <thread>

#include "haproxy/unix_socket.h"
#include "util/strings.h"

namespace hasg::haproxy {

namespace {

std::string describe(const ProcInfo& p) {
  std::string w;
  for (int pid : p.current_worker_pids) w += (w.empty() ? "" : ",") + std::to_string(pid);
  return "reloads " + std::to_string(p.reloads) + " [failed: " + std::to_string(p.failed_reloads) +
         "], workers " + (w.empty() ? "none" : w);
}

}  // namespace

// 2.6.12's "show proc" (master CLI), captured:
//   #<PID>          <type>          <reloads>       <uptime>        <version>
//   6426            master          3 [failed: 1]   0d00h00m16s     2.6.12-1+deb12u4
//   # workers
//   6745            worker          1               0d00h00m01s     2.6.12-1+deb12u4
//   # old workers
//   6644            worker          2               0d00h00m08s     2.6.12-1+deb12u4
//   # programs
// A worker's <reloads> counts the reloads since it was forked, so after a FAILED reload the current worker shows 1:
// the current generation is the "# workers" section, not "reloads == 0".
Result<ProcInfo> parse_show_proc(const std::string& text) {
  enum class Section { Master, Workers, OldWorkers, Other } sec = Section::Master;
  ProcInfo info;
  bool have_master = false;
  for (const auto& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::string_view title = trim(line.substr(1));
      if (title == "workers")
        sec = Section::Workers;
      else if (title == "old workers")
        sec = Section::OldWorkers;
      else if (title.substr(0, 1) != "<")  // "#<PID> <type> ..." is the column header
        sec = Section::Other;  // "# programs", "# old programs"
      continue;
    }
    auto w = split_ws(line);
    if (w.size() < 3) continue;
    int pid = 0;
    if (!parse_int(w[0], pid) || pid <= 0) continue;
    if (w[1] == "master" && !have_master) {
      int reloads = 0, failed = 0;
      if (!parse_int(w[2], reloads) || reloads < 0)
        return make_error("ProtocolError", "show proc: bad reload count in \"" + std::string(line) + "\"");
      // "[failed: N]" follows the count since 2.5 or so; absent means 0.
      if (w.size() >= 5 && w[3] == "[failed:") {
        std::string_view n = w[4];
        if (!n.empty() && n.back() == ']') n.remove_suffix(1);
        if (!parse_int(n, failed) || failed < 0)
          return make_error("ProtocolError", "show proc: bad failed count in \"" + std::string(line) + "\"");
      }
      info.master_pid = pid;
      info.reloads = reloads;
      info.failed_reloads = failed;
      have_master = true;
    } else if (w[1] == "worker" && sec == Section::Workers) {
      info.current_worker_pids.push_back(pid);
    } else if (w[1] == "worker" && sec == Section::OldWorkers) {
      info.old_worker_pids.push_back(pid);
    }
  }
  if (!have_master) {
    std::string t(trim(text).substr(0, 200));
    return make_error("ProtocolError", "show proc: no master line in \"" + t + "\"");
  }
  std::sort(info.current_worker_pids.begin(), info.current_worker_pids.end());
  std::sort(info.old_worker_pids.begin(), info.old_worker_pids.end());
  return info;
}

MasterClient::MasterClient(std::string socket_path, std::chrono::milliseconds timeout)
    : path_(std::move(socket_path)), timeout_(timeout) {}

// Non-interactive: the master runs the one command and closes the connection, but only once it has seen the end
// of our input (2.6.12 keeps the connection open otherwise), hence the half close.
Result<std::string> MasterClient::command(const std::string& cmd) {
  if (cmd.find_first_of("\n\r;") != std::string::npos)
    return make_error("InvalidCommand", "refusing to send master command \"" + cmd + "\": contains a newline or ';'");
  return unix_exchange(path_, cmd + "\n", timeout_, /*half_close=*/true);
}

Result<ProcInfo> MasterClient::show_proc() {
  auto out = command("show proc");
  if (!out) return out.error();
  auto p = parse_show_proc(*out);
  if (!p) {
    Error e = p.error();
    e.message = "master socket " + path_ + ": " + e.message;
    return e;
  }
  return p;
}

Status MasterClient::reload(std::chrono::milliseconds wait) {
  auto before = show_proc();
  if (!before) return before.error();
  // 2.6.12 answers nothing to "reload" and closes the connection while the master re-executes itself; later
  // versions print "Success=1" / "Success=0" first.
  auto answer = command("reload");
  if (!answer) return answer.error();
  if (answer->find("Success=0") != std::string::npos)
    return make_error("ReloadFailed", "HAProxy reload failed: " + std::string(trim(*answer)));

  auto deadline = std::chrono::steady_clock::now() + wait;
  std::string last = describe(*before);
  for (;;) {
    // While the master re-executes, its socket may refuse connections for a moment: keep polling.
    auto now_info = show_proc();
    if (now_info) {
      last = describe(*now_info);
      if (now_info->failed_reloads > before->failed_reloads)
        return make_error("ReloadFailed",
                          "HAProxy reload failed (the master kept the old workers; usually the configuration does "
                          "not load: check it with haproxy -c, and the master's log): before " +
                              describe(*before) + ", now " + last);
      bool new_worker = std::any_of(
          now_info->current_worker_pids.begin(), now_info->current_worker_pids.end(), [&](int pid) {
            return std::find(before->current_worker_pids.begin(), before->current_worker_pids.end(), pid) ==
                   before->current_worker_pids.end();
          });
      if (now_info->reloads > before->reloads && new_worker) return Ok{};
    } else {
      last = now_info.error().to_string();
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error("ReloadTimeout", "HAProxy reload not seen within " + std::to_string(wait.count()) +
                                             " ms: before " + describe(*before) + ", last " + last,
                        /*retryable=*/true);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace hasg::haproxy
