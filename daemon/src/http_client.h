// A small HTTP/1.1 client for talking to other gongkai programs (a node to
// its witnesses, the hub to its nodes and machines), which may be down, slow
// or hostile.
//
// Guarantees: a call never takes much longer than `timeout` in all
// (connecting, the TLS handshake, sending and reading the whole answer, so a
// peer that answers one byte at a time is cut off), and never holds more than
// `max_body` bytes of an answer, counted after gzip is undone (so a small
// compressed answer cannot unpack into a large one): a longer one is an
// error, not a truncated success. An https:// peer must show a certificate
// for the URL's host that chains to `ca_file`, or to the system's CAs when
// that is empty; the bearer token is never sent before that is checked.
// Never throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "gongkai/status.h"

namespace gongkai::daemon {

struct HttpRequest {
  std::string method = "GET";
  std::string url;           // http[s]://host[:port]/path?query
  std::string body;          // sent with POST
  std::string content_type;  // of the body
  std::string bearer;        // "Authorization: Bearer ..." when not empty
  size_t max_body = size_t{16} * 1024;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  std::string ca_file;  // PEM certificates trusted for https://; empty: the system's
};

struct HttpAnswer {
  int status = 0;
  std::string body;  // gzip undone
};

// IOError when the peer cannot be reached, is too slow, answers too much or
// shows a certificate that is not trusted; Invalid for a URL that is neither
// http:// nor https://.
Result<HttpAnswer> Fetch(const HttpRequest& request);

}  // namespace gongkai::daemon
