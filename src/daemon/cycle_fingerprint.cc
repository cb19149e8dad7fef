#include "daemon/cycle_fingerprint.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <memory>

namespace hasg::daemon {

namespace {

// Every field of these value types goes into the digest: one added without being hashed here could change a plan
// unseen. The sizes catch a new field at compile time (update fingerprint() with it, then the size).
static_assert(sizeof(core::Member) == 9 * sizeof(std::string) + 8, "core::Member changed: hash the new field below");
static_assert(sizeof(core::GroupMembers) ==
                  sizeof(std::string) + 8 + sizeof(std::vector<core::Member>) + sizeof(std::vector<core::RefusedValue>),
              "core::GroupMembers changed: hash the new field below");
// (ActualServer's last int, `id`, fits in the padding after its two bools: this one cannot see it, hashed below.)
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
// handed to SHA-256 in blocks of 16 KB (SHA-NI makes it ~1 GB/s: ~1 ms at 5,000 instances).
class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void num(long long v) { raw(&v, sizeof v); }
  void i32(int32_t v) { raw(&v, sizeof v); }
  void flag(bool b) {
    const unsigned char c = b ? 1 : 0;
    raw(&c, 1);
  }
  void str(std::string_view s) {
    const auto n = static_cast<uint32_t>(s.size());
    if (s.size() >= kBlock / 2) {  // a whole file: straight to SHA-256
      raw(&n, sizeof n);
      flush();
      EVP_DigestUpdate(ctx_.get(), s.data(), s.size());
      return;
    }
    if (used_ + sizeof n + s.size() > kBlock) flush();
    std::memcpy(buf_ + used_, &n, sizeof n);
    std::memcpy(buf_ + used_ + sizeof n, s.data(), s.size());
    used_ += sizeof n + s.size();
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
  void raw(const void* p, size_t n) {
    if (used_ + n > kBlock) flush();
    std::memcpy(buf_ + used_, p, n);
    used_ += n;
  }
  void flush() {
    if (used_ == 0) return;
    EVP_DigestUpdate(ctx_.get(), buf_, used_);
    used_ = 0;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  char buf_[kBlock];
  size_t used_ = 0;
};

}  // namespace

CycleFingerprint fingerprint(const CycleInputs& in) {
  Digest d;
  // The provider's generation stands for its members: equal generations, equal members (at 5,000 instances the
  // members are half of what is hashed).
  d.flag(in.groups_generation.has_value());
  if (in.groups_generation) d.num(static_cast<long long>(*in.groups_generation));
  d.num(static_cast<long long>(in.groups.size()));
  if (!in.groups_generation) {
    for (const auto& g : in.groups) {
      d.str(g.group);
      d.flag(g.found);
      d.num(static_cast<long long>(g.members.size()));
      for (const auto& m : g.members) {
        for (const std::string* f : {&m.instance_id, &m.group, &m.lifecycle_state, &m.health_status,
                                     &m.availability_zone, &m.instance_state, &m.private_ipv4, &m.ipv6,
                                     &m.not_served_reason})
          d.str(*f);
        d.flag(m.served);
      }
      d.num(static_cast<long long>(g.refused.size()));
      for (const auto& r : g.refused)
        for (const std::string* f : {&r.instance_id, &r.field, &r.value, &r.reason}) d.str(*f);
    }
  }
  d.str(in.template_text);
  d.str(in.current);
  d.flag(in.haproxy_running);
  d.num(static_cast<long long>(in.actual.size()));
  for (const auto& b : in.actual) {
    d.str(b.backend);
    d.flag(b.exists);
    d.num(static_cast<long long>(b.servers.size()));
    for (const auto& s : b.servers) {
      d.str(s.name);
      d.str(s.address);
      d.i32(s.port);
      d.i32(static_cast<int32_t>(s.admin));
      d.flag(s.up);
      d.i32(s.current_sessions);
      d.flag(s.check_enabled);
      d.flag(s.check_passed);
      d.i32(s.id);
    }
  }
  const core::ClusterView& c = in.cluster;
  d.flag(c.enabled);
  d.str(c.self);
  d.num(static_cast<long long>(c.nodes.size()));
  for (const auto& n : c.nodes) d.str(n);
  d.flag(c.complete);
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
  d.flag(s.reload_pending);
  d.str(s.reload_requested);
  d.num(static_cast<long long>(s.hooks.size()));
  for (const auto& [key, h] : s.hooks) {
    d.str(key);
    d.str(h.group);
    d.str(h.hook);
    d.str(h.transition);
    d.time(h.since);
    d.time(h.last_beat);
    d.flag(h.completed);
    d.flag(h.recorded);
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
