// Administrative changes (approve, classify, token add and revoke, key
// rotation, disclosure requests registered and their events) as requests
// with answers, and the one place that makes them.
//
// `gongkai` sends a request to the running daemon over its admin socket
// (admin_socket.h), where RunAdmin() makes the change with the daemon's own
// archiver and token store; with the daemon stopped, the CLI calls RunAdmin()
// itself under the data folder's lock with its own ledger. Either way the
// change is made by the same code, and by the functions below it: the ledger
// (approve, classify), storage::RotateSigningKey and AddToken/RevokeTokens.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "auth.h"
#include "gongkai/domain.h"
#include "gongkai/ledger/ledger.h"
#include "gongkai/ledger/requests.h"
#include "gongkai/status.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::daemon {

struct AdminRequest {
  enum class Kind {
    kApprove,
    kClassify,
    kAddToken,
    kRevokeTokens,
    kRotateKey,
    kRegisterRequest,  // a disclosure request (the online form's, or one an admin registers)
    kRequestEvent,     // an event on one
    kReportFigures,    // the annual report's entered figures for a year
  };
  Kind kind = Kind::kApprove;
  std::string doc_id;                                       // approve, classify
  Classification classification = Classification::kPublic;  // classify
  Role role = Role::kInspector;
  std::string name;                // token add
  std::string match;               // token revoke: a name or a hash prefix
  ledger::NewRequest new_request;  // register request
  ledger::RequestChange change;    // request event
  int64_t year = 0;                // report figures: the year, and the
  std::string figures;             // figures' JSON (disclosure/report_figures.h)
};

// What was done; the fields of the request's kind are set.
struct AdminAnswer {
  // approve, classify: the document, and whether anything changed (a
  // classification it already had changes nothing).
  std::string doc_id, share, path;
  Classification classification = Classification::kPublic;
  bool changed = false;
  int64_t version = 0, log_index = -1;
  bool indexed = false;           // searches show the change already
  std::optional<NewToken> token;  // token add
  int64_t revoked = 0;            // token revoke
  std::string key_id;             // keys rotate: the new active key
  std::string request;            // a request registered or changed: its code
};

// Where changes are made: the running daemon's parts, or the CLI's own. Its
// functions fail with NotFound or Invalid only as answers (see RunAdmin).
struct AdminTarget {
  // The document `id`, nullopt when there is none.
  std::function<Result<std::optional<storage::DocumentRow>>(const std::string& id)> find_document;
  // Commits one approve or classify through the ledger.
  std::function<Result<ledger::Change>(ledger::Change)> apply;
  // Waits until searches show log record `seq`; unset when nothing feeds the index.
  std::function<bool(int64_t seq)> wait_indexed;
  // Makes a new active signing key, signs with it from now on, returns its id.
  std::function<Result<std::string>()> rotate_key;
  // Registers a disclosure request, or appends an event to one, through the
  // ledger (counted in the target's working-day calendar); the request's
  // code and the log index of its new record.
  std::function<Result<std::pair<std::string, int64_t>>(const ledger::NewRequest&)>
      register_request;
  std::function<Result<std::pair<std::string, int64_t>>(const ledger::RequestChange&)>
      add_request_event;
  // Signs a year's annual report figures through the ledger; the log index
  // of their record.
  std::function<Result<int64_t>(int year, const disclosure::ReportFigures&)> set_report_figures;
  std::string tokens_file;  // [auth] tokens_file, "" = none
  // Puts the rewritten tokens file into effect; unset when nothing holds tokens.
  std::function<Status()> reload_tokens;
};

// A ledger function run with a ledger and its signing key.
using LedgerFn = std::function<Status(ledger::Ledger&, const storage::SigningKey&)>;

// Sets `target`'s register_request, add_request_event and
// set_report_figures: each runs the ledger's change through `with_ledger`
// (the archiver's thread, or the CLI's own ledger), counted in `calendar`,
// which must outlive the target.
void SetRequestFunctions(AdminTarget& target,
                         const std::function<Status(const LedgerFn&)>& with_ledger,
                         const disclosure::WorkCalendar* calendar);

// Makes the change `request` asks for at `target`. NotFound: no such
// document, token or disclosure request; Invalid: the ledger refuses it
// (nothing pending, an event that cannot follow).
Result<AdminAnswer> RunAdmin(const AdminRequest& request, const AdminTarget& target);

// A failure of the machinery (a file, the catalog), never an answer: NotFound
// and Invalid become I/O errors with the same message.
Status AsIoError(const Status& status);

// "approve DOC", "token add inspector 'NAME'": the request in a log line.
std::string Describe(const AdminRequest& request);
// "approved pub:a.txt v1 log 3": the answer in a log line.
std::string Describe(const AdminRequest& request, const AdminAnswer& answer);

// The wire format of the admin socket: one JSON object per line each way.
std::string EncodeRequest(const AdminRequest& request);
Result<AdminRequest> DecodeRequest(const std::string& line);
// An answer, or the error with its Status code.
std::string EncodeAnswer(const Result<AdminAnswer>& answer);
Result<AdminAnswer> DecodeAnswer(const std::string& line);

}  // namespace gongkai::daemon
