#include "daemon/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace hasg::daemon {
namespace {

bool valid_metric_name(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool valid_label_name(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  // Names starting with "__" are reserved for Prometheus' internal use.
  return s.rfind("__", 0) != 0;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string escape(const std::string& s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// {a="1",b="2"} (with an optional trailing le="..."), or nothing when there are no labels at all.
std::string label_text(const Labels& labels, const std::string* le = nullptr) {
  if (labels.empty() && le == nullptr) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escape(v, true);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
  return out;
}

[[noreturn]] void misuse(const std::string& what) { throw std::logic_error("metrics: " + what); }

}  // namespace

const char* Metrics::type_name(Type t) {
  switch (t) {
    case Type::Counter: return "counter";
    case Type::Gauge: return "gauge";
    case Type::Histogram: return "histogram";
  }
  return "untyped";
}

std::string Metrics::format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // also -0
  constexpr double kExact = 9007199254740992.0;  // 2^53: every integer below is exact
  if (std::trunc(v) == v && std::fabs(v) < kExact) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest representation that round-trips
  if (ec != std::errc()) return "NaN";                       // cannot happen with 64 bytes
  return std::string(buf, end);
}

void Metrics::counter(const std::string& name, const std::string& help) { declare(name, help, Type::Counter, {}); }

void Metrics::gauge(const std::string& name, const std::string& help) { declare(name, help, Type::Gauge, {}); }

void Metrics::histogram(const std::string& name, const std::string& help, std::vector<double> buckets) {
  if (buckets.empty()) buckets = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  for (double b : buckets) {
    if (std::isnan(b)) misuse("histogram " + name + ": a bucket bound is NaN");
  }
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  if (!buckets.empty() && std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();  // implied
  declare(name, help, Type::Histogram, std::move(buckets));
}

void Metrics::declare(const std::string& name, const std::string& help, Type type, std::vector<double> buckets) {
  if (!valid_metric_name(name)) misuse("invalid metric name \"" + name + "\"");
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.type != type) {
      misuse(name + " is already declared as a " + type_name(it->second.type) + ", not a " +
             type_name(type));
    }
    return;
  }
  Family f;
  f.type = type;
  f.help = help;
  f.buckets = std::move(buckets);
  families_.emplace(name, std::move(f));
}

Metrics::Family& Metrics::family_locked(const std::string& name, const char* op) {
  auto it = families_.find(name);
  if (it == families_.end()) misuse(std::string(op) + " on undeclared metric \"" + name + "\"");
  return it->second;
}

Metrics::Series& Metrics::series_locked(Family& f, const std::string& name, const Labels& labels) {
  auto it = f.series.find(labels);
  if (it != f.series.end()) return it->second;
  for (const auto& [k, v] : labels) {
    if (!valid_label_name(k)) misuse(name + ": invalid label name \"" + k + "\"");
    if (f.type == Type::Histogram && k == "le") misuse(name + ": a histogram cannot have a label named \"le\"");
  }
  Series s;
  if (f.type == Type::Histogram) s.bucket.assign(f.buckets.size() + 1, 0);
  return f.series.emplace(labels, std::move(s)).first->second;
}

void Metrics::inc(const std::string& name, const Labels& labels, double by) {
  std::lock_guard lock(mu_);
  Family& f = family_locked(name, "inc");
  if (f.type == Type::Histogram) misuse("inc on histogram \"" + name + "\" (use observe)");
  if (f.type == Type::Counter && !(by >= 0)) misuse("counter \"" + name + "\" incremented by " + format_value(by));
  series_locked(f, name, labels).value += by;
}

void Metrics::set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  Family& f = family_locked(name, "set");
  if (f.type != Type::Gauge) misuse("set on \"" + name + "\", which is not a gauge");
  series_locked(f, name, labels).value = value;
}

void Metrics::observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  Family& f = family_locked(name, "observe");
  if (f.type != Type::Histogram) misuse("observe on \"" + name + "\", which is not a histogram");
  Series& s = series_locked(f, name, labels);
  // The first bucket whose upper bound is >= value; past the end is +Inf (also where NaN lands).
  size_t i = f.buckets.size();
  if (!std::isnan(value)) {
    i = static_cast<size_t>(std::lower_bound(f.buckets.begin(), f.buckets.end(), value) - f.buckets.begin());
  }
  s.bucket[i] += 1;
  s.count += 1;
  s.value += value;
}

void Metrics::clear(const std::string& name) {
  std::lock_guard lock(mu_);
  family_locked(name, "clear").series.clear();
}

const Metrics::Series* Metrics::find_locked(const std::string& name, const Labels& labels) const {
  auto f = families_.find(name);
  if (f == families_.end()) return nullptr;
  auto s = f->second.series.find(labels);
  return s == f->second.series.end() ? nullptr : &s->second;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  const Series* s = find_locked(name, labels);
  return s ? s->value : 0;
}

uint64_t Metrics::count(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  const Series* s = find_locked(name, labels);
  return s ? s->count : 0;
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + escape(f.help, false) + "\n";
    out += "# TYPE " + name + " " + type_name(f.type) + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::Histogram) {
        out += name + label_text(labels) + " " + format_value(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= f.buckets.size(); ++i) {
        cumulative += s.bucket[i];
        std::string le = i < f.buckets.size() ? format_value(f.buckets[i]) : "+Inf";
        out += name + "_bucket" + label_text(labels, &le) + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + label_text(labels) + " " + format_value(s.value) + "\n";
      out += name + "_count" + label_text(labels) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace hasg::daemon
