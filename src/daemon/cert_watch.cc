#include "daemon/cert_watch.h"

#include <dirent.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "haproxy/runtime_client.h"
#include "haproxy/ssl_state.h"
#include "haproxy/unix_socket.h"
#include "util/files.h"

namespace hasg::daemon {

namespace {

namespace fs = std::filesystem;

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY |
                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr const char* kExpiry = "haproxy_asg_certificate_expiry_days";
constexpr const char* kRotations = "haproxy_asg_certificate_rotations_total";

std::string content_id(const std::string& bytes) {
  return std::to_string(bytes.size()) + ":" + std::to_string(std::hash<std::string>{}(bytes));
}

tls::DiskCert read_cert(const std::string& name) {
  tls::DiskCert d;
  auto pem = read_text_file(name);
  if (!pem) {
    d.error = pem.error().code == "NotFound" ? "the file is missing" : pem.error().message;
    return d;
  }
  d.present = true;
  std::string key;
  if (!tls::has_private_key(*pem)) {
    auto k = read_text_file(name + ".key");
    if (k) key = std::move(*k);
  }
  d.content = content_id(*pem + key);
  d.payload = tls::runtime_payload(*pem, key);
  auto info = tls::inspect_certificate(*pem, key);
  if (info)
    d.info = *info;
  else
    d.error = info.error().message;
  return d;
}

tls::DiskList read_list(const std::string& name, const std::string& crt_base) {
  tls::DiskList l;
  std::error_code ec;
  if (fs::is_directory(name, ec)) {
    l.present = true;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(name, ec)) {
      const std::string file = e.path().filename().string();
      // stat follows symlinks, as HAProxy's does: a link to a regular file is loaded.
      if (tls::loaded_from_directory(file) && fs::is_regular_file(e.path(), ec)) files.push_back(name + "/" + file);
    }
    std::sort(files.begin(), files.end());  // HAProxy's scandir(alphasort) order
    for (const auto& f : files) l.entries.push_back(tls::CrtListEntry{f, f, 0});
    return l;
  }
  auto text = read_text_file(name);
  if (!text) {
    l.error = text.error().code == "NotFound" ? "" : text.error().message;
    return l;
  }
  l.present = true;
  auto entries = tls::parse_crt_list(*text, crt_base, name);
  if (entries)
    l.entries = std::move(*entries);
  else
    l.error = entries.error().message;
  return l;
}

double days_left(int64_t not_after) {
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return (static_cast<double>(not_after) - now) / 86400.0;
}

}  // namespace

tls::DiskTls read_disk_tls(const tls::ServedTls& served, const std::string& crt_base) {
  tls::DiskTls disk;
  for (const auto& [list, _] : served.lists) disk.lists[list] = read_list(list, crt_base);
  for (const auto& name : tls::certificates_to_read(served, disk.lists)) disk.certs[name] = read_cert(name);
  return disk;
}

std::set<std::string> directories_to_watch(const tls::ServedTls& served, const tls::DiskTls& disk) {
  std::set<std::string> out;
  std::set<std::string> paths;
  for (const auto& [name, _] : disk.certs) paths.insert(name);
  for (const auto& [list, _] : served.lists) paths.insert(list);
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) out.insert(p);
    // The path's directory, then each symlink's target's directory (at most 8 hops: a loop ends there).
    fs::path at(p);
    for (int hop = 0; hop < 8; ++hop) {
      out.insert(at.parent_path().string());
      if (!fs::is_symlink(at, ec)) break;
      fs::path target = fs::read_symlink(at, ec);
      if (ec) break;
      at = target.is_absolute() ? target : at.parent_path() / target;
    }
  }
  out.erase("");
  return out;
}

CertWatch::CertWatch(std::string runtime_socket, std::string config_path, Metrics& metrics,
                     std::function<void(const std::string&)> request_reload, Timing timing)
    : timing_(timing),
      metrics_(metrics),
      request_reload_(std::move(request_reload)),
      socket_(std::move(runtime_socket)),
      config_path_(std::move(config_path)) {
  metrics_.gauge(kExpiry, "Days until the certificate HAProxy serves from each file expires (negative: expired).");
  metrics_.counter(kRotations,
                   "Certificate changes by file and outcome: ok (pushed without a reload), refused (the file is "
                   "invalid, or HAProxy refused it: the old certificate keeps serving), failed (HAProxy unreachable), "
                   "reload (the Runtime API cannot express it: a validated reload was asked for).");
}

CertWatch::~CertWatch() { stop(); }

Status CertWatch::start(WakeFn) {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (inotify_fd_ < 0 || stop_fd_ < 0)
    return make_error("IOError", std::string("certificate watch: cannot set up inotify: ") + strerror(errno));
  thread_ = std::thread([this] { loop(); });
  return Ok{};
}

void CertWatch::stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof one) < 0) spdlog::warn("certificate watch: cannot signal stop");
    thread_.join();
  }
  for (int* fd : {&inotify_fd_, &stop_fd_})
    if (*fd >= 0) {
      close(*fd);
      *fd = -1;
    }
  watches_.clear();
}

void CertWatch::set_paths(std::string runtime_socket, std::string config_path) {
  std::lock_guard lock(mu_);
  socket_ = std::move(runtime_socket);
  config_path_ = std::move(config_path);
}

void CertWatch::loop() {
  using Clock = std::chrono::steady_clock;
  auto next_scan = Clock::now();
  bool settling = false;  // file events came since the last look
  Clock::time_point first_event, last_event;
  for (;;) {
    auto due = next_scan;
    if (settling) due = std::min({due, last_event + timing_.settle, first_event + timing_.max_settle});
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()).count();
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(std::max<long long>(wait, 0)));
    if (n < 0 && errno != EINTR) {
      spdlog::error("certificate watch: poll failed: {}", strerror(errno));
      return;
    }
    if (fds[0].revents & POLLIN) return;
    if (fds[1].revents & POLLIN) {
      alignas(inotify_event) char buf[8192];
      bool any = false;
      while (read(inotify_fd_, buf, sizeof buf) > 0) any = true;  // which file does not matter: a look reads all
      if (any) {
        last_event = Clock::now();
        if (!settling) first_event = last_event;
        settling = true;
      }
    }
    if (Clock::now() >= due) {
      settling = false;
      scan();
      next_scan = Clock::now() + timing_.rescan;
    }
  }
}

void CertWatch::scan() {
  std::string socket, config_path;
  {
    std::lock_guard lock(mu_);
    socket = socket_;
    config_path = config_path_;
  }
  haproxy::UnixSocketTransport transport(socket, std::chrono::milliseconds(3000));
  auto served = haproxy::read_ssl_state(transport);
  if (!served) {
    // HAProxy not running or restarting: the next look will tell; the watches stay.
    spdlog::debug("certificate watch: cannot read HAProxy's certificates: {}", served.error().message);
    return;
  }
  std::string crt_base;
  if (auto config = read_text_file(config_path)) crt_base = tls::crt_base_of(*config);
  auto disk = read_disk_tls(*served, crt_base);
  watch_paths(directories_to_watch(*served, disk));

  // Expiry of what HAProxy serves (before this look's changes; a pushed certificate's is set when pushed).
  metrics_.clear(kExpiry);  // a certificate HAProxy no longer loads leaves no stale series
  for (const auto& [name, c] : served->certs)
    if (c.not_after) metrics_.set(kExpiry, {{"file", name}}, days_left(*c.not_after));

  apply(tls::plan_certificates(*served, disk, refused_), socket);
}

void CertWatch::apply(const tls::CertPlan& plan, const std::string& socket) {
  refused_ = plan.refused;
  // A reload is asked for once per reason while the plan keeps giving it (the daemon retries a reload that failed);
  // once a reload made HAProxy match the disk, the reason is forgotten, so the same change later asks again.
  std::erase_if(reloads_asked_, [&](const std::string& r) {
    return std::none_of(plan.actions.begin(), plan.actions.end(), [&](const tls::CertAction& a) {
      return a.kind == tls::CertActionKind::Reload && a.reason == r;
    });
  });
  haproxy::UnixSocketTransport transport(socket, std::chrono::milliseconds(3000));
  haproxy::RuntimeClient client(transport);
  std::vector<std::string> reload_reasons;
  for (const auto& a : plan.actions) {
    auto count = [&](const char* outcome) { metrics_.inc(kRotations, {{"file", a.file}, {"outcome", outcome}}); };
    switch (a.kind) {
      case tls::CertActionKind::Refuse:
        spdlog::error("certificate {} refused, HAProxy keeps serving the one it has: {}", a.file, a.reason);
        count("refused");
        continue;
      case tls::CertActionKind::Reload:
        if (reloads_asked_.insert(a.reason).second) {
          reload_reasons.push_back(a.reason);
          count("reload");
        }
        continue;
      case tls::CertActionKind::Update:
      case tls::CertActionKind::Add:
        break;
    }
    const bool add = a.kind == tls::CertActionKind::Add;
    auto cmds = add ? haproxy::ssl_cert_add(a.list, a.file, a.payload, a.line, a.loaded)
                    : haproxy::RuntimeClient::ssl_cert_update(a.file, a.payload);
    auto sent = client.execute(cmds);
    if (sent) {
      spdlog::info("certificate {} {} without a reload: {}", a.file, add ? "added to " + a.list : "replaced", a.reason);
      count("ok");
      if (!add || !a.loaded) {
        auto info = tls::inspect_certificate(a.payload, "");
        if (info) metrics_.set(kExpiry, {{"file", a.file}}, days_left(info->not_after));
      }
      continue;
    }
    // A failed commit leaves HAProxy's transaction open, a failed addition an empty store: clean both up, so the
    // old certificate stays the one served and the next change starts afresh.
    std::vector<haproxy::Command> cleanup{haproxy::ssl_cert_abort(a.file)};
    if (add && !a.loaded) cleanup.push_back(haproxy::ssl_cert_delete(a.file));
    (void)transport.send(cleanup);
    const bool refused_by_haproxy = sent.error().code == "HaproxyCommandFailed" || sent.error().code == "InvalidCommand";
    if (refused_by_haproxy) {
      refused_[a.file] = a.content;  // these bytes are not tried again; a new version of the file is
      spdlog::error("certificate {} refused by HAProxy, it keeps serving the one it has: {}", a.file,
                    sent.error().message);
      count("refused");
    } else {
      spdlog::warn("certificate {}: HAProxy unreachable, tried again at the next look: {}", a.file,
                   sent.error().message);
      count("failed");
    }
  }
  if (!reload_reasons.empty()) {
    std::string why = "certificates: ";
    for (size_t i = 0; i < reload_reasons.size(); ++i) why += (i ? "; " : "") + reload_reasons[i];
    spdlog::warn("{}: the Runtime API cannot express this, asking for a validated reload", why);
    request_reload_(why);
  }
}

void CertWatch::watch_paths(const std::set<std::string>& dirs) {
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (dirs.contains(it->first)) {
      ++it;
      continue;
    }
    inotify_rm_watch(inotify_fd_, it->second);
    it = watches_.erase(it);
  }
  for (const auto& d : dirs) {
    if (watches_.contains(d)) continue;
    int wd = inotify_add_watch(inotify_fd_, d.c_str(), kMask);
    if (wd < 0) {
      if (!unwatchable_.insert(d).second) continue;  // said once
      spdlog::warn("certificate watch: cannot watch {}: {} (changes there are seen every {} s)", d, strerror(errno),
                   timing_.rescan.count() / 1000);
      continue;
    }
    watches_[d] = wd;
    unwatchable_.erase(d);
  }
}

}  // namespace hasg::daemon
