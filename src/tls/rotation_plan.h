// Certificate rotation, decided: what HAProxy serves (its Runtime API's view) against the files on disk gives the
// runtime commands to send, the files to refuse, or a reload. Pure: the watcher (daemon/cert_watch.cc) reads both
// sides and carries the plan out; nothing else compares certificates.
//
// The rules (HAProxy 2.6.12, checked by hand and in tests/integration/tls_rotation_test.cc):
// - A loaded certificate whose file now holds another valid certificate (SHA-1 of the leaf differs from HAProxy's
//   "SHA1 FingerPrint") is replaced: "set ssl cert" + "commit ssl cert".
// - A crt-list (or "crt DIR" directory, which 2.6 keeps as a crt-list) line whose certificate HAProxy has not in
//   that list is added: "new ssl cert" (when not loaded) + set + commit + "add ssl crt-list".
// - A file that does not parse, lacks its key, or whose key does not match is refused; HAProxy keeps serving the old
//   certificate. Refused once per content: the same bytes are not judged (nor logged) again.
// - What the Runtime API cannot do exactly is left to a validated reload: an entry gone from a crt-list or a
//   directory (2.6's "del ssl crt-list" exists, but the entry's file is gone or its line order changed, and a
//   reload reproduces the file as written).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tls/certificate.h"
#include "tls/crt_list.h"

namespace hasg::tls {

// HAProxy's side.
struct ServedCert {
  std::string sha1;                  // "SHA1 FingerPrint"
  std::optional<int64_t> not_after;  // "notAfter", Unix seconds
  bool operator==(const ServedCert&) const = default;
};
struct ServedTls {
  std::map<std::string, ServedCert> certs;             // "show ssl cert": name -> what it serves
  std::map<std::string, std::set<std::string>> lists;  // "show ssl crt-list": crt-list or directory -> its certs
  bool operator==(const ServedTls&) const = default;
};

// The disk's side.
struct DiskCert {
  bool present = false;   // the file could be read
  std::string content;    // an identity of the bytes read (file and sidecar key): equal bytes, equal content
  std::string payload;    // what "set ssl cert" takes (runtime_payload)
  std::optional<CertificateInfo> info;  // set when valid
  std::string error;                    // why not, when not (the file's absence included)
  bool operator==(const DiskCert&) const = default;
};
struct DiskList {
  bool present = false;
  std::vector<CrtListEntry> entries;  // for a directory: one per certificate file HAProxy would load, no options
  std::string error;                  // unreadable or invalid crt-list
  bool operator==(const DiskList&) const = default;
};
struct DiskTls {
  std::map<std::string, DiskCert> certs;  // every served certificate, and every certificate a list names
  std::map<std::string, DiskList> lists;  // every served list
  bool operator==(const DiskTls&) const = default;
};

// Files refused (name -> the content refused), by this plan or by HAProxy at commit, so that the same bytes are
// refused once, not at every look.
using RefusedBook = std::map<std::string, std::string>;

enum class CertActionKind {
  Update,  // set + commit `file` with `payload`
  Add,     // (new when !loaded) + set + commit `file`, then add `line` to `list`
  Refuse,  // `file` is not pushed: `reason`
  Reload,  // the Runtime API cannot express it: `reason`
};

struct CertAction {
  CertActionKind kind = CertActionKind::Update;
  std::string file;      // the certificate, or the list for a Reload or a refused list
  std::string list;      // Add: the crt-list or directory
  std::string line;      // Add: the crt-list line
  bool loaded = false;   // Add: HAProxy already holds `file` (from another bind or list): no new/set/commit
  std::string payload;   // Update, Add
  std::string content;   // Update, Add, Refuse: the content judged (for the refused book)
  std::string reason;    // why: "CN=x replaces CN=y", the refusal, what needs the reload
  bool operator==(const CertAction&) const = default;
};

struct CertPlan {
  std::vector<CertAction> actions;  // updates first, then additions, refusals, reloads (one per list)
  RefusedBook refused;              // the book after this plan (entries of files now fine dropped)
  bool operator==(const CertPlan&) const = default;
};

CertPlan plan_certificates(const ServedTls& served, const DiskTls& disk, const RefusedBook& refused);

// The certificates a scan must read from disk: every served one and every one a served list names on disk.
std::set<std::string> certificates_to_read(const ServedTls& served, const std::map<std::string, DiskList>& lists);

}  // namespace hasg::tls
