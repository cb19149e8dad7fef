// HAProxy's side of doctor's facts: the runtime and master sockets, and its configuration.
#include "doctor/gather.h"
#include "haproxy/master_client.h"
#include "haproxy/unix_socket.h"
#include "util/files.h"
#include "util/strings.h"

namespace hasg::doctor {

namespace {
constexpr std::chrono::seconds kSocketTimeout{3};
}  // namespace

RuntimeSocket gather_runtime(const std::string& path) {
  RuntimeSocket rt;
  rt.path = path;
  if (path.empty()) return rt;
  haproxy::UnixSocketTransport t(path, kSocketTimeout);
  auto answers = t.run({"show cli level", "show info"});
  if (!answers) {
    rt.error = Failure{answers.error().code, answers.error().message};
    return rt;
  }
  rt.level = std::string(trim((*answers)[0]));
  const std::string& info = (*answers)[1];
  rt.version = info_field(info, "Version");
  int v = 0;
  if (parse_int(info_field(info, "Maxconn"), v)) rt.maxconn = v;
  if (parse_int(info_field(info, "Ulimit-n"), v)) rt.ulimit_n = v;
  return rt;
}

MasterSocket gather_master(const std::string& path) {
  MasterSocket m;
  m.path = path;
  if (path.empty()) return m;
  auto p = haproxy::MasterClient(path, kSocketTimeout).show_proc();
  if (!p) {
    m.error = Failure{p.error().code, p.error().message};
    return m;
  }
  m.master_pid = p->master_pid;
  m.workers = p->current_worker_pids.size();
  m.reloads = p->reloads;
  return m;
}

ProxyConfig gather_proxy_config(const std::string& path) {
  ProxyConfig p;
  auto text = read_text_file(path);
  if (text) {
    auto sections = haproxy::parse_sections(*text, path);
    if (sections) {
      p = proxy_config_from(*sections);
    } else {
      p.error = Failure{sections.error().code, sections.error().message};
    }
  } else {
    p.error = Failure{text.error().code, text.error().message};
  }
  p.path = path;
  return p;
}

}  // namespace hasg::doctor
