// Disclosure requests (依申请公开, CONTRACT.md section 8) above the catalog:
// what a request holds, how it is read back with its statutory clock, and
// who sees which part of it. Ledger::Register and Ledger::AddRequestEvent
// (ledger.h) are the only ways requests change.
//
// Privacy guarantee: the applicant, the description, the delivery wish, an
// event's note and its approver are stored in the catalog only. Signed
// records carry their salted SHA-256, never the text, so nothing personal
// reaches the log, checkpoints, tiles, export bags or proofs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "gongkai/disclosure/request.h"
#include "gongkai/ledger/visibility.h"
#include "gongkai/status.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::ledger {

// The contract's fixed strings: how a request came, and who asks (the
// columns of the annual report's table 三).
const std::vector<std::string>& Channels();        // online, in_person, post, ...
const std::vector<std::string>& ApplicantTypes();  // person, business, research, ...
bool IsChannel(std::string_view channel);
bool IsApplicantType(std::string_view type);

// Field limits: a form cannot make the catalog hold megabytes per request.
inline constexpr size_t kMaxFieldBytes = 500;          // name, id_number, contact, ...
inline constexpr size_t kMaxDescriptionBytes = 10000;  // description, note

struct Applicant {
  std::string type = "person";
  std::string name, id_number, contact, address;
};

struct NewRequest {
  std::string channel = "online";
  disclosure::Date received{};
  Applicant applicant;
  std::string description;
  std::string delivery;  // how the applicant wants the answer
};

// An event on a request; `in.event` is anything but kReceived.
struct RequestChange {
  std::string code;
  disclosure::EventInput in;
  std::string note;
  std::string reply_document;  // replied: an archived document's id, or ""
};

// A request as stored, with its details unpacked and its clock replayed.
struct RequestState {
  storage::RequestRow row;
  std::vector<storage::RequestEventRow> events;  // log order
  Applicant applicant;
  std::string description, delivery;
  disclosure::RequestClock clock;
};

// The request `code`; NotFound when there is none.
Result<RequestState> LoadRequest(storage::Catalog& catalog,
                                 const disclosure::WorkCalendar& calendar, const std::string& code);
// Every request, by receipt date.
Result<std::vector<RequestState>> LoadRequests(storage::Catalog& catalog,
                                               const disclosure::WorkCalendar& calendar);

// Whether `role` sees a request's personal part (applicant, description,
// delivery, notes, approvers, reply documents): inspectors and admins only.
// Everyone else sees its status and dates.
bool SeesRequestDetails(Role role);

// The stored details JSON of a request (the text its records commit to).
std::string DetailsJson(const Applicant& applicant, const std::string& description,
                        const std::string& delivery);

}  // namespace gongkai::ledger
