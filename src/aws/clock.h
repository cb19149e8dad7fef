// Time as an edge: credential refresh, retries and signing read the clock through this, so tests can move it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace hasg::aws {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds d) const = 0;
};

// The real clock; a process-wide instance.
const Clock& system_clock();

// "2026-11-24T12:00:00Z" or "+00:00", optionally with fractional seconds (kept to the millisecond), as AWS writes
// timestamps (IMDS's Expiration) and the SDKs send them (botocore's Query serializer); nullopt when not one.
std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(const std::string& s);
// "2026-12-01T15:00:00.250Z": UTC from <chrono>'s calendar arithmetic, never through the local time zone.
std::string format_iso8601_utc_ms(std::chrono::system_clock::time_point t);

}  // namespace hasg::aws
