#include "shared/address.hpp"

#include <gtest/gtest.h>

using namespace lifeline;

TEST(Address, ParsesHostPort) {
  auto a = parse_host_port("0.0.0.0:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 8080);
  auto v6 = parse_host_port("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_FALSE(parse_host_port("8080").ok());
  EXPECT_FALSE(parse_host_port("host:99999").ok());
  EXPECT_FALSE(parse_host_port("host:").ok());
}

TEST(Address, ParsesHttpUrls) {
  auto u = parse_http_url("http://lifeline-reaper.lifeline:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "lifeline-reaper.lifeline");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->base_path, "");
  auto p = parse_http_url("https://prefect.example/api/");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->tls);
  EXPECT_EQ(p->port, 443);
  EXPECT_EQ(p->base_path, "/api");
  EXPECT_EQ(p->host_header(), "prefect.example");
  EXPECT_FALSE(parse_http_url("ftp://x").ok());
  EXPECT_FALSE(parse_http_url("http://").ok());
  EXPECT_FALSE(parse_http_url("http://host:abc/").ok());
}
