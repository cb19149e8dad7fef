// HAProxy's statistics of each server ("show stat", management.txt 2.6 section 9.1): what the status screen shows
// beside the membership (operational status, last health check, weight, sessions, requests served). A read only:
// nothing here takes part in a decision.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "util/result.h"

namespace hasg::haproxy {

struct ServerStats {
  std::string backend;
  std::string server;
  std::string address;             // addr: "127.0.0.2:80"
  std::string status;              // "UP", "DOWN", "DRAIN", "MAINT", "no check", "UP 1/3" (going down), ...
  int weight = 0;                  // effective weight
  int sessions = 0;                // scur
  long long requests = -1;         // req_tot (HTTP) or stot (TCP: sessions); cumulative; -1 when absent
  long long last_change_s = -1;    // lastchg: seconds since the last status change, -1 when absent
  std::string check_status;        // "L7OK", "L4CON", "INI", ...; empty without checks ("* " prefix dropped)
  std::string check_code;          // check_code: "200" for L7 checks, empty otherwise
  int check_ms = -1;               // check_duration, -1 when absent
  std::string check_detail;        // last_chk: "Connection refused", often empty when the check passed

  bool operator==(const ServerStats&) const = default;
};

// Keyed by "backend/server" (core::server_key).
using ServerStatsMap = std::map<std::string, ServerStats>;

// Server rows of a "show stat" CSV answer (frontend and backend rows are skipped). Columns are found by the
// header's names; quoted fields ("a,b") are read as CSV.
Result<std::vector<ServerStats>> parse_server_stats(const std::string& text);

}  // namespace hasg::haproxy
