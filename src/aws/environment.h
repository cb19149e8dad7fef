// Environment variables as an edge, so the credential chain, region and endpoint resolution are tested from maps.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace hasg::aws {

class Environment {
 public:
  virtual ~Environment() = default;
  // An unset or empty variable is nullopt, as the AWS SDKs treat them.
  virtual std::optional<std::string> get(const std::string& name) const = 0;
};

class ProcessEnvironment : public Environment {
 public:
  std::optional<std::string> get(const std::string& name) const override;
};

class MapEnvironment : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  std::optional<std::string> get(const std::string& name) const override;
  void set(const std::string& name, std::string value) { vars_[name] = std::move(value); }

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace hasg::aws
