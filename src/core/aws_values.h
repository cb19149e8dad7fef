// AWS's formats for the values discovery hands on to HAProxy. Instance ids and addresses from AWS become words of
// haproxy.cfg's server lines and of runtime API commands, both line protocols (a newline or ';' in a runtime command
// is a second command): a value that is not in AWS's own format is refused where it enters, never written.
#pragma once

#include <string>
#include <string_view>

namespace hasg::core {

// "i-" and 8 or 17 lower-case hex digits, as EC2 issues them (botocore's ec2 model: InstanceId; 17 since 2016).
bool is_instance_id(std::string_view s);
// An IPv4 address in dotted-quad form ("10.0.1.23"), as DescribeInstances' PrivateIpAddress gives it.
bool is_ipv4_address(std::string_view s);
// An IPv6 address without brackets, zone or prefix ("2600:1f18::1"), as Ipv6Address gives it.
bool is_ipv6_address(std::string_view s);
// No control character (newline, carriage return, tab, NUL, DEL...): a value that stays on its line. Auto Scaling's
// group names may hold "\r\n\t" (XmlStringMaxLen255's pattern) but cannot then be written into haproxy.cfg's marker
// comment; spaces are fine there.
bool is_one_line(std::string_view s);
// A value as one log line can show it: control bytes and backslashes as \xNN, cut after `max` bytes with "...".
std::string printable(std::string_view s, size_t max = 80);

}  // namespace hasg::core
