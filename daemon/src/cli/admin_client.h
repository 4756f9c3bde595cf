// How the CLI makes an administrative change: through the running daemon
// over its admin socket (admin_socket.h), or, when the daemon is stopped,
// in this process under the data folder's lock. Both run daemon::RunAdmin.
#pragma once

#include <sys/types.h>

#include "admin.h"
#include "cli/cli.h"

namespace gongkai::cli {

struct ChangeMade {
  daemon::AdminAnswer answer;
  pid_t daemon_pid =
      0;  // the daemon that made it, 0 when the daemon was stopped and this process did
};

// Makes `request`'s change where the archive is: through the daemon when it
// runs, else here under the lock. While the folder is locked but nothing
// answers on the socket (the daemon starting or stopping, another gongkai
// making a change) it retries for 10 s. NotFound and Invalid are answers
// (no such document or token, refused by the ledger); other codes are errors.
Result<ChangeMade> MakeChange(const Context& ctx, const daemon::AdminRequest& request);

}  // namespace gongkai::cli
