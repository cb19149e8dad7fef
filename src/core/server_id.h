// Stable numeric server ids, derived from the instance id alone, so that every load balancer of a cluster gives the
// same instance the same HAProxy server `id` and consistent hashing sends a key to the same instance from each of
// them. Pure.
//
// Why the id matters (HAProxy 2.6 src/lb_chash.c, src/server.c srv_alloc_lb()): with `hash-type consistent` a
// server's points on the ring are full_hash(puid * SRV_EWGHT_RANGE + n) for n below its weight x 16, where puid is
// its numeric id. A server added at runtime without `id` takes the lowest free id, so two nodes that added the same
// instances in another order would place them differently on the ring. 2.6 has no `hash-key` server keyword (it
// came later): the id is the only handle.
//
// The range: SRV_EWGHT_RANGE is 4096 (256 x BE_WEIGHT_SCALE 16) and the product is an int wrapping at 2^32
// (HAProxy builds with -fwrapv), so only puid mod 2^20 reaches the ring: two ids 2^20 apart would have the very same
// points. Ids are therefore kept below 2^20, and at or above 2^16, clear of the small ids HAProxy gives the
// template's own servers (the lowest free ones, from 1). HAProxy takes any id > 0 (srv_parse_id()).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hasg::core {

inline constexpr int kServerIdMin = 1 << 16;  // 65536
inline constexpr int kServerIdEnd = 1 << 20;  // 1048576, one past the largest
inline constexpr int kServerIdSpan = kServerIdEnd - kServerIdMin;

// Whether an id is one haproxy-asg gives (in [kServerIdMin, kServerIdEnd)).
inline bool is_stable_server_id(int id) { return id >= kServerIdMin && id < kServerIdEnd; }

// 64-bit FNV-1a of the instance id.
std::uint64_t fnv1a64(std::string_view s);

// The instance's k-th candidate id: kServerIdMin + (fnv1a64(instance) + k) mod kServerIdSpan (linear probing).
// Candidate 0 is its stable id; the later ones are only used when an earlier one is taken in its backend.
int server_id_candidate(std::string_view instance, int k = 0);

// Ids for servers new to one backend. `names` are taken in sorted order, and each gets its first candidate not in
// `taken` nor given to an earlier name. So a set of instances added together gets the same ids on every node
// whatever the order they were listed in; an instance whose stable id is held by another server still gets an id.
std::map<std::string, int> assign_server_ids(std::vector<std::string> names, const std::set<int>& taken);

}  // namespace hasg::core
