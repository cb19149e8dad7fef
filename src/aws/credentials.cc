#include "aws/credentials.h"

#include <variant>
#include <vector>

#include "aws/endpoints.h"
#include "aws/shared_config.h"
#include "util/strings.h"

namespace hasg::aws {

namespace {

// What one source of the chain found: credentials, a reason to try the next source, or an error that ends the
// chain (the user configured this source and it is broken; falling through would silently use other credentials).
struct NotFound {
  std::string reason;
};
using SourceResult = std::variant<Credentials, NotFound, Error>;

Error no_credentials(const std::string& message) {
  return make_error("NoCredentials", "no AWS credentials: " + message);
}

SourceResult from_environment(const Environment& env) {
  auto id = env.get("AWS_ACCESS_KEY_ID");
  auto secret = env.get("AWS_SECRET_ACCESS_KEY");
  if (id && !secret) return no_credentials("environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  if (!id && secret) return no_credentials("environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (!id) return NotFound{"AWS_ACCESS_KEY_ID not set"};
  Credentials c;
  c.access_key_id = *id;
  c.secret_access_key = *secret;
  c.session_token = env.get("AWS_SESSION_TOKEN").value_or("");
  c.source = "environment";
  return c;
}

std::string where(const SharedFiles& f) {
  auto show = [](const std::string& p) { return p.empty() ? std::string("(no path: HOME not set)") : p; };
  return show(f.credentials_path) + " or " + show(f.config_path);
}

SourceResult from_shared_files(const Environment& env) {
  SharedFiles f = shared_files(env);
  auto loaded = load_profile(env);
  if (!loaded) return no_credentials("shared files: " + loaded.error().message);
  const std::string pname = "profile '" + f.profile + "'";
  if (!loaded->has_value()) {
    std::string msg = pname + " not found in " + where(f);
    // An explicitly chosen profile must exist (botocore and the other SDKs fail too); the implicit "default" is
    // simply absent on most servers.
    if (env.get("AWS_PROFILE")) return no_credentials("shared files: AWS_PROFILE names " + msg);
    return NotFound{msg};
  }
  const Profile& p = **loaded;
  auto val = [&](const char* k) {
    auto it = p.find(k);
    return it == p.end() ? std::string() : std::string(trim(it->second));
  };
  std::string id = val("aws_access_key_id"), secret = val("aws_secret_access_key");
  if (!id.empty() && secret.empty())
    return no_credentials("shared files: " + pname + " has aws_access_key_id but no aws_secret_access_key");
  if (id.empty() && !secret.empty())
    return no_credentials("shared files: " + pname + " has aws_secret_access_key but no aws_access_key_id");
  if (id.empty()) {
    // Sources this program does not implement: say so rather than fall through to IMDS with other credentials.
    for (const auto& [k, v] : p) {
      if (k == "role_arn" || k == "source_profile" || k == "credential_process" || k == "web_identity_token_file" ||
          k == "credential_source" || k.starts_with("sso_")) {
        return no_credentials("shared files: " + pname + " uses '" + k +
                              "', a credential source haproxy-asg does not support; give the profile static keys "
                              "(aws_access_key_id, aws_secret_access_key), set AWS_ACCESS_KEY_ID and "
                              "AWS_SECRET_ACCESS_KEY, or use an instance profile");
      }
    }
    return NotFound{pname + " has no aws_access_key_id"};
  }
  Credentials c;
  c.access_key_id = std::move(id);
  c.secret_access_key = std::move(secret);
  c.session_token = val("aws_session_token");
  c.source = "shared file (profile " + f.profile + ")";
  return c;
}

}  // namespace

ChainCredentialsProvider::ChainCredentialsProvider(const Environment& env, HttpClient& http, const Clock& clock,
                                                   std::chrono::seconds refresh_before)
    : env_(env), http_(http), clock_(clock), refresh_before_(refresh_before) {}

Result<Credentials> ChainCredentialsProvider::get() {
  std::lock_guard lock(mu_);
  auto now = clock_.now();

  if (cached_ && source_ == Source::Environment) return *cached_;  // the environment does not change
  if (cached_ && source_ == Source::SharedFiles) {
    std::string stamp = shared_files_stamp(env_);
    if (stamp == files_stamp_) return *cached_;
    // Rotated on disk. Stamped before reading, so a write racing this read is seen by the next call.
    auto fresh = from_shared_files(env_);
    if (auto* c = std::get_if<Credentials>(&fresh)) {
      cached_ = std::move(*c);
      files_stamp_ = std::move(stamp);
    }
    return *cached_;
  }
  if (cached_ && source_ == Source::Imds) {
    if (!cached_->expiration || now < *cached_->expiration - refresh_before_) return *cached_;
    auto fresh = imds_->instance_credentials();
    if (fresh) {
      cached_ = std::move(*fresh);
      return *cached_;
    }
    // IMDS hiccups must not stop the daemon while the credentials in hand still work; the next call tries again.
    if (now < *cached_->expiration) return *cached_;
    return no_credentials("the instance profile credentials expired and refreshing them failed: " +
                          fresh.error().to_string());
  }

  std::vector<std::string> reasons;
  for (int source = 0; source < 2; ++source) {
    std::string stamp = source == 1 ? shared_files_stamp(env_) : std::string();
    SourceResult r = source == 0 ? from_environment(env_) : from_shared_files(env_);
    if (auto* c = std::get_if<Credentials>(&r)) {
      cached_ = std::move(*c);
      source_ = source == 0 ? Source::Environment : Source::SharedFiles;
      files_stamp_ = std::move(stamp);
      return *cached_;
    }
    if (auto* e = std::get_if<Error>(&r)) return *e;
    reasons.push_back((source == 0 ? "environment: " : "shared files: ") + std::get<NotFound>(r).reason);
  }

  auto endpoint = ImdsClient::endpoint_from(env_);
  if (!endpoint) {
    reasons.push_back("IMDS: disabled by AWS_EC2_METADATA_DISABLED");
  } else {
    if (!imds_) imds_ = std::make_unique<ImdsClient>(http_, *endpoint, clock_);
    auto c = imds_->instance_credentials();
    if (c) {
      cached_ = std::move(*c);
      source_ = Source::Imds;
      return *cached_;
    }
    reasons.push_back("IMDS (" + *endpoint + "): " + c.error().message);
  }
  std::string msg;
  for (const auto& r : reasons) msg += (msg.empty() ? "" : "; ") + r;
  return no_credentials(msg);
}

void ChainCredentialsProvider::invalidate() {
  std::lock_guard lock(mu_);
  cached_.reset();
}

Result<std::string> resolve_region(const Environment& env, ImdsClient* imds) {
  auto checked = [](const std::string& r, const std::string& from) -> Result<std::string> {
    if (!is_valid_region(r)) return make_error("InvalidRegion", from + ": '" + r + "' is not a valid AWS region");
    return r;
  };
  if (auto r = env.get("AWS_REGION")) return checked(std::string(trim(*r)), "AWS_REGION");
  if (auto r = env.get("AWS_DEFAULT_REGION")) return checked(std::string(trim(*r)), "AWS_DEFAULT_REGION");

  SharedFiles f = shared_files(env);
  auto loaded = load_profile(env);
  if (!loaded) return loaded.error();
  if (!loaded->has_value() && env.get("AWS_PROFILE"))
    return make_error("NoRegion",
                      "AWS_PROFILE names profile '" + f.profile + "', which is not in " + where(f));
  if (loaded->has_value()) {
    if (auto it = (*loaded)->find("region"); it != (*loaded)->end() && !trim(it->second).empty())
      return checked(std::string(trim(it->second)), "region of profile '" + f.profile + "'");
  }

  std::string why = "AWS_REGION, AWS_DEFAULT_REGION and the region of profile '" + f.profile + "' are not set";
  if (imds != nullptr) {
    auto r = imds->region();
    if (r) return checked(*r, "IMDS placement/region");
    why += "; IMDS: " + r.error().message;
  }
  return make_error("NoRegion", "no AWS region: set AWS_REGION (e.g. AWS_REGION=eu-west-1); " + why);
}

}  // namespace hasg::aws
