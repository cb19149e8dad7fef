// The renderer: the template's lines are kept byte for byte, managed servers land at the end of their section,
// and structure_of() separates what needs a reload (options, port) from what the runtime API applies (membership).
#include "haproxy/renderer.h"

#include <gtest/gtest.h>

namespace hasg::haproxy {
namespace {

using core::DesiredServer;

const char* kTemplate = R"(# Global settings
global
    log /dev/log local0
    stats socket /run/haproxy/admin.sock mode 660 level admin

defaults
	mode http   # a tab-indented line
	timeout connect 5s

frontend www
    bind 127.0.0.1:8080
    default_backend app

# The application servers
backend app
    balance roundrobin
    # a comment inside the section
    option httpchk GET /health

    # trailing comment, about what follows

# The static servers
backend static
    server s1 127.0.0.1:9001 check
    server s2 127.0.0.1:9002

listen stats
    bind 127.0.0.1:8404
    stats enable
)";

ManagedBackend app(std::vector<DesiredServer> servers, std::string options = "check inter 2s", int port = 80) {
  return ManagedBackend{"app", "app-asg", port, std::move(options), std::move(servers)};
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

TEST(Render, WritesEachServersId) {
  auto r = render(kTemplate, "haproxy.cfg.template",
                  {app({{"i-0bbb", "127.0.0.3", 80, 700001}, {"i-0abc", "127.0.0.2", 80, 65536}})});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_NE(r->find("    server i-0abc 127.0.0.2:80 id 65536 check inter 2s\n"
                    "    server i-0bbb 127.0.0.3:80 id 700001 check inter 2s\n"),
            std::string::npos)
      << *r;
  // The id is a server line's, not the structure's: a reload is not asked for because ids differ.
  auto other = render(kTemplate, "haproxy.cfg.template", {app({{"i-0abc", "127.0.0.2", 80, 70000}})});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(structure_of(*r), structure_of(*other));
}

const char* kPeersTemplate = R"(global
    log /dev/log local0

peers lb
    # filled by haproxy-asg

backend app
    balance roundrobin
    stick-table type string len 32 size 1k store gpc0 peers lb
)";

ManagedPeers lb_peers(std::vector<DesiredServer> nodes, std::string self = "i-0node1") {
  return ManagedPeers{"lb", "haproxy-lb", 10000, std::move(self), std::move(nodes)};
}

TEST(RenderPeers, FillsThePeersSectionAndNamesTheLocalPeer) {
  auto peers = lb_peers({{"i-0node2", "127.0.1.3", 0}, {"i-0node1", "127.0.1.2", 0}});
  auto r = render(kPeersTemplate, "t.cfg", {app({{"i-0abc", "127.0.0.2", 80}})}, &peers);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, R"(global
    log /dev/log local0
    # haproxy-asg: this node's name in peers lb (managed; do not edit)
    localpeer i-0node1

peers lb
    # haproxy-asg: peers of cluster group haproxy-lb, port 10000 (managed; do not edit)
    peer i-0node1 127.0.1.2:10000
    peer i-0node2 127.0.1.3:10000
    # filled by haproxy-asg

backend app
    balance roundrobin
    stick-table type string len 32 size 1k store gpc0 peers lb
    # haproxy-asg: group app-asg, port 80, options: check inter 2s (managed; do not edit)
    server i-0abc 127.0.0.2:80 check inter 2s
)");
  // The peers are structure (a change takes a reload), unlike the servers.
  auto fewer = lb_peers({{"i-0node1", "127.0.1.2", 0}});
  auto r2 = render(kPeersTemplate, "t.cfg", {app({{"i-0abc", "127.0.0.2", 80}})}, &fewer);
  ASSERT_TRUE(r2.ok());
  EXPECT_NE(structure_of(*r), structure_of(*r2));
  auto same = lb_peers({{"i-0node1", "127.0.1.2", 0}, {"i-0node2", "127.0.1.3", 0}});
  auto r3 = render(kPeersTemplate, "t.cfg", {app({{"i-0def", "127.0.0.5", 80}})}, &same);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(structure_of(*r), structure_of(*r3));
}

TEST(RenderPeers, TemplateMistakesAreNamed) {
  auto peers = lb_peers({{"i-0node1", "127.0.1.2", 0}});
  auto err = [&](const std::string& tmpl) {
    auto r = render(tmpl, "t.cfg", {app({})}, &peers);
    EXPECT_FALSE(r.ok()) << tmpl;
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_EQ(err("global\nbackend app\n"), "t.cfg: no 'peers lb' section for cluster.peers.section 'lb'");
  EXPECT_NE(err("peers lb\nglobal\nbackend app\n").find("needs a global section before it"), std::string::npos);
  EXPECT_NE(err("backend app\npeers lb\n").find("needs a global section before it"), std::string::npos);
  EXPECT_EQ(err("global\n    localpeer me\npeers lb\nbackend app\n"),
            "t.cfg:2: remove 'localpeer': with cluster.peers haproxy-asg writes this node's own (its node id)");
}

TEST(Render, InsertsAtTheEndOfTheSectionAndKeepsEveryOtherLine) {
  auto r = render(kTemplate, "haproxy.cfg.template",
                  {app({{"i-0bbb", "127.0.0.3", 80}, {"i-0abc", "127.0.0.2", 80}})});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const std::string expected = R"(# Global settings
global
    log /dev/log local0
    stats socket /run/haproxy/admin.sock mode 660 level admin

defaults
	mode http   # a tab-indented line
	timeout connect 5s

frontend www
    bind 127.0.0.1:8080
    default_backend app

# The application servers
backend app
    balance roundrobin
    # a comment inside the section
    option httpchk GET /health
    # haproxy-asg: group app-asg, port 80, options: check inter 2s (managed; do not edit)
    server i-0abc 127.0.0.2:80 check inter 2s
    server i-0bbb 127.0.0.3:80 check inter 2s

    # trailing comment, about what follows

# The static servers
backend static
    server s1 127.0.0.1:9001 check
    server s2 127.0.0.1:9002

listen stats
    bind 127.0.0.1:8404
    stats enable
)";
  EXPECT_EQ(*r, expected);

  // Every template line is in the output, byte-identical and in order.
  auto in = lines(kTemplate), out = lines(*r);
  size_t j = 0;
  for (const auto& l : in) {
    while (j < out.size() && out[j] != l) ++j;
    ASSERT_LT(j, out.size()) << "template line lost or changed: " << l;
    ++j;
  }
  EXPECT_EQ(out.size(), in.size() + 3);
}

TEST(Render, NoServersStillWritesTheMarker) {
  auto r = render(kTemplate, "t", {app({})});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_NE(r->find("    option httpchk GET /health\n    # haproxy-asg: group app-asg, port 80, options: check inter "
                    "2s (managed; do not edit)\n\n"),
            std::string::npos)
      << *r;
}

TEST(Render, EmptyOptionsLeaveNoTrailingSpace) {
  auto r = render(kTemplate, "t", {app({{"i-1", "10.0.0.1", 0}}, "")});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_NE(r->find("    # haproxy-asg: group app-asg, port 80, options: none (managed; do not edit)\n"
                    "    server i-1 10.0.0.1:80\n"),
            std::string::npos)
      << *r;
}

TEST(Render, BackendAtEndOfFileWithoutTrailingNewline) {
  auto r = render("global\n    maxconn 100\nbackend app\n    balance first", "t", {app({{"i-1", "127.0.0.2", 80}})});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r,
            "global\n    maxconn 100\nbackend app\n    balance first\n"
            "    # haproxy-asg: group app-asg, port 80, options: check inter 2s (managed; do not edit)\n"
            "    server i-1 127.0.0.2:80 check inter 2s\n");
  // A bare header as the last line.
  auto bare = render("backend app", "t", {app({{"i-1", "127.0.0.2", 80}}, "")});
  ASSERT_TRUE(bare.ok()) << bare.error().to_string();
  EXPECT_EQ(*bare,
            "backend app\n    # haproxy-asg: group app-asg, port 80, options: none (managed; do not edit)\n"
            "    server i-1 127.0.0.2:80\n");
}

TEST(Render, KeepsTrailingNewlineAndUnmanagedTemplatesUnchanged) {
  auto r = render(kTemplate, "t", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, kTemplate);
  auto no_nl = render("global\n    maxconn 10", "t", {});
  ASSERT_TRUE(no_nl.ok());
  EXPECT_EQ(*no_nl, "global\n    maxconn 10\n");
}

TEST(Render, ListenSectionsAndIndentedHeaders) {
  ManagedBackend stats{"stats", "g", 8000, "", {{"i-2", "127.0.0.5", 8000}}};
  auto r = render(kTemplate, "t", {stats});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_NE(r->find("    stats enable\n    # haproxy-asg: group g, port 8000, options: none (managed; do not edit)\n"
                    "    server i-2 127.0.0.5:8000\n"),
            std::string::npos)
      << *r;

  // An indented section header still starts a section (HAProxy allows it).
  auto ind = render("  backend app\n    balance first\n  backend other\n    balance first\n", "t",
                    {app({{"i-1", "127.0.0.2", 80}}, "")});
  ASSERT_TRUE(ind.ok()) << ind.error().to_string();
  EXPECT_EQ(*ind,
            "  backend app\n    balance first\n"
            "    # haproxy-asg: group app-asg, port 80, options: none (managed; do not edit)\n"
            "    server i-1 127.0.0.2:80\n"
            "  backend other\n    balance first\n");
}

TEST(Render, SeveralManagedBackends) {
  ManagedBackend st{"static", "g2", 9000, "check", {{"i-9", "127.0.0.9", 0}}};
  auto r = render(kTemplate, "t", {st, app({{"i-1", "127.0.0.2", 8080}})});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_NE(r->find("    server i-1 127.0.0.2:8080 check inter 2s\n"), std::string::npos);  // the server's own port
  EXPECT_NE(r->find("    server s2 127.0.0.1:9002\n"
                    "    # haproxy-asg: group g2, port 9000, options: check (managed; do not edit)\n"
                    "    server i-9 127.0.0.9:9000 check\n\nlisten stats\n"),
            std::string::npos)
      << *r;
}

TEST(Render, IPv6Addresses) {
  EXPECT_EQ(core::endpoint("127.0.0.2", 80), "127.0.0.2:80");
  EXPECT_EQ(core::endpoint("::1", 80), "[::1]:80");
  EXPECT_EQ(core::endpoint("2600:1f18:abcd::12", 8443), "[2600:1f18:abcd::12]:8443");
  EXPECT_EQ(core::endpoint("[::1]", 80), "[::1]:80");
  auto r = render("backend app\n", "t", {app({{"i-6", "::1", 80}}, "")});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("    server i-6 [::1]:80\n"), std::string::npos) << *r;
}

TEST(Render, Errors) {
  auto missing = render(kTemplate, "haproxy.cfg.template", {ManagedBackend{"api", "g", 80, "", {}}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "haproxy.cfg.template: no 'backend api' section for managed backend 'api'");

  // A frontend of that name is not a backend.
  EXPECT_FALSE(render(kTemplate, "t", {ManagedBackend{"www", "g", 80, "", {}}}).ok());

  auto empty = render(" \n\n", "haproxy.cfg.template", {});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("haproxy.cfg.template: the template is empty"), std::string::npos);

  auto twice = render(kTemplate, "t", {app({}), app({})});
  EXPECT_FALSE(twice.ok());

  // Rendering a rendered file would duplicate the servers.
  auto once = render(kTemplate, "t", {app({{"i-1", "127.0.0.2", 80}})});
  ASSERT_TRUE(once.ok());
  auto again = render(*once, "haproxy.cfg", {app({{"i-1", "127.0.0.2", 80}})});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("haproxy.cfg:19: the template already holds haproxy-asg's managed servers"),
            std::string::npos)
      << again.error().message;

  auto bad_name = render(kTemplate, "t", {app({{"i 1", "127.0.0.2", 80}})});
  EXPECT_FALSE(bad_name.ok());
  auto unnamed = render("backend\n    balance first\n", "t", {});
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error().message, "t:1: 'backend' section without a name");
}

// The last line of defence against hostile values (discovery refuses them first): a server line holds plain words
// only, and the marker stays one comment line. Each is an error, so the last good file stays in place.
TEST(Render, RefusesValuesThatWouldBreakOrInjectIntoTheFile) {
  for (const char* bad : {"i-1 backup", "i-1\nserver evil 127.0.0.9:80", "i-1#", "i-1;shutdown sessions", "i-1\"",
                          "i-1'", "i-1\\", "i-1\t", "i-1\r", "i-1\x7f", "i-1\x01", ""}) {
    auto name = render(kTemplate, "t", {app({{bad, "127.0.0.2", 80}})});
    ASSERT_FALSE(name.ok()) << "name '" << bad << "'";
    EXPECT_EQ(name.error().code, "TemplateError");
    EXPECT_EQ(name.error().message.find('\n'), std::string::npos) << name.error().message;
    auto address = render(kTemplate, "t", {app({{"i-1", std::string("127.0.0.2") + bad, 80}})});
    if (*bad != '\0') {
      EXPECT_FALSE(address.ok()) << "address '" << bad << "'";
    }
  }
  auto shown = render(kTemplate, "t", {app({{"i-1\nserver evil 127.0.0.9:80", "127.0.0.2", 80}})});
  ASSERT_FALSE(shown.ok());
  EXPECT_EQ(shown.error().message,
            "backend 'app': cannot write server 'i-1\\x0aserver evil 127.0.0.9:80' with address '127.0.0.2' (not one "
            "plain word)");

  for (const char* group : {"app\nserver evil 127.0.0.9:80", "app\r", "app\t"}) {
    auto r = render(kTemplate, "t", {ManagedBackend{"app", group, 80, "check", {}}});
    EXPECT_FALSE(r.ok()) << "group '" << group << "'";
  }
  for (const char* options : {"check\nserver evil 127.0.0.9:80", "check # inter 2s", "check\x01"}) {
    auto r = render(kTemplate, "t", {ManagedBackend{"app", "g", 80, options, {}}});
    EXPECT_FALSE(r.ok()) << "options '" << options << "'";
  }
  // Auto Scaling allows spaces in group names: the marker comment holds them fine.
  auto spaced = render(kTemplate, "t", {ManagedBackend{"app", "my app group", 80, "check", {{"i-1", "127.0.0.2", 0}}}});
  ASSERT_TRUE(spaced.ok()) << spaced.error().message;
  EXPECT_NE(spaced->find("# haproxy-asg: group my app group, port 80"), std::string::npos);
}

TEST(StructureOf, MembershipIsNotStructureButOptionsAndPortAre) {
  auto a = render(kTemplate, "t", {app({{"i-1", "127.0.0.2", 80}, {"i-2", "127.0.0.3", 80}})});
  auto b = render(kTemplate, "t", {app({{"i-3", "127.0.0.4", 80}})});
  auto none = render(kTemplate, "t", {app({})});
  auto opts = render(kTemplate, "t", {app({{"i-1", "127.0.0.2", 80}}, "check inter 5s")});
  auto port = render(kTemplate, "t", {app({{"i-1", "127.0.0.2", 80}}, "check inter 2s", 81)});
  ASSERT_TRUE(a.ok() && b.ok() && none.ok() && opts.ok() && port.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(structure_of(*a), structure_of(*b));
  EXPECT_EQ(structure_of(*a), structure_of(*none));
  EXPECT_EQ(structure_of(*none), *none);  // nothing to strip
  EXPECT_NE(structure_of(*a), structure_of(*opts));
  EXPECT_NE(structure_of(*a), structure_of(*port));
  // The template's own server lines are structure.
  EXPECT_NE(structure_of(*a).find("    server s1 127.0.0.1:9001 check\n"), std::string::npos);
  EXPECT_EQ(structure_of(*a).find("i-1"), std::string::npos);
  // A change elsewhere in the template is structure too.
  std::string other = std::string(kTemplate) + "\nbackend extra\n    balance first\n";
  auto c = render(other, "t", {app({{"i-1", "127.0.0.2", 80}})});
  ASSERT_TRUE(c.ok());
  EXPECT_NE(structure_of(*a), structure_of(*c));
}

// What may be written without `haproxy -c` after a render that passed it: other members in blocks that had server
// lines of the same form; not a first server in an empty block (its options never parsed by HAProxy), not a
// structural change, not a name or id twice.
TEST(RenderShape, OnlyOtherMembersOfAFormHaproxyAcceptedAreAdmitted) {
  auto shape = [](const std::vector<ManagedBackend>& m, const std::string& tmpl = kTemplate) {
    auto r = render(tmpl, "t", m);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return shape_of(r.ok() ? *r : std::string());
  };
  auto other = [](std::vector<DesiredServer> servers) {
    return ManagedBackend{"static", "static-asg", 80, "check", std::move(servers)};
  };
  const RenderShape validated = shape({app({{"i-1", "127.0.0.2", 80, 70001}}), other({})});
  EXPECT_EQ(validated.servers, (std::vector<size_t>{1, 0}));
  EXPECT_TRUE(validated.unique);
  EXPECT_EQ(validated.structure, structure_of(*render(kTemplate, "t", {app({}), other({})})));

  // Members come and go, addresses of either family, ids or none: admitted.
  EXPECT_TRUE(admits(validated, shape({app({{"i-2", "127.0.0.3", 80, 70002}, {"i-3", "::1", 8080, 0}}), other({})})));
  EXPECT_TRUE(validated.referenced.empty());
  // A first server where HAProxy never saw one: not admitted.
  EXPECT_FALSE(admits(validated, shape({app({{"i-1", "127.0.0.2", 80}}), other({{"i-9", "127.0.0.9", 80}})})));
  // A block emptied: not admitted either (HAProxy 2.6 refuses a backend with `use-fcgi-app` and no server).
  EXPECT_FALSE(admits(validated, shape({app({}), other({})})));
  // Another port or options (the marker) or template: structure, not admitted.
  EXPECT_FALSE(admits(validated, shape({app({{"i-1", "127.0.0.2", 80}}, "check inter 2s", 81), other({})})));
  EXPECT_FALSE(admits(validated, shape({app({{"i-1", "127.0.0.2", 80}}, "check inter 9s"), other({})})));
  EXPECT_FALSE(admits(validated, shape({app({{"i-1", "127.0.0.2", 80}}), other({})},
                                       std::string(kTemplate) + "\nbackend extra\n    balance first\n")));
  // An id twice (HAProxy refuses it): not admitted.
  const RenderShape twice = shape({app({{"i-1", "127.0.0.2", 80, 70001}, {"i-2", "127.0.0.3", 80, 70001}}), other({})});
  EXPECT_FALSE(twice.unique);
  EXPECT_FALSE(admits(validated, twice));
  // A shape that was not unique admits nothing.
  EXPECT_FALSE(admits(twice, validated));
  // The template's own servers count: a managed server with one's name or id in the same section is refused by
  // HAProxy, so it is not admitted either.
  std::string with_ids = kTemplate;
  with_ids.replace(with_ids.find("server s1 127.0.0.1:9001 check"), 30, "server s1 127.0.0.1:9001 id 70009 check");
  const RenderShape base = shape(
      {app({{"i-1", "127.0.0.2", 80, 70001}}), other({{"i-8", "127.0.0.8", 80, 70008}})}, with_ids);
  ASSERT_TRUE(base.unique);
  const DesiredServer i2{"i-2", "127.0.0.3", 80, 70002};
  EXPECT_TRUE(admits(base, shape({app({i2}), other({{"i-7", "127.0.0.7", 80, 70007}})}, with_ids)));
  EXPECT_FALSE(admits(base, shape({app({i2}), other({{"i-9", "127.0.0.9", 80, 70009}})}, with_ids)));
  EXPECT_FALSE(admits(base, shape({app({i2}), other({{"s1", "127.0.0.9", 80, 70010}})}, with_ids)));
  // The same id in two sections is HAProxy's to accept (ids are per proxy).
  EXPECT_TRUE(admits(base, shape({app({{"i-1", "127.0.0.2", 80, 70008}}), other({{"i-8", "127.0.0.8", 80, 70008}})},
                                 with_ids)));
}

// A managed server the template names (`use-server`, `track`, a `srv_*` fetch) must stay: HAProxy refuses a reference
// to a server it does not have ("unable to find server ... referenced in a 'use-server' rule"), so a render without
// it is validated. Other members still come and go unchecked.
TEST(RenderShape, AManagedServerTheTemplateNamesLeavesOnlyThroughHaproxyC) {
  std::string tmpl = kTemplate;
  tmpl.replace(tmpl.find("    balance roundrobin\n"), 23,
               "    balance roundrobin\n    use-server i-0aaaaaaa if { req.hdr(x-canary) -m found }\n");
  tmpl += "backend monitor\n    http-request deny if !{ srv_is_up(app/i-0bbbbbbb) }\n";
  auto shape = [&](std::vector<DesiredServer> servers) {
    auto r = render(tmpl, "t", {app(std::move(servers))});
    EXPECT_TRUE(r.ok()) << r.error().message;
    return shape_of(r.ok() ? *r : std::string());
  };
  const DesiredServer a{"i-0aaaaaaa", "127.0.0.2", 80, 70001}, b{"i-0bbbbbbb", "127.0.0.3", 80, 70002},
      c{"i-0ccccccc", "127.0.0.4", 80, 70003}, d{"i-0ddddddd", "127.0.0.5", 80, 70004};
  const RenderShape validated = shape({a, b, c});
  using Ref = std::pair<size_t, std::string>;
  EXPECT_EQ(validated.referenced, (std::vector<Ref>{{0, "i-0aaaaaaa"}, {0, "i-0bbbbbbb"}}));
  EXPECT_TRUE(admits(validated, shape({a, b, d})));  // i-0ccccccc is named nowhere
  EXPECT_FALSE(admits(validated, shape({b, c})));    // use-server i-0aaaaaaa
  EXPECT_FALSE(admits(validated, shape({a, c})));    // srv_is_up(app/i-0bbbbbbb)
  // A name that only contains a member's (a longer word) is not a reference to it.
  std::string longer = kTemplate;
  longer += "backend monitor\n    http-request deny if !{ srv_is_up(app/i-0aaaaaaa0) }\n";
  auto r = render(longer, "t", {app({a, c})});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(shape_of(*r).referenced.empty());

  // A member moving to another managed backend leaves the one `track app/X` names: validated.
  auto two_blocks = [&](std::vector<DesiredServer> in_app, std::vector<DesiredServer> in_static) {
    auto r2 = render(kTemplate + std::string("backend monitor\n    server m 127.0.0.1:9 track app/i-0aaaaaaa\n"),
                     "t", {app(std::move(in_app)), ManagedBackend{"static", "static-asg", 80, "check",
                                                                  std::move(in_static)}});
    EXPECT_TRUE(r2.ok()) << r2.error().message;
    return shape_of(r2.ok() ? *r2 : std::string());
  };
  const RenderShape tracked = two_blocks({a, c}, {d});
  EXPECT_EQ(tracked.referenced, (std::vector<Ref>{{0, "i-0aaaaaaa"}}));
  EXPECT_TRUE(admits(tracked, two_blocks({a}, {d})));
  EXPECT_FALSE(admits(tracked, two_blocks({c}, {a, d})));

  // What HAProxy rewrites before it reads a name (an environment variable, an escape, joined quotes) on a line that
  // can name a server: any managed server may be the one named.
  for (const std::string line : {"    use-server \"${CANARY}\" if { req.hdr(x-canary) -m found }\n",
                                 "    use-server i-0cc\"cccccc\" if { req.hdr(x-canary) -m found }\n",
                                 "    http-request deny if !{ srv_is_up(app/i\\x2d0cccccc) }\n"}) {
    std::string indirect = kTemplate;
    indirect.replace(indirect.find("    balance roundrobin\n"), 23, "    balance roundrobin\n" + line);
    auto v = render(indirect, "t", {app({a, c})}), n = render(indirect, "t", {app({a})});
    ASSERT_TRUE(v.ok() && n.ok()) << line;
    EXPECT_EQ(shape_of(*v).referenced, (std::vector<Ref>{{0, "i-0aaaaaaa"}, {0, "i-0ccccccc"}})) << line;
    EXPECT_FALSE(admits(shape_of(*v), shape_of(*n))) << line;
  }
  // Quotes elsewhere (no line that can name a server) change nothing.
  std::string quoted = kTemplate;
  quoted.replace(quoted.find("    balance roundrobin\n"), 23, "    balance roundrobin\n    http-request set-header x \"$y\"\n");
  auto qv = render(quoted, "t", {app({a, c})}), qn = render(quoted, "t", {app({a})});
  ASSERT_TRUE(qv.ok() && qn.ok());
  EXPECT_TRUE(admits(shape_of(*qv), shape_of(*qn)));
}

// fcgi-app (and namespace_list) open sections in HAProxy 2.6: a backend's managed servers go into the backend, not
// into an fcgi-app section that follows it (which would refuse `server`).
TEST(Render, AnFcgiAppSectionEndsTheBackendBeforeIt) {
  const std::string tmpl = "backend php\n    use-fcgi-app php\nfcgi-app php\n    docroot /var/www/html\n";
  auto r = render(tmpl, "t",
                  {ManagedBackend{"php", "php-asg", 9000, "proto fcgi", {{"i-1", "127.0.0.2", 9000, 70001}}}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto at_server = r->find("    server i-1 127.0.0.2:9000 id 70001 proto fcgi\n");
  ASSERT_NE(at_server, std::string::npos) << *r;
  EXPECT_LT(at_server, r->find("\nfcgi-app php\n")) << *r;
}

TEST(InspectTemplate, BackendsAndDeclaredServers) {
  auto r = inspect_template(kTemplate, "t");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->backends, (std::set<std::string>{"app", "static", "stats"}));
  EXPECT_EQ(r->declared_servers, (std::set<std::string>{"static/s1", "static/s2"}));

  auto more = inspect_template(
      "frontend f\n    bind 127.0.0.1:80\n    server notabackend 127.0.0.1:1\n"
      "listen l\n    server ls 127.0.0.1:2 check # comment\n    # server commented 127.0.0.1:3\n"
      "    default-server inter 3s\n"
      "peers p\n    server peer1 127.0.0.1:1024\n",
      "t");
  ASSERT_TRUE(more.ok()) << more.error().to_string();
  EXPECT_EQ(more->backends, (std::set<std::string>{"l"}));
  EXPECT_EQ(more->declared_servers, (std::set<std::string>{"l/ls"}));

  // On a rendered file, the managed servers are not the template's own.
  auto rendered = render(kTemplate, "t", {app({{"i-1", "127.0.0.2", 80}})});
  ASSERT_TRUE(rendered.ok());
  auto again = inspect_template(*rendered, "haproxy.cfg");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->declared_servers, (std::set<std::string>{"static/s1", "static/s2"}));

  EXPECT_FALSE(inspect_template("", "t").ok());
}

}  // namespace
}  // namespace hasg::haproxy
