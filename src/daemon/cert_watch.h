// The certificate watch: keeps what HAProxy serves for TLS equal to the certificate files on disk, without a reload.
// It asks HAProxy which certificates and crt-lists it loaded (their names are the Runtime API's keys), watches the
// directories holding them with inotify (editors and certbot replace files by rename and swap symlinks: directories
// are watched, and each symlink's target directory too), lets a burst of changes settle (`settle`), then reads both
// sides and carries out what tls::plan_certificates decides: "set/commit ssl cert", "new ssl cert" + "add ssl
// crt-list", a refusal logged once, or a reload requested from the daemon (its one validated reload path). It looks
// again every `rescan` whatever inotify says, so a reload of HAProxy or a missed event only delays, never loses.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "daemon/event_source.h"
#include "daemon/metrics.h"
#include "tls/rotation_plan.h"

namespace hasg::daemon {

class CertWatch : public EventSource {
 public:
  struct Timing {
    std::chrono::milliseconds settle{200};   // quiet time after the last file event before a look
    std::chrono::milliseconds max_settle{1000};  // a look at the latest this long after the first event of a burst
    std::chrono::milliseconds rescan{10000};  // a look at least this often
  };
  // `config_path`: the configuration HAProxy runs (its crt-base resolves crt-list lines). `request_reload` asks the
  // daemon for a validated reload, with the reason; called from the watch's thread.
  CertWatch(std::string runtime_socket, std::string config_path, Metrics& metrics,
            std::function<void(const std::string&)> request_reload, Timing timing);
  ~CertWatch() override;

  const char* name() const override { return "certificate watch"; }
  Status start(WakeFn wake) override;
  void stop() override;
  void set_paths(std::string runtime_socket, std::string config_path);  // SIGHUP

 private:
  void loop();
  void scan();
  void apply(const tls::CertPlan& plan, const std::string& socket);
  void watch_paths(const std::set<std::string>& dirs);

  Timing timing_;
  Metrics& metrics_;
  std::function<void(const std::string&)> request_reload_;
  std::mutex mu_;
  std::string socket_;
  std::string config_path_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd: stop() wakes the poll
  std::thread thread_;
  // The watch thread's own.
  std::map<std::string, int> watches_;  // directory -> inotify watch descriptor
  tls::RefusedBook refused_;
  std::set<std::string> reloads_asked_;  // reload reasons asked for and still planned: not asked again
  std::set<std::string> unwatchable_;  // directories inotify refused, warned about once
};

// The disk's side for what HAProxy serves: each served list read (a file parsed with `crt_base`, a directory
// listed as HAProxy 2.6 loads it), then every certificate to read (tls::certificates_to_read) with its sidecar key.
tls::DiskTls read_disk_tls(const tls::ServedTls& served, const std::string& crt_base);
// The directories to watch for those files: each file's directory, a directory list itself, and the directory of
// every symlink target on the way (certbot's live/ -> archive/).
std::set<std::string> directories_to_watch(const tls::ServedTls& served, const tls::DiskTls& disk);

}  // namespace hasg::daemon
