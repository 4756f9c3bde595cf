// TLS for tests: self-signed certificates made by the openssl program, and
// server sockets that show them.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/SecureServerSocket.h>

#include <cstdlib>
#include <string>

#include "support/temp_dir.h"

namespace gongkai::test {

// Makes `dir`/NAME.pem (a self-signed certificate for common name `cn` and
// subjectAltName `san`, e.g. "DNS:localhost") and `dir`/NAME.key. False when
// the openssl program cannot: the caller skips, saying so.
inline bool MakeCertificate(const TempDir& dir, const std::string& name, const std::string& cn,
                            const std::string& san) {
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=" +
      cn + " -addext subjectAltName=" + san + " -keyout " + dir / (name + ".key") + " -out " +
      dir / (name + ".pem") + " 2>/dev/null";
  return std::system(command.c_str()) == 0;
}

// A TLS server socket on 127.0.0.1 (a free port) showing certificate NAME.
inline Poco::Net::SecureServerSocket TlsSocket(const TempDir& dir, const std::string& name) {
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, dir / (name + ".key"),
                             dir / (name + ".pem"), "", Poco::Net::Context::VERIFY_NONE);
  return Poco::Net::SecureServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context);
}

}  // namespace gongkai::test
