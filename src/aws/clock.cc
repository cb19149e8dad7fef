#include "aws/clock.h"

#include <cstdio>
#include <string_view>
#include <thread>

namespace hasg::aws {

namespace {

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) const override { std::this_thread::sleep_for(d); }
};

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return std::nullopt;
  std::string_view rest = std::string_view(s).substr(static_cast<size_t>(n));
  std::chrono::milliseconds frac{0};
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    if (i == 1) return std::nullopt;
    int ms = 0, digits = 0;
    for (size_t k = 1; k < i && digits < 3; ++k, ++digits) ms = ms * 10 + (rest[k] - '0');
    while (digits++ < 3) ms *= 10;
    frac = std::chrono::milliseconds(ms);
    rest.remove_prefix(i);
  }
  if (rest != "Z" && rest != "+00:00") return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + frac;
}

std::string format_iso8601_utc_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = floor<milliseconds>(t);
  auto day = floor<days>(ms);
  year_month_day ymd{day};
  hh_mm_ss hms{ms - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02lld.%03lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()), static_cast<long long>(hms.subseconds().count()));
  return buf;
}

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace hasg::aws
