// The AWS credential chain, in the SDKs' order: environment variables, the shared credentials and config files
// (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), then the instance profile through IMDSv2 only.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/clock.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/imds.h"
#include "aws/sigv4.h"
#include "util/result.h"

namespace hasg::aws {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current, unexpired credentials, or an error saying why none could be had (every source tried and why it failed).
  virtual Result<Credentials> get() = 0;
  // AWS refused the credentials `get` gave (expired or unknown token, an unknown key): forget them, so the next
  // get() looks for fresh ones. Fixed credentials have nothing to forget.
  virtual void invalidate() {}
};

// Fixed credentials (tests, and the simulator's own clients).
class StaticCredentialsProvider : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> get() override { return c_; }

 private:
  Credentials c_;
};

// The default chain. The source is chosen on first use, like the SDKs; IMDS credentials are cached and refreshed
// `refresh_before` ahead of their Expiration. When a refresh fails but the cached credentials are still valid, the
// cached ones are used (and the refresh is tried again on the next call).
// Credentials rotate while the daemon runs, which the SDKs' one-shot choice does not survive: credentials from the
// shared files are read again when either file changes (its inode, size or mtime: a stat() per call, cheaper than
// one failed call, and the new key is used before the old one is deactivated), and invalidate() (AWS said
// ExpiredToken or InvalidClientTokenId) walks the whole chain again, for what no stat can see (an instance
// profile's credentials revoked early, a file rewritten within one mtime tick). A changed file that cannot be read
// or parsed keeps the credentials in hand; it is read again on the next call.
class ChainCredentialsProvider : public CredentialsProvider {
 public:
  ChainCredentialsProvider(const Environment& env, HttpClient& http, const Clock& clock,
                           std::chrono::seconds refresh_before = std::chrono::minutes(15));
  Result<Credentials> get() override;
  void invalidate() override;

 private:
  enum class Source { Environment, SharedFiles, Imds };
  const Environment& env_;
  HttpClient& http_;
  const Clock& clock_;
  std::chrono::seconds refresh_before_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
  Source source_ = Source::Environment;
  std::string files_stamp_;  // shared_files_stamp() when cached_ was read from the files
  std::unique_ptr<ImdsClient> imds_;
};

// Region in the SDKs' order: AWS_REGION, AWS_DEFAULT_REGION, the config file's profile, then IMDS
// (placement/region). `imds` may be null (then IMDS is not asked).
Result<std::string> resolve_region(const Environment& env, ImdsClient* imds);

}  // namespace hasg::aws
