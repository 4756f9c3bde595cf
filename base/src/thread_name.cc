#include "gongkai/thread_name.h"

#include <pthread.h>

namespace gongkai {

void NameThisThread(const std::string& name) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace gongkai
