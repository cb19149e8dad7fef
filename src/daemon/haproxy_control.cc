#include "daemon/haproxy_control.h"

#include <cctype>
#include <cstdio>
#include <string_view>
#include <vector>
#include <optional>

#include "haproxy/config_file.h"
#include "haproxy/master_client.h"
#include "haproxy/unix_socket.h"

namespace hasg::daemon {

namespace {

class SocketControl : public HaproxyControl {
 public:
  explicit SocketControl(const config::HaproxySettings& s)
      : settings_(s), transport_(s.runtime_socket), client_(transport_) {}

  Result<std::vector<core::ActualBackend>> servers(const std::vector<std::string>& backends,
                                                   const std::set<std::string>& sessions_of) override {
    return client_.servers(backends, sessions_of);
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

// `haproxy -c` names lines of the staged render ("[haproxy.cfg.haproxy-asg-new:12]"); the operator edits the
// template. The render is the template with server lines inserted, so walking both in step maps each line the
// template has to its own line: "[haproxy.cfg.haproxy-asg-new:12] (haproxy.cfg.template:12)".
std::string with_template_lines(std::string message, const std::string& staged_path, const std::string& rendered,
                                const std::string& template_path, const std::string& template_text) {
  auto lines = [](const std::string& t) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start < t.size()) {
      size_t end = t.find('\n', start);
      if (end == std::string::npos) end = t.size();
      out.push_back(std::string_view(t).substr(start, end - start));
      start = end + 1;
    }
    return out;
  };
  const auto r = lines(rendered);
  const auto t = lines(template_text);
  std::vector<size_t> template_line(r.size() + 1, 0);  // by rendered line (1-based); 0: a line haproxy-asg wrote
  for (size_t i = 0, j = 0; i < r.size(); ++i)
    if (j < t.size() && r[i] == t[j]) template_line[i + 1] = ++j;
  const std::string tag = staged_path + ":";
  for (size_t pos = message.find(tag); pos != std::string::npos; pos = message.find(tag, pos + 1)) {
    size_t digits = pos + tag.size();
    size_t end = digits;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
    if (end == digits || end >= message.size() || message[end] != ']') continue;
    size_t n = std::stoul(message.substr(digits, end - digits));
    std::string where = n < template_line.size() && template_line[n] != 0
                            ? template_path + ":" + std::to_string(template_line[n])
                            : "a server line haproxy-asg wrote: see server_options";
    message.insert(end + 1, " (" + where + ")");
  }
  return message;
}

class DiskFiles : public ConfigFiles {
 public:
  explicit DiskFiles(const config::HaproxySettings& s) : s_(s), staged_(s.config_path + ".haproxy-asg-new") {}

  Result<std::string> read_template() override { return read_text_file(s_.template_path); }

  Result<std::string> read_current() override {
    auto r = read_text_file(s_.config_path);
    if (!r && r.error().code == "NotFound") return std::string();
    return r;
  }

  Status stage(const std::string& text) override {
    staged_text_.reset();
    if (auto st = write_file_atomic(staged_, text); !st) return st;
    auto valid = haproxy::validate_config(s_.binary, staged_);
    std::remove(staged_.c_str());
    if (!valid) {
      std::string why = valid.error().message;
      if (auto tmpl = read_template(); tmpl) why = with_template_lines(why, staged_, text, s_.template_path, *tmpl);
      return make_error(valid.error().code, "the rendered configuration fails `" + s_.binary + " -c`; keeping " +
                                                s_.config_path + " as it is: " + why);
    }
    staged_text_ = text;
    return Ok{};
  }

  Status stage_unchecked(const std::string& text) override {
    staged_text_ = text;
    return Ok{};
  }

  Status install() override {
    if (!staged_text_) return make_error("NothingStaged", "internal error: install() without a stage()");
    // write_file_atomic keeps the file's mode and owner and replaces a symlink's target, not the link: a
    // haproxy.cfg holding stats passwords must not become world-readable because haproxy-asg rewrote it.
    auto st = write_file_atomic(s_.config_path, *staged_text_);
    staged_text_.reset();
    return st;
  }

 private:
  config::HaproxySettings s_;
  std::string staged_;                      // where a render is validated
  std::optional<std::string> staged_text_;  // what passed validation (or needed none), until installed
};

}  // namespace

std::unique_ptr<HaproxyControl> make_socket_control(const config::HaproxySettings& settings) {
  return std::make_unique<SocketControl>(settings);
}

std::unique_ptr<ConfigFiles> make_disk_files(const config::HaproxySettings& settings) {
  return std::make_unique<DiskFiles>(settings);
}

}  // namespace hasg::daemon
