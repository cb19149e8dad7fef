#include "daemon/cycle_fingerprint.h"

#include <openssl/evp.h>

#include <memory>

namespace hasg::daemon {

namespace {

// Every field of these value types goes into the digest: one added without being hashed here could change a plan
// unseen. The sizes catch a new field at compile time (update fingerprint() with it, then the size).
static_assert(sizeof(core::Member) == 9 * sizeof(std::string) + 8, "core::Member changed: hash the new field below");
static_assert(sizeof(core::GroupMembers) == sizeof(std::string) + 8 + sizeof(std::vector<core::Member>),
              "core::GroupMembers changed: hash the new field below");
static_assert(sizeof(core::ActualServer) == 2 * sizeof(std::string) + 24,
              "core::ActualServer changed: hash the new field below");
static_assert(sizeof(core::ActualBackend) == sizeof(std::string) + 8 + sizeof(std::vector<core::ActualServer>),
              "core::ActualBackend changed: hash the new field below");
static_assert(sizeof(core::HookWait) == 3 * sizeof(std::string) + 2 * sizeof(core::TimePoint) + 8,
              "core::HookWait changed: hash the new field below");
static_assert(sizeof(core::ClusterView) == 2 * 8 + sizeof(std::string) + sizeof(std::set<std::string>) +
                                                sizeof(std::map<std::string, std::set<std::string>>),
              "core::ClusterView changed: hash the new field below");
static_assert(sizeof(core::SyncState) == sizeof(core::DrainBook) + 8 + sizeof(std::string) + sizeof(core::HookBook) +
                                              sizeof(std::map<std::string, core::TimePoint>) +
                                              sizeof(std::set<std::string>),
              "core::SyncState changed: hash the new field below");

// Fields are length-prefixed, so that ("ab", "c") and ("a", "bc") differ; small writes are gathered in a buffer and
// handed to SHA-256 in blocks of 16 KB.
class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
    buf_.reserve(kBlock + 256);
  }
  void num(long long v) { raw(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(std::string_view s) {
    num(static_cast<long long>(s.size()));
    if (s.size() > kBlock) {
      flush();
      EVP_DigestUpdate(ctx_.get(), s.data(), s.size());
      return;
    }
    raw(s.data(), s.size());
  }
  void time(core::TimePoint t) { num(static_cast<long long>(t.time_since_epoch().count())); }
  CycleFingerprint finish() {
    flush();
    CycleFingerprint out{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), out.data(), &len);
    return out;
  }

 private:
  static constexpr size_t kBlock = 16 * 1024;
  void raw(const char* p, size_t n) {
    buf_.append(p, n);
    if (buf_.size() >= kBlock) flush();
  }
  void flush() {
    if (buf_.empty()) return;
    EVP_DigestUpdate(ctx_.get(), buf_.data(), buf_.size());
    buf_.clear();
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  std::string buf_;
};

}  // namespace

CycleFingerprint fingerprint(const CycleInputs& in) {
  Digest d;
  d.num(static_cast<long long>(in.groups.size()));
  for (const auto& g : in.groups) {
    d.str(g.group);
    d.num(g.found);
    d.num(static_cast<long long>(g.members.size()));
    for (const auto& m : g.members) {
      for (const std::string* f : {&m.instance_id, &m.group, &m.lifecycle_state, &m.health_status,
                                   &m.availability_zone, &m.instance_state, &m.private_ipv4, &m.ipv6,
                                   &m.not_served_reason})
        d.str(*f);
      d.num(m.served);
    }
  }
  d.str(in.template_text);
  d.str(in.current);
  d.num(in.haproxy_running);
  d.num(static_cast<long long>(in.actual.size()));
  for (const auto& b : in.actual) {
    d.str(b.backend);
    d.num(b.exists);
    d.num(static_cast<long long>(b.servers.size()));
    for (const auto& s : b.servers) {
      d.str(s.name);
      d.str(s.address);
      d.num(s.port);
      d.num(static_cast<long long>(s.admin));
      d.num(s.up);
      d.num(s.current_sessions);
      d.num(s.check_enabled);
      d.num(s.check_passed);
    }
  }
  const core::ClusterView& c = in.cluster;
  d.num(c.enabled);
  d.str(c.self);
  d.num(static_cast<long long>(c.nodes.size()));
  for (const auto& n : c.nodes) d.str(n);
  d.num(c.complete);
  d.num(static_cast<long long>(c.drained.size()));
  for (const auto& [instance, nodes] : c.drained) {
    d.str(instance);
    d.num(static_cast<long long>(nodes.size()));
    for (const auto& n : nodes) d.str(n);
  }
  d.num(static_cast<long long>(in.heartbeat_timeouts.size()));
  for (auto t : in.heartbeat_timeouts) d.num(t.count());

  const core::SyncState& s = in.state;
  d.num(static_cast<long long>(s.drains.size()));
  for (const auto& [key, rec] : s.drains) {
    d.str(key);
    d.time(rec.since);
  }
  d.num(s.reload_pending);
  d.str(s.reload_requested);
  d.num(static_cast<long long>(s.hooks.size()));
  for (const auto& [key, h] : s.hooks) {
    d.str(key);
    d.str(h.group);
    d.str(h.hook);
    d.str(h.transition);
    d.time(h.since);
    d.time(h.last_beat);
    d.num(h.completed);
    d.num(h.recorded);
  }
  d.num(static_cast<long long>(s.down_since.size()));
  for (const auto& [key, t] : s.down_since) {
    d.str(key);
    d.time(t);
  }
  d.num(static_cast<long long>(s.reported.size()));
  for (const auto& key : s.reported) d.str(key);
  return d.finish();
}

}  // namespace hasg::daemon
