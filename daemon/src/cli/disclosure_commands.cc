// Disclosure on application: `gongkai workdays`.
#include "cli/cli.h"
#include "cli/output.h"
#include "gongkai/disclosure/calendar.h"

namespace gongkai::cli {

int CmdWorkdays(Context& ctx, const Args& args) {
  const auto from = disclosure::ParseDate(args.positional[0]);
  if (!from)
    return UsageError("workdays", "DATE must be YYYY-MM-DD, not '" + args.positional[0] + "'");
  const std::string& n = args.positional[1];
  if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(n) > disclosure::kMaxWorkdays)
    return UsageError("workdays", "N must be a number of working days from 0 to " +
                                      std::to_string(disclosure::kMaxWorkdays));
  auto calendar =
      disclosure::WorkCalendar::Load(disclosure::CalendarFolders(ctx.config.calendar_dir));
  if (!calendar.ok()) return Fail(calendar.status());
  const int add = std::stoi(n);
  const disclosure::CountedDate due = calendar->AddWorkdays(*from, add);
  std::string text = disclosure::FormatDate(due.date);
  if (due.provisional) text += " (provisional: the count crosses a year without holiday data)";
  return Print(args, Record::FromJson(disclosure::WorkdaysJson(*calendar, *from, add)),
               text + "\n");
}

}  // namespace gongkai::cli
