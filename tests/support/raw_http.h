// A raw TCP connection to the daemon under test: sends exactly the bytes a
// test gives it (a well-behaved client library would refuse to send most of
// what the hostile-input tests need).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <string>

namespace gongkai::test {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port from `source` (any address of 127/8 is this
  // host; the daemon sees each as another client).
  explicit RawConnection(uint16_t port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, source, &from.sin_addr) == 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False once the peer has closed the connection (or on any other error).
  bool Send(const std::string& data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // True once the peer has closed (or reset) the connection; does not wait.
  bool Closed() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  // Reads until the peer closes or the first response's headers and body arrived.
  std::string Receive() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      size_t head = out.find("\r\n\r\n");
      if (head != std::string::npos) {
        size_t cl = out.find("Content-Length: ");
        if (cl != std::string::npos && cl < head &&
            out.size() >= head + 4 + std::stoul(out.substr(cl + 16)))
          break;
      }
    }
    return out;
  }
  // The first response's status, 0 if the connection closed without one.
  int Status() {
    std::string r = Receive();
    return r.size() > 12 && r.rfind("HTTP/1.", 0) == 0 ? std::stoi(r.substr(9, 3)) : 0;
  }

 private:
  int fd_ = -1;
};

inline int RawStatus(uint16_t port, const std::string& request) {
  RawConnection c(port);
  c.Send(request);
  return c.Status();
}

}  // namespace gongkai::test
