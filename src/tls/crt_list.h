// The files HAProxy 2.6 loads certificates from, read as HAProxy reads them: crt-base resolution, crt-list files,
// and the directories of "bind ... crt DIR". Pure text functions; the disk is read by the caller.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace hasg::tls {

// The last "crt-base DIR" of the configuration's global sections ("" when none). HAProxy prefixes it to every
// relative "crt" argument and crt-list entry (seen on 2.6.12: "l1.pem" in a crt-list under "crt-base /x" is
// "/x/l1.pem" in "show ssl crt-list").
std::string crt_base_of(std::string_view config);
// `path` as HAProxy names it: unchanged when absolute or without a crt-base, else crt_base + "/" + path.
std::string resolve_crt_path(std::string_view path, std::string_view crt_base);

// One certificate line of a crt-list file: "<crtfile> [[bind options]] [[!]sni filter ...]".
struct CrtListEntry {
  std::string cert;   // the certificate as HAProxy names it (crt-base applied)
  std::string line;   // the line with that name in place of the written path, for "add ssl crt-list LIST <<"
  int line_no = 0;
  bool operator==(const CrtListEntry&) const = default;
};

// The certificate lines of a crt-list (comments and empty lines skipped). An Error ("CrtListInvalid") names the
// file and line of a "[" without its "]".
Result<std::vector<CrtListEntry>> parse_crt_list(std::string_view text, std::string_view crt_base,
                                                 const std::string& filename);

// Whether HAProxy 2.6 loads a file of this name from a "crt DIR" directory: not the extra files it loads beside a
// certificate (.key, .ocsp, .issuer, .sctl) and not hidden files.
bool loaded_from_directory(std::string_view file_name);

}  // namespace hasg::tls
