#include <catch2/catch.hpp>

#include "gongkai/config.h"

using gongkai::ParseConfig;

TEST_CASE("config: minimal file parses with defaults", "[config]") {
  auto c = ParseConfig("[daemon]\ndata_dir = data\n", "/etc/gk/gongkaid.conf");
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/etc/gk/data");
  CHECK(c->listen_port == 8080);
}
