#include "gongkai/thread_name.h"

#include <pthread.h>

#include <utility>

namespace gongkai {

std::thread NamedThread(std::string name, std::function<void()> body) {
  return std::thread([name = std::move(name), body = std::move(body)] {
    (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    body();
  });
}

}  // namespace gongkai
