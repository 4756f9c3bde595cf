// Synchronous reload for the service manager (the unit's ExecReload=):
// `gongkaid --reload PID` sends the running daemon SIGHUP and waits for its
// answer, so that `systemctl reload gongkaid` returns once the daemon has
// applied its configuration again, and fails when the daemon kept its old one
// (the reason is in its log).
//
// Two queued signals, so the unit needs no other program (procps' kill is not
// installed on a minimal Debian) and nothing in the file system:
//  - the request: SIGHUP with si_code SI_QUEUE and si_value kReloadCookie,
//    sent through a pidfd of the daemon (no race with a reused pid);
//  - the answer: SIGUSR1 with si_value a ReloadOutcome, sent back through a
//    pidfd the daemon opened on the requester when the request arrived, once
//    the reload is done: after tokens and signing key were re-read, or, for a
//    changed configuration file, once the daemon restarted in place is ready
//    (the pidfd is kept open across execv and named in $GONGKAI_RELOAD_PIDFD).
// A plain SIGHUP (kill -HUP, `gongkai keys rotate`) reloads as before and gets
// no answer; one still pending swallows a request (standard signals are not
// queued twice), so the requester sends it again every few seconds until
// answered. The requester also watches the daemon's pidfd: a daemon that exits
// during the reload is reported as such instead of being waited for. Run by
// root for a daemon of another user, it first becomes that user, as the
// daemon may not signal root.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>

namespace gongkai::daemon {

inline constexpr int kReloadCookie = 0x676b726c;  // "gkrl"
inline constexpr const char kReloadPidfdVariable[] = "GONGKAI_RELOAD_PIDFD";

enum class ReloadOutcome : int {
  kApplied = 0,  // the configuration file (changed or not), tokens and signing key are in effect
  kKeptOld = 1,  // something could not be applied and the running state was kept; see the log
};

// --- the requester (gongkaid --reload PID) ---

// Sends the reload request to `pid` and waits for the answer at most
// `timeout`. Returns 0 when the daemon applied everything, 1 otherwise, with
// one line for the admin in `*message` either way.
int RequestReload(pid_t pid, std::chrono::milliseconds timeout, std::string* message);

// --- the daemon (main thread only) ---

// Looks at the siginfo of a SIGHUP taken by sigtimedwait(): when it is a
// reload request, remembers the requester to answer it later.
void NoteReloadRequest(const siginfo_t& info);
// Answers every remembered requester and forgets them; a no-op when none waits.
void AnswerReloadRequests(ReloadOutcome outcome);
// Just before execv: keeps the remembered requesters open across it and
// names them in $GONGKAI_RELOAD_PIDFD.
void HandOverReloadRequests();
// At start-up: takes over the requesters handed over by the process this one
// replaced (and clears the variable, so that no child inherits it).
void TakeOverReloadRequests();

}  // namespace gongkai::daemon
