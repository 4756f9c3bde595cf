// The archive's domain values: a document's classification and status, a
// version's review state, and the kind of event a signed record logs.
//
// Their strings are an external contract: they appear in the JSON API, in
// the catalog's columns, and inside signed records, so they never change.
// ToString() gives a value's string; Parse*() the value of a string, or
// nullopt when it names none (exact match, case-sensitive).
#pragma once

#include <optional>
#include <string_view>

namespace gongkai {

// Who may see a document: anyone, or only authorised readers.
enum class Classification { kPublic, kRestricted };
// Whether a document is still in the archive's current view.
enum class DocumentStatus { kActive, kWithdrawn };
// Whether a version is visible yet: approved, or waiting for review.
enum class ReviewState { kApproved, kPending };
// What a signed record logs.
enum class EventKind { kVersion, kMove, kWithdraw, kClassify, kApprove };

const char* ToString(Classification c);  // "public" | "restricted"
const char* ToString(DocumentStatus s);  // "active" | "withdrawn"
const char* ToString(ReviewState r);     // "approved" | "pending"
const char* ToString(EventKind e);       // "version" | "move" | "withdraw" | "classify" | "approve"

std::optional<Classification> ParseClassification(std::string_view text);
std::optional<DocumentStatus> ParseDocumentStatus(std::string_view text);
std::optional<ReviewState> ParseReviewState(std::string_view text);
std::optional<EventKind> ParseEventKind(std::string_view text);

// A catalogue category (CONTRACT.md section 9): one name ("预算") or two
// joined by '/' ("法定主动公开内容/行政规范性文件"), none of them empty.
bool IsCategory(std::string_view text);

// An agency code, the front of every 索引号: 1 to 40 ASCII letters, digits,
// '.' or '-' (a 统一社会信用代码 is 18 of them). No '/', which separates it
// from the year and serial.
bool IsAgencyCode(std::string_view text);

}  // namespace gongkai
