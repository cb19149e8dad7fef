#include "daemon/haproxy_control.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "haproxy/config_file.h"
#include "haproxy/master_client.h"

namespace hasg::daemon {

namespace {

class SocketControl : public HaproxyControl {
 public:
  explicit SocketControl(const config::HaproxySettings& s)
      : settings_(s), transport_(s.runtime_socket), client_(transport_) {}

  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>& backends) override {
    return client_.servers(backends);
  }
  Result<haproxy::RuntimeClient::ApplyResult> apply(const std::vector<core::Op>& ops) override {
    return client_.apply(ops);
  }
  Status reload() override {
    if (settings_.master_socket.empty())
      return make_error("NoMasterSocket",
                        "the configuration's structure changed and needs a reload, but haproxy.master_socket is not "
                        "set: run HAProxy in master-worker mode with -S and name its socket, or reload it yourself");
    haproxy::MasterClient master(settings_.master_socket);
    return master.reload();
  }

 private:
  config::HaproxySettings settings_;
  haproxy::UnixSocketTransport transport_;
  haproxy::RuntimeClient client_;
};

class DiskFiles : public ConfigFiles {
 public:
  explicit DiskFiles(const config::HaproxySettings& s) : s_(s), staged_(s.config_path + ".haproxy-asg-new") {}

  Result<std::string> read_template() override { return haproxy::read_text_file(s_.template_path); }

  Result<std::string> read_current() override {
    auto r = haproxy::read_text_file(s_.config_path);
    if (!r && r.error().code == "NotFound") return std::string();
    return r;
  }

  Status stage(const std::string& text) override {
    if (auto st = haproxy::write_file_atomic(staged_, text); !st) return st;
    if (auto st = haproxy::validate_config(s_.binary, staged_); !st) {
      std::remove(staged_.c_str());
      return make_error(st.error().code, "the rendered configuration fails `" + s_.binary +
                                             " -c`; keeping " + s_.config_path + " as it is: " + st.error().message);
    }
    return Ok{};
  }

  Status install() override {
    if (std::rename(staged_.c_str(), s_.config_path.c_str()) != 0)
      return make_error("WriteFailed", "cannot rename " + staged_ + " to " + s_.config_path + ": " +
                                           std::strerror(errno));
    // The rename is durable only once the directory is synced.
    std::string dir = std::filesystem::path(s_.config_path).parent_path().string();
    int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      fsync(fd);
      close(fd);
    }
    return Ok{};
  }

 private:
  config::HaproxySettings s_;
  std::string staged_;
};

}  // namespace

std::unique_ptr<HaproxyControl> make_socket_control(const config::HaproxySettings& settings) {
  return std::make_unique<SocketControl>(settings);
}

std::unique_ptr<ConfigFiles> make_disk_files(const config::HaproxySettings& settings) {
  return std::make_unique<DiskFiles>(settings);
}

}  // namespace hasg::daemon
