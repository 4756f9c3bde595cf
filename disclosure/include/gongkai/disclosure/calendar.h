// China's working-day calendar, for the statutory deadlines of disclosure on
// application (CONTRACT.md section 8): the State Council's yearly holiday
// notices, including the weekends made working days (调休), read from
// holiday-cn files ({year, papers, days: [{name, date, isOffDay}]}).
//
// A date is a working day when a file lists it with isOffDay false, or no
// file lists it and it is Monday to Friday; a listed isOffDay true date is
// not. A year without data (no file, or an empty `days`: not yet announced)
// is unknown: every answer that went through one of its unlisted dates is
// provisional, never silently plain Monday to Friday.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gongkai/status.h"

namespace gongkai::disclosure {

using Date = std::chrono::sys_days;

// "YYYY-MM-DD" exactly, a date that exists; nullopt otherwise.
std::optional<Date> ParseDate(std::string_view text);
std::string FormatDate(Date date);
int YearOf(Date date);
// Today in the machine's local time zone: the daemon's date, which deadlines
// are compared with.
Date LocalToday();
// The local date at `t`.
Date LocalDate(std::chrono::system_clock::time_point t);

// Where the package installs the holiday-cn files (/usr/share/gongkai/calendar).
inline constexpr const char* kPackagedCalendar = GONGKAI_CALENDAR_DIR;

// The folders a calendar is loaded from: the packaged one, then [disclosure]
// calendar when set (its files add years or replace the packaged ones).
std::vector<std::string> CalendarFolders(const std::string& configured);

// A date counted in working days, and whether an unknown year was crossed.
struct CountedDate {
  Date date;
  bool provisional = false;
};

class WorkCalendar {
 public:
  // Reads every YYYY.json in each folder, in order: a later folder's file
  // for a year replaces an earlier one's (an admin's additions over the
  // packaged files). A folder that does not exist is skipped; one that cannot
  // be read is an IOError, a file that does not parse an Invalid error, each
  // naming it.
  static Result<WorkCalendar> Load(const std::vector<std::string>& folders);

  // Adds one year's file (its text), replacing an earlier file for that year.
  // `source` names it in errors.
  Status AddYear(const std::string& json, const std::string& source);

  // Whether the notice for `year` is in: its file lists at least one day.
  bool Known(int year) const { return known_.count(year) != 0; }
  // The years known, in order.
  std::vector<int> KnownYears() const { return {known_.begin(), known_.end()}; }
  // The same files' days: the same working days everywhere.
  bool operator==(const WorkCalendar&) const = default;

  // Whether `date` is a working day. `*provisional` (when given) becomes true
  // when the answer rests on Monday to Friday in an unknown year.
  bool IsWorkday(Date date, bool* provisional = nullptr) const;

  // The n-th working day after `from` (n >= 0; counting starts the day
  // after, so n = 0 is `from` itself).
  CountedDate AddWorkdays(Date from, int n) const;

  // How many working days lie in (from, to]; 0 when to <= from.
  int WorkdaysBetween(Date from, Date to, bool* provisional = nullptr) const;

 private:
  void Rebuild();

  // Per file year: its listed dates (which may include the neighbouring
  // year's), off or not.
  std::map<int, std::map<Date, bool>> files_;
  std::map<Date, bool> listed_;  // every file's dates; a date's own year's file wins
  std::set<int> known_;
};

// One line for the daemon's log when it is November or December of `today`'s
// year and the next year's notice is not in the calendar; "" otherwise.
std::string NextYearWarning(const WorkCalendar& calendar, Date today);

// The most working days one count may add (over three years).
inline constexpr int kMaxWorkdays = 1000;

// The answer of `gongkai workdays` and GET /api/v1/calendar/workdays:
// {"from", "add", "date", "provisional"}; 0 <= add <= kMaxWorkdays.
std::string WorkdaysJson(const WorkCalendar& calendar, Date from, int add);

}  // namespace gongkai::disclosure
