// A small HTTP/1.1 client for talking to other gongkai programs (a node to
// its witnesses, the hub to its nodes), which may be down, slow or hostile.
//
// Guarantees: a call never takes much longer than `timeout` in all
// (connecting, sending and reading the whole answer, so a peer that answers
// one byte at a time is cut off), and never holds more than `max_body` bytes
// of an answer: a longer one is an error, not a truncated success. Plain
// http:// only. Never throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "gongkai/status.h"

namespace gongkai::daemon {

struct HttpRequest {
  std::string method = "GET";
  std::string url;           // http://host[:port]/path?query
  std::string body;          // sent with POST
  std::string content_type;  // of the body
  std::string bearer;        // "Authorization: Bearer ..." when not empty
  size_t max_body = size_t{16} * 1024;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// IOError when the peer cannot be reached, is too slow or answers too much.
Result<HttpAnswer> Fetch(const HttpRequest& request);

}  // namespace gongkai::daemon
