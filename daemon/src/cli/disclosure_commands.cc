// Disclosure on application: `gongkai workdays`, and `gongkai requests`
// (list, show, add, event). Requests are registered and changed through the
// running daemon, or here under the data folder's lock when it is stopped
// (admin_client.h), by the same RunAdmin as the HTTP API; they are shown with
// the API's JSON (request_view.h), as an inspector sees them.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <iostream>
#include <iterator>
#include <optional>

#include "annual_report.h"
#include "catalogue.h"
#include "cli/admin_client.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "gongkai/disclosure/calendar.h"
#include "gongkai/disclosure/report_figures.h"
#include "gongkai/ledger/requests.h"
#include "gongkai/log.h"
#include "gongkai/storage/env.h"
#include "request_view.h"
#include "timeliness.h"

namespace gongkai::cli {
namespace {

Result<disclosure::WorkCalendar> LoadCalendar(const Context& ctx) {
  return disclosure::WorkCalendar::Load(disclosure::CalendarFolders(ctx.config.calendar_dir));
}

// "2026-10-29 (provisional)", "2026-10-29 OVERDUE", ...
std::string DueText(const ledger::RequestState& r, disclosure::Date today) {
  return disclosure::FormatDate(r.clock.due) + (r.clock.provisional ? " (provisional)" : "") +
         (r.clock.Overdue(today) ? " OVERDUE" : "");
}

// The request as text: what an office clerk reads at the counter.
std::string RequestText(const ledger::RequestState& r, disclosure::Date today) {
  const ledger::Applicant& a = r.applicant;
  std::string out = "request " + r.row.code + " (" + r.row.channel + "), received " +
                    r.row.received + ", due " + DueText(r, today) + ", " +
                    disclosure::ToString(r.clock.status) +
                    (r.clock.outcome.empty() ? "" : " (" + r.clock.outcome + ")") + "\n";
  out += "  applicant: " + log::Printable(a.name) + " (" + a.type + ")";
  for (const std::string* field : {&a.id_number, &a.contact, &a.address})
    if (!field->empty()) out += ", " + log::Printable(*field);
  out += "\n  description: " + log::Printable(r.description) + "\n";
  if (!r.delivery.empty()) out += "  delivery: " + log::Printable(r.delivery) + "\n";
  for (const storage::RequestEventRow& e : r.events) {
    out += "  " + e.date + "  " + e.event;
    if (!e.outcome.empty()) out += " " + e.outcome;
    if (e.days > 0) out += " +" + std::to_string(e.days) + " working days";
    if (!e.approved_by.empty()) out += ", approved by " + log::Printable(e.approved_by);
    if (!e.reply_document.empty()) out += ", letter " + e.reply_document;
    if (!e.note.empty()) out += ": " + log::Printable(e.note);
    out += "  (log " + std::to_string(e.log_index) + ")\n";
  }
  return out;
}

// Reads the request back after a change and prints it.
int PrintRequest(const Context& ctx, const Args& args, const std::string& code,
                 const std::string& where) {
  auto calendar = LoadCalendar(ctx);
  if (!calendar.ok()) return Fail(calendar.status());
  auto catalog = storage::OpenCatalog(ctx.config.catalog_postgres, ctx.layout.catalog(),
                                      storage::Env::Default());
  if (!catalog.ok()) return Fail(catalog.status());
  auto state = ledger::LoadRequest(**catalog, *calendar, code);
  if (!state.ok()) return Fail(state.status());
  const disclosure::Date today = disclosure::LocalToday();
  return Print(args, Record::FromJson(daemon::RequestJson(*state, ledger::Role::kAdmin, today)),
               RequestText(*state, today) + where);
}

int Change(Context& ctx, const Args& args, const daemon::AdminRequest& request) {
  auto made = MakeChange(ctx, request);
  if (!made.ok()) {
    if (made.status().code() == Status::Code::kNotFound ||
        made.status().code() == Status::Code::kInvalid)
      return Error(made.status().message(), 1);
    return Fail(made.status());
  }
  return PrintRequest(ctx, args, made->answer.request,
                      made->daemon_pid ? "" : "(gongkaid is not running: recorded here)\n");
}

// The applicant, description and delivery from `from` (a file, or "-" for
// stdin): a JSON object like the API's body, {"applicant": {"type", "name",
// "id_number", "contact", "address"}, "description", "delivery"}. Command
// lines are visible to every local user (ps) and land in shell histories and
// sudo's log; a file or a pipe is not.
// The text of `from`: a file, or "-" for stdin.
Result<std::string> ReadFrom(const std::string& from) {
  if (from != "-") return storage::ReadFile(from);
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

Status ReadApplicant(const std::string& from, ledger::NewRequest& r) {
  auto read = ReadFrom(from);
  if (!read.ok()) return read.status();
  const std::string text = std::move(*read);
  try {
    auto o = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    auto a = o ? o->getObject("applicant") : nullptr;
    if (!a) return Status::Invalid("--from: expected {\"applicant\": {...}, \"description\", ...}");
    r.applicant.type = a->optValue<std::string>("type", r.applicant.type);
    r.applicant.name = a->optValue<std::string>("name", "");
    r.applicant.id_number = a->optValue<std::string>("id_number", "");
    r.applicant.contact = a->optValue<std::string>("contact", "");
    r.applicant.address = a->optValue<std::string>("address", "");
    r.description = o->optValue<std::string>("description", "");
    r.delivery = o->optValue<std::string>("delivery", "");
    return Status::OK();
  } catch (const std::exception&) {
    return Status::Invalid("--from: not a JSON object with string fields");
  }
}

// --date, or today.
Result<disclosure::Date> DateOption(const Args& args, const char* option) {
  if (!args.Has(option)) return disclosure::LocalToday();
  auto date = disclosure::ParseDate(args.Option(option));
  if (!date) return Status::Invalid(std::string("--") + option + " must be YYYY-MM-DD");
  return *date;
}

}  // namespace

int CmdWorkdays(Context& ctx, const Args& args) {
  const auto from = disclosure::ParseDate(args.positional[0]);
  if (!from)
    return UsageError("workdays", "DATE must be YYYY-MM-DD, not '" + args.positional[0] + "'");
  const std::string& n = args.positional[1];
  if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(n) > disclosure::kMaxWorkdays)
    return UsageError("workdays", "N must be a number of working days from 0 to " +
                                      std::to_string(disclosure::kMaxWorkdays));
  auto calendar = LoadCalendar(ctx);
  if (!calendar.ok()) return Fail(calendar.status());
  const int add = std::stoi(n);
  const disclosure::CountedDate due = calendar->AddWorkdays(*from, add);
  std::string text = disclosure::FormatDate(due.date);
  if (due.provisional) text += " (provisional: the count crosses a year without holiday data)";
  return Print(args, Record::FromJson(disclosure::WorkdaysJson(*calendar, *from, add)),
               text + "\n");
}

int CmdRequestsList(Context& ctx, const Args& args) {
  const std::string status = args.Option("status");
  if (!status.empty() && status != "open" && status != "paused" && status != "closed")
    return UsageError("requests list", "--status must be open, paused or closed");
  const std::string year = args.Option("year");
  if (!year.empty() &&
      (year.size() != 4 || year.find_first_not_of("0123456789") != std::string::npos))
    return UsageError("requests list", "--year must be a year, e.g. 2026");
  auto calendar = LoadCalendar(ctx);
  if (!calendar.ok()) return Fail(calendar.status());
  auto loaded = ledger::LoadRequests(*ctx.catalog, *calendar);
  if (!loaded.ok()) return Fail(loaded.status());
  const disclosure::Date today = disclosure::LocalToday();
  daemon::RequestFilter filter{status, std::nullopt, year.empty() ? 0 : std::stoi(year)};
  if (args.Has("overdue")) filter.overdue = true;
  const auto all = daemon::SelectRequests(std::move(*loaded), filter, today);
  daemon::JsonWriter w;
  w.BeginObject().Field("total", static_cast<int64_t>(all.size())).Key("results").BeginArray();
  std::string text;
  for (const ledger::RequestState& r : all) {
    daemon::WriteRequest(w, r, ledger::Role::kAdmin, today);
    text += r.row.code + "  received " + r.row.received + "  due " + DueText(r, today) + "  " +
            disclosure::ToString(r.clock.status) +
            (r.clock.outcome.empty() ? "" : " " + r.clock.outcome) + "  " +
            log::Printable(r.applicant.name) + "\n";
  }
  w.EndArray().EndObject();
  if (all.empty()) text = "no requests\n";
  return Print(args, Record::FromJson(w.str()), text);
}

int CmdRequestsShow(Context& ctx, const Args& args) {
  auto calendar = LoadCalendar(ctx);
  if (!calendar.ok()) return Fail(calendar.status());
  auto state = ledger::LoadRequest(*ctx.catalog, *calendar, args.positional[0]);
  if (state.status().IsNotFound()) return Error("no request " + args.positional[0], 1);
  if (!state.ok()) return Fail(state.status());
  const disclosure::Date today = disclosure::LocalToday();
  return Print(args, Record::FromJson(daemon::RequestJson(*state, ledger::Role::kAdmin, today)),
               RequestText(*state, today));
}

int CmdRequestsAdd(Context& ctx, const Args& args) {
  daemon::AdminRequest request;
  request.kind = daemon::AdminRequest::Kind::kRegisterRequest;
  ledger::NewRequest& r = request.new_request;
  r.channel = args.Has("channel") ? args.Option("channel") : "in_person";
  auto received = DateOption(args, "received");
  if (!received.ok()) return UsageError("requests add", received.status().message());
  r.received = *received;
  r.applicant.type = args.Has("type") ? args.Option("type") : "person";
  r.applicant.name = args.Option("name");
  r.applicant.id_number = args.Option("id-number");
  r.applicant.contact = args.Option("contact");
  r.applicant.address = args.Option("address");
  r.description = args.Option("description");
  r.delivery = args.Option("delivery");
  if (args.Has("from"))  // the personal part from a file or stdin, not the command line
    if (Status s = ReadApplicant(args.Option("from"), r); !s.ok())
      return UsageError("requests add", s.message());
  return Change(ctx, args, request);
}

int CmdRequestsEvent(Context& ctx, const Args& args) {
  daemon::AdminRequest request;
  request.kind = daemon::AdminRequest::Kind::kRequestEvent;
  ledger::RequestChange& c = request.change;
  c.code = args.positional[0];
  const auto event = disclosure::ParseRequestEvent(args.positional[1]);
  if (!event || *event == disclosure::RequestEvent::kReceived)
    return UsageError("requests event",
                      "EVENT must be supplement_requested, supplemented, extended, "
                      "consultation_started, consultation_ended, replied, withdrawn or abandoned");
  c.in.event = *event;
  auto date = DateOption(args, "date");
  if (!date.ok()) return UsageError("requests event", date.status().message());
  c.in.date = *date;
  c.in.outcome = args.Option("outcome");
  if (*event == disclosure::RequestEvent::kReplied && !disclosure::IsOutcome(c.in.outcome))
    return UsageError("requests event",
                      "a reply needs --outcome, one of: disclosed, partial, "
                      "refused.*, unavailable.*, not_processed.*, other.* "
                      "(gongkai(1) lists them)");
  if (args.Has("days")) {
    const std::string days = args.Option("days");
    if (days.empty() || days.size() > 2 ||
        days.find_first_not_of("0123456789") != std::string::npos || std::stoi(days) < 1 ||
        std::stoi(days) > disclosure::kMaxExtensionWorkdays)
      return UsageError("requests event", "--days must be 1 to 20 working days");
    c.in.days = std::stoi(days);
  }
  c.in.approved_by = args.Option("approved-by");
  c.note = args.Option("note");
  c.reply_document = args.Option("reply-document");
  return Change(ctx, args, request);
}

namespace {

// --year: `fallback` when absent; nullopt, after the usage error, when it
// is not a year.
std::optional<int> YearOption(const Args& args, const char* command, int fallback) {
  if (!args.Has("year")) return fallback;
  const std::string year = args.Option("year");
  if (year.size() != 4 || year.find_first_not_of("0123456789") != std::string::npos ||
      year < "2000") {
    UsageError(command, "--year must be a year, e.g. 2026");
    return std::nullopt;
  }
  return std::stoi(year);
}

}  // namespace

int CmdReportAnnual(Context& ctx, const Args& args) {
  const std::optional<int> year_number = YearOption(args, "report annual", 0);
  if (!year_number) return 2;
  if (*year_number == 0) return UsageError("report annual", "--year is required, e.g. --year 2026");
  const std::string year = std::to_string(*year_number);
  auto calendar = LoadCalendar(ctx);
  if (!calendar.ok()) return Fail(calendar.status());
  auto report = daemon::LoadAnnualReport(*ctx.catalog, *calendar, ctx.config.agency, *year_number);
  if (!report.ok()) return Fail(report.status());
  const daemon::Table3& table = report->table3;
  if (!table.problems.empty()) {
    for (const std::string& p : table.problems) Error("cross-check fails: " + p, 1);
    return Error("the " + year + " report is not rendered: its cross-checks fail", 1);
  }
  if (args.Has("html")) {
    const std::string html = daemon::AnnualReportHtml(*report);
    if (Status s = storage::WriteFileAtomically(storage::Env::Default(), args.Option("html"), html);
        !s.ok())
      return Fail(s);
    Note(args, "wrote " + args.Option("html"));
  }
  std::string text = daemon::AnnualReportCsv(*report);
  if (!args.Has("csv")) {  // the rows that hold requests, as "label: total"
    text = ctx.config.agency + " " + year + " 年度报告 三、收到和处理政府信息公开申请情况\n";
    for (const auto& line : {std::pair{"new", "一、本年新收"},
                             {"carried_over", "二、上年结转"},
                             {"results_total", "（七）办理结果总计"},
                             {"carried_forward", "四、结转下年度"}})
      text += std::string("  ") + line.second + ": " +
              std::to_string(table.cells.at(line.first).at("total")) + "\n";
    text += "(--csv for every row and column, --html FILE for the printable table)\n";
  }
  return Print(args, Record::FromJson(daemon::AnnualReportJson(*report)), text);
}

int CmdReportTimeliness(Context& ctx, const Args& args) {
  const std::optional<int> year =
      YearOption(args, "report timeliness", disclosure::YearOf(disclosure::LocalToday()));
  if (!year) return 2;
  auto calendar = LoadCalendar(ctx);
  if (!calendar.ok()) return Fail(calendar.status());
  auto counted = daemon::LoadTimeliness(*ctx.catalog, ctx.config, *calendar, *year);
  if (!counted.ok()) return Fail(counted.status());
  const daemon::Timeliness& t = *counted;
  std::string text = std::to_string(t.year) + ": " + std::to_string(t.documents) +
                     " documents published, " + std::to_string(t.late_documents.size()) +
                     " more than 20 working days after their 生成日期 (" +
                     std::to_string(t.documents_undated) + " without one); " +
                     std::to_string(t.requests_closed) + " requests closed, " +
                     std::to_string(t.late_requests.size()) + " late" +
                     (t.provisional ? " (provisional: a year without holiday data)" : "") + "\n";
  for (const daemon::LateDocument& d : t.late_documents)
    text += "  LATE " + d.entry.index_no + "  " + log::Printable(d.entry.title) + ": created " +
            d.entry.created + ", due " + d.due + ", published " + d.entry.published + " (" +
            std::to_string(d.workdays) + " working days)\n";
  for (const daemon::LateRequest& r : t.late_requests)
    text += "  LATE request " + r.code + ": received " + r.received + ", due " + r.due +
            ", closed " + r.closed + " (" + std::to_string(r.workdays_late) +
            " working days late)\n";
  return Print(args, Record::FromJson(daemon::TimelinessJson(t)), text);
}

int CmdCatalogue(Context& ctx, const Args& args) {
  const std::optional<int> year = YearOption(args, "catalogue", 0);
  if (!year) return 2;
  auto catalogue =
      daemon::LoadCatalogue(*ctx.catalog, ctx.config, {*year, args.Option("category")});
  if (!catalogue.ok()) return Fail(catalogue.status());
  std::string text;
  if (args.Has("csv")) {
    text = daemon::CatalogueCsv(*catalogue);
  } else {
    for (const daemon::CatalogueEntry& e : catalogue->entries)
      text += e.index_no + "  " + e.published + "  " +
              log::Printable(e.category.empty() ? "(未分类)" : e.category) + "  " +
              log::Printable(e.title) + (e.doc_number.empty() ? "" : "  " + e.doc_number) + "\n";
    text += std::to_string(catalogue->entries.size()) + " documents\n";
  }
  const auto all = static_cast<int64_t>(catalogue->entries.size());
  return Print(args, Record::FromJson(daemon::CatalogueJson(*catalogue, 0, all)), text);
}

int CmdReportFigures(Context& ctx, const Args& args) {
  const std::optional<int> year = YearOption(args, "report figures", 0);
  if (!year) return 2;
  if (*year == 0 || !args.Has("from"))
    return UsageError("report figures", "--year and --from are required");
  auto text = ReadFrom(args.Option("from"));
  if (!text.ok()) return UsageError("report figures", text.status().message());
  daemon::AdminRequest request;
  request.kind = daemon::AdminRequest::Kind::kReportFigures;
  request.year = *year;
  request.figures = *text;
  auto made = MakeChange(ctx, request);
  if (!made.ok())
    return made.status().code() == Status::Code::kInvalid ? Error(made.status().message(), 1)
                                                          : Fail(made.status());
  const std::string figures =
      disclosure::ReportFiguresJson(*disclosure::ParseReportFigures(request.figures));
  Record r = Record::FromJson("{\"year\":" + std::to_string(*year) +
                              ",\"log_index\":" + std::to_string(made->answer.log_index) +
                              ",\"figures\":" + figures + "}");
  return Print(args, r,
               "signed the " + std::to_string(*year) + " report's figures, log " +
                   std::to_string(made->answer.log_index) + "\n" +
                   (made->daemon_pid ? "" : "(gongkaid is not running: recorded here)\n"));
}

}  // namespace gongkai::cli
