// `haproxy-asg status`: the group's view beside HAProxy's, once or refreshed (`--watch`), read from the YAML's
// group and HAProxy or from a running daemon's /status. The screen itself is watch_screen.cc's pure function; here
// are the edges: where a sample comes from, the refresh loop, the terminal and the signals.
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/session.h"
#include "cli/watch_screen.h"
#include "daemon/state_file.h"
#include "daemon/status_view.h"

namespace hasg::cli {

namespace {

// Where each refresh's view comes from.
class StatusSource {
 public:
  virtual ~StatusSource() = default;
  virtual Result<StatusSample> sample() = 0;
  virtual std::string name() const = 0;  // what the title says it shows
};

// From the YAML: the group through a dry-run cycle (at most once per `interval` of the config, so a watch calls AWS
// no more often than the daemon does), HAProxy read at every refresh, the drains from the daemon's state file.
class ConfigSource : public StatusSource {
 public:
  ConfigSource(Session s, std::string path) : s_(std::move(s)), path_(std::move(path)) {}

  Result<StatusSample> sample() override {
    const auto now = core::Clock::now();
    if (!report_ || now - report_at_ >= s_.cfg.interval) {
      auto r = s_.cycle(true);
      if (!r) return r.error();
      report_ = std::move(*r);
      report_at_ = now;
    }
    std::vector<std::string> backends;
    for (const auto& b : s_.cfg.backends) backends.push_back(b.backend);
    auto live = daemon::read_haproxy_now(s_.cfg.haproxy.runtime_socket, backends);
    if (!live) return live.error();
    // The daemon's drain book, when it keeps one (state_file): each drain's start. Without it, a drain's start is
    // estimated from HAProxy's lastchg (status_view.h).
    const core::SyncState state = daemon::StateFile(s_.cfg.state_file).load();
    daemon::StatusInputs in;
    in.drains = &state.drains;
    in.haproxy = &*live;
    in.now = core::Clock::now();
    StatusSample out;
    out.at = in.now;
    out.backends = daemon::status_view(s_.cfg, *report_, in);
    out.source = name();
    if (s_.cfg.state_file.empty()) out.note = "no state_file: a drain's time left is estimated (~)";
    return out;
  }
  std::string name() const override { return "config " + path_; }

 private:
  Session s_;
  std::string path_;
  std::optional<daemon::CycleReport> report_;
  core::TimePoint report_at_;
};

// From a running daemon's /status: its group view (from its last cycle), its drain book, HAProxy read at the
// request. Plain HTTP: the daemon's endpoint is a local side port.
class UrlSource : public StatusSource {
 public:
  static Result<std::unique_ptr<UrlSource>> open(std::string url) {
    if (url.find("://") == std::string::npos) url = "http://" + url;  // "127.0.0.1:9717/status"
    auto bad = [&](const std::string& why) {
      return make_error("InvalidUrl", "--url \"" + url + "\": " + why + " (e.g. http://127.0.0.1:9717/status)");
    };
    if (!url.starts_with("http://")) return bad("only http:// is served by the daemon");
    auto slash = url.find('/', 7);
    std::string base = url.substr(0, slash), path = slash == std::string::npos ? "/" : url.substr(slash);
    if (base.size() <= 7) return bad("no host");
    if (path == "/") path = "/status";
    auto src = std::unique_ptr<UrlSource>(new UrlSource(base + path, base, path));
    if (!src->client_.is_valid()) return bad("not a URL cpp-httplib can reach");
    return src;
  }

  Result<StatusSample> sample() override {
    auto res = client_.Get(path_);
    if (!res) {
      std::string why = res.error() == httplib::Error::Connection
                            ? "cannot connect (is `haproxy-asg run` listening there?)"
                            : httplib::to_string(res.error());
      return make_error("ConnectionError", "GET " + url_ + ": " + why);
    }
    if (res->status != 200)
      return make_error("HttpError", "GET " + url_ + ": HTTP " + std::to_string(res->status) + " " + res->body);
    auto j = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("backends"))
      return make_error("InvalidStatus", "GET " + url_ + ": not a haproxy-asg /status answer");
    auto view = daemon::status_from_json(j["backends"]);
    if (!view) return view.error();
    StatusSample out;
    out.at = core::Clock::now();
    out.backends = std::move(*view);
    out.source = name();
    if (j.contains("last_cycle_seconds_ago") && j["last_cycle_seconds_ago"].is_number())
      out.note = "the daemon's last good cycle: " +
                 std::to_string(static_cast<long>(j["last_cycle_seconds_ago"].get<double>())) + "s ago";
    if (j.contains("last_error") && j["last_error"].is_string() && !j["last_error"].get<std::string>().empty())
      out.error = "the daemon's last cycle failed: " + j["last_error"].get<std::string>();
    if (j.contains("haproxy_error") && j["haproxy_error"].is_string())
      out.error += (out.error.empty() ? "" : "; ") + j["haproxy_error"].get<std::string>();
    return out;
  }
  std::string name() const override { return "daemon " + url_; }

 private:
  UrlSource(std::string url, const std::string& base, std::string path)
      : url_(std::move(url)), path_(std::move(path)), client_(base) {
    client_.set_connection_timeout(2, 0);
    client_.set_read_timeout(5, 0);
  }
  std::string url_;
  std::string path_;
  httplib::Client client_;
};

// The terminal while a watch draws on it: the alternate screen (what was on the terminal comes back at the end, as
// with top or hatop) and no cursor. Restored by the destructor, which runs on every way out of the loop: signals
// are taken with sigtimedwait, never by a handler that would end the process with the terminal changed.
class Screen {
 public:
  explicit Screen(bool active) : active_(active) {
    if (active_) write("\x1b[?1049h\x1b[?25l");
  }
  ~Screen() {
    if (active_) write("\x1b[?25h\x1b[?1049l");
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  // Draws a frame from the top left: each line cleared to its end, then the rest of the screen (no blank flash
  // between frames, as clearing everything first would give).
  void draw(const std::string& frame) {
    std::string out = "\x1b[H";
    size_t start = 0;
    for (size_t nl; (nl = frame.find('\n', start)) != std::string::npos; start = nl + 1)
      out += frame.substr(start, nl - start) + "\x1b[K\n";
    out += "\x1b[J";
    write(out);
  }
  static void write(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }

 private:
  bool active_;
};

int terminal_width() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

int status_command(const StatusArgs& args) {
  // Blocked before any thread starts (curl's resolver, the HTTP client), so that SIGINT and SIGTERM stay pending
  // for the loop's sigtimedwait in every thread: the loop ends, the terminal is restored, the exit is 0.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (args.watch) pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<StatusSource> source;
  if (!args.url.empty()) {
    auto u = UrlSource::open(args.url);
    if (!u) return fail("status", u.error());
    source = std::move(*u);
  } else {
    auto s = open_session(args.config);
    if (!s) return fail("status", s.error());
    source = std::make_unique<ConfigSource>(std::move(*s), args.config);
  }

  if (!args.watch) {
    auto sample = source->sample();
    if (!sample) return fail("status", sample.error());
    if (args.json) {
      std::cout << daemon::status_to_json(sample->backends).dump(2) << "\n";
      return 0;
    }
    const bool tty = isatty(STDOUT_FILENO) != 0;
    std::cout << render_screen(*sample, nullptr, {tty, tty ? terminal_width() : 0, false, {}});
    return 0;
  }

  const bool tty = isatty(STDOUT_FILENO) != 0;
  const auto interval = std::chrono::milliseconds(static_cast<long long>(args.interval_s * 1000));
  Screen screen(tty);
  std::optional<StatusSample> prev;
  for (int frames = 0;;) {
    auto sample = source->sample();
    StatusSample shown;
    if (sample) {
      shown = std::move(*sample);
    } else {
      // A failed refresh is shown and the watch goes on: the daemon restarting or HAProxy reloading is exactly
      // what one watches.
      shown.at = core::Clock::now();
      shown.source = source->name();
      shown.error = sample.error().message;
    }
    ScreenOptions opt{tty, tty ? terminal_width() : 0, true, interval};
    std::string frame = render_screen(shown, prev ? &*prev : nullptr, opt);
    if (tty) {
      screen.draw(frame);
    } else {
      // Not a terminal: frames one after another, each starting with its title line, a blank line between them.
      Screen::write((frames > 0 ? "\n" : "") + frame);
    }
    if (sample) prev = std::move(shown);
    if (++frames == args.count) break;
    timespec wait{static_cast<time_t>(interval.count() / 1000), static_cast<long>(interval.count() % 1000) * 1000000};
    if (sigtimedwait(&stop_signals, nullptr, &wait) > 0) break;  // SIGINT or SIGTERM: stop, restore, exit 0
  }
  return 0;
}

}  // namespace hasg::cli
