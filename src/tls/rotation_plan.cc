#include "tls/rotation_plan.h"

#include <algorithm>

namespace hasg::tls {

namespace {

std::string short_subject(const std::string& subject) {
  return subject.starts_with('/') ? subject.substr(1) : subject;
}

// Whether a file may be pushed. When not, it goes in the book, and a Refuse action is added the first time its
// content is refused.
struct Judge {
  const RefusedBook& before;
  RefusedBook& book;
  std::vector<CertAction>& refusals;

  bool acceptable(const std::string& name, const DiskCert* d) {
    if (d != nullptr && d->info) return true;
    const std::string content = d != nullptr && d->present ? d->content : "missing";
    std::string why = d != nullptr && !d->error.empty() ? d->error : "the file is missing";
    book[name] = content;
    auto old = before.find(name);
    if (old != before.end() && old->second == content) return false;  // already said
    CertAction a;
    a.kind = CertActionKind::Refuse;
    a.file = name;
    a.content = content;
    a.reason = std::move(why);
    refusals.push_back(std::move(a));
    return false;
  }

  // Valid bytes that HAProxy itself refused (the watcher books those): kept in the book, not tried again.
  bool refused_before(const std::string& name, const std::string& content) {
    auto old = before.find(name);
    if (old == before.end() || old->second != content) return false;
    book[name] = content;
    return true;
  }
};

}  // namespace

std::set<std::string> certificates_to_read(const ServedTls& served, const std::map<std::string, DiskList>& lists) {
  std::set<std::string> out;
  for (const auto& [name, c] : served.certs) out.insert(name);
  for (const auto& [list, _] : served.lists) {
    auto d = lists.find(list);
    if (d == lists.end()) continue;
    for (const auto& e : d->second.entries) out.insert(e.cert);
  }
  return out;
}

CertPlan plan_certificates(const ServedTls& served, const DiskTls& disk, const RefusedBook& refused) {
  CertPlan out;
  std::vector<CertAction> adds, refusals;
  Judge judge{refused, out.refused, refusals};
  auto disk_cert = [&](const std::string& name) -> const DiskCert* {
    auto it = disk.certs.find(name);
    return it == disk.certs.end() ? nullptr : &it->second;
  };

  // Loaded certificates whose file changed.
  for (const auto& [name, s] : served.certs) {
    const DiskCert* d = disk_cert(name);
    if (!judge.acceptable(name, d)) continue;
    if (d->info->sha1 == s.sha1) continue;
    if (judge.refused_before(name, d->content)) continue;  // HAProxy refused these bytes already
    CertAction a;
    a.kind = CertActionKind::Update;
    a.file = name;
    a.payload = d->payload;
    a.content = d->content;
    a.reason = short_subject(d->info->subject) + " (SHA-1 " + d->info->sha1 + ") replaces SHA-1 " + s.sha1;
    out.actions.push_back(std::move(a));
  }

  // Lists: entries added on disk go in at runtime; entries gone need a reload.
  std::vector<CertAction> reloads;
  std::set<std::string> added;  // certificates already new'd by an earlier Add of this plan
  for (const auto& [list, certs] : served.lists) {
    auto dl = disk.lists.find(list);
    if (dl == disk.lists.end()) continue;
    if (!dl->second.present || !dl->second.error.empty()) {
      DiskCert as_cert;  // judged like a file: refused once per error
      as_cert.present = dl->second.present;
      as_cert.content = "list:" + dl->second.error;
      as_cert.error = dl->second.error.empty() ? "the crt-list is missing" : dl->second.error;
      judge.acceptable(list, &as_cert);
      continue;
    }
    std::set<std::string> on_disk;
    for (const auto& e : dl->second.entries) {
      on_disk.insert(e.cert);
      if (certs.contains(e.cert)) continue;
      const bool loaded = served.certs.contains(e.cert) || added.contains(e.cert);
      if (!loaded) {
        if (!judge.acceptable(e.cert, disk_cert(e.cert))) continue;
        if (judge.refused_before(e.cert, disk_cert(e.cert)->content)) continue;
      }
      CertAction a;
      a.kind = CertActionKind::Add;
      a.file = e.cert;
      a.list = list;
      a.line = e.line;
      a.loaded = loaded;
      if (!loaded) {
        const DiskCert* d = disk_cert(e.cert);
        a.payload = d->payload;
        a.content = d->content;
        a.reason = "new in " + list + ": " + short_subject(d->info->subject);
        added.insert(e.cert);
      } else {
        a.reason = "new in " + list + " (already loaded)";
      }
      adds.push_back(std::move(a));
    }
    std::vector<std::string> gone;
    for (const auto& c : certs)
      if (!on_disk.contains(c)) gone.push_back(c);
    if (!gone.empty()) {
      CertAction a;
      a.kind = CertActionKind::Reload;
      a.file = list;
      a.reason = list + " no longer lists ";
      for (size_t i = 0; i < gone.size(); ++i) a.reason += (i ? ", " : "") + gone[i];
      reloads.push_back(std::move(a));
    }
  }
  out.actions.insert(out.actions.end(), adds.begin(), adds.end());
  out.actions.insert(out.actions.end(), refusals.begin(), refusals.end());
  out.actions.insert(out.actions.end(), reloads.begin(), reloads.end());
  return out;
}

}  // namespace hasg::tls
