#include "haproxy/load_sampler.h"

#include "haproxy/master_client.h"
#include "haproxy/runtime_client.h"
#include "haproxy/unix_socket.h"
#include "util/strings.h"

namespace hasg::haproxy {

namespace {

constexpr const char* kBackendRows = "show stat -1 2 -1";  // every proxy (-1), backends (type 2), every server (-1)

class RuntimeSampler : public LoadSampler {
 public:
  RuntimeSampler(std::string path, std::chrono::milliseconds timeout) : transport_(std::move(path), timeout) {}
  Result<Sampled> sample_quick() override { return sample(); }

  Result<Sampled> sample() override {  // the only worker it can see: complete
    auto current = sample_current();
    if (!current) return current.error();
    return Sampled{std::move(*current), true};
  }

  Result<core::LoadSample> sample_current() {
    auto answers = transport_.run({"show info", kBackendRows});
    if (!answers) return answers.error();
    auto pid = parse_info_pid((*answers)[0]);
    if (!pid) return pid.error();
    auto rows = parse_backend_counters((*answers)[1]);
    if (!rows) return rows.error();
    core::LoadSample out;
    out[*pid] = std::move(*rows);
    return out;
  }

 private:
  UnixSocketTransport transport_;
};

class MasterSampler : public LoadSampler {
 public:
  MasterSampler(std::string master, std::string runtime, std::chrono::milliseconds timeout)
      : master_(master, timeout), quick_master_(master, kQuick), runtime_(std::move(runtime), kQuick) {}

  Result<Sampled> sample() override { return sample_with(master_); }

  Result<Sampled> sample_quick() override {
    if (auto all = sample_with(quick_master_)) return all;
    auto current = runtime_.sample_current();
    if (!current) return current.error();
    return Sampled{std::move(*current), false};
  }

 private:
  static constexpr std::chrono::milliseconds kQuick{100};

  Result<Sampled> sample_with(MasterClient& master) {
    auto proc = master.show_proc();
    if (!proc) return proc.error();
    Sampled out;
    auto read = [&](int pid, bool old) -> Status {
      auto text = master.command("@!" + std::to_string(pid) + " " + kBackendRows);
      auto rows = text ? parse_backend_counters(*text) : Result<core::WorkerSample>(text.error());
      if (!rows) {
        // An old worker can leave between "show proc" and the read (the master then says it knows no such pid):
        // the sample is partial, so the ledger keeps what it last read of that worker.
        if (old) {
          out.complete = false;
          return Ok{};
        }
        return rows.error();
      }
      out.sample[pid] = std::move(*rows);
      return Ok{};
    };
    for (int pid : proc->current_worker_pids) {
      if (auto st = read(pid, false); !st) return st.error();
    }
    for (int pid : proc->old_worker_pids) {
      if (auto st = read(pid, true); !st) return st.error();
    }
    return out;
  }

  MasterClient master_, quick_master_;
  RuntimeSampler runtime_;
};

}  // namespace

Result<int> parse_info_pid(const std::string& text) {
  for (auto line : lines_of(text, /*strip_cr=*/true)) {
    if (!line.starts_with("Pid:")) continue;
    int pid = 0;
    if (parse_int(trim(line.substr(4)), pid) && pid > 0) return pid;
    break;
  }
  return make_error("ProtocolError", "\"show info\": no Pid line in \"" + one_line(text) + "\"");
}

std::unique_ptr<LoadSampler> make_load_sampler(std::string runtime_socket, std::string master_socket,
                                               std::chrono::milliseconds timeout) {
  if (!master_socket.empty())
    return std::make_unique<MasterSampler>(std::move(master_socket), std::move(runtime_socket), timeout);
  return std::make_unique<RuntimeSampler>(std::move(runtime_socket), timeout);
}

}  // namespace hasg::haproxy
