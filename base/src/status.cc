#include "gongkai/status.h"

#include <cerrno>
#include <cstring>

namespace gongkai {

Status Status::FromErrno(int err, const std::string& what) {
  std::string msg = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return NoSpace(std::move(msg));
  if (err == ENOENT) return NotFound(std::move(msg));
  return IOError(std::move(msg));
}

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      name = "not found";
      break;
    case Code::kInvalid:
      name = "invalid";
      break;
    case Code::kIOError:
      name = "I/O error";
      break;
    case Code::kCorruption:
      name = "corruption";
      break;
    case Code::kBusy:
      name = "busy";
      break;
    case Code::kNoSpace:
      name = "no space";
      break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace gongkai
