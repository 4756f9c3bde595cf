#include "timeliness.h"

#include "json_writer.h"

namespace gongkai::daemon {

namespace {

void CountPublished(Timeliness& t, const CatalogueEntry& e,
                    const disclosure::WorkCalendar& calendar) {
  ++t.documents;
  const auto created = disclosure::ParseDate(e.created);
  const auto on = disclosure::ParseDate(e.published);
  if (!created || !on) {
    ++t.documents_undated;
    return;
  }
  const disclosure::CountedDate due = calendar.AddWorkdays(*created, kPublishWithinWorkdays);
  if (*on <= due.date) return;
  LateDocument late{e, disclosure::FormatDate(due.date), 0, due.provisional};
  late.workdays = calendar.WorkdaysBetween(*created, *on, &late.provisional);
  t.provisional |= late.provisional;
  t.late_documents.push_back(std::move(late));
}

void CountRequests(Timeliness& t, const std::vector<ledger::RequestState>& requests,
                   const disclosure::WorkCalendar& calendar) {
  for (const ledger::RequestState& r : requests) {
    const disclosure::RequestClock& c = r.clock;
    if (!c.closed || disclosure::YearOf(*c.closed) != t.year) continue;
    ++t.requests_closed;
    if (*c.closed <= c.due) continue;
    LateRequest late{r.row.code,
                     r.row.received,
                     disclosure::FormatDate(c.due),
                     disclosure::FormatDate(*c.closed),
                     0,
                     c.provisional};
    late.workdays_late = calendar.WorkdaysBetween(c.due, *c.closed, &late.provisional);
    t.provisional |= late.provisional;
    t.late_requests.push_back(std::move(late));
  }
}

}  // namespace

Timeliness ComputeTimeliness(const Catalogue& published,
                             const std::vector<ledger::RequestState>& requests,
                             const disclosure::WorkCalendar& calendar, int year) {
  Timeliness t;
  t.year = year;
  for (const CatalogueEntry& e : published.entries) CountPublished(t, e, calendar);
  CountRequests(t, requests, calendar);
  return t;
}

Result<Timeliness> LoadTimeliness(storage::Catalog& catalog, const Config& config,
                                  const disclosure::WorkCalendar& calendar, int year) {
  auto requests = ledger::LoadRequests(catalog, calendar);
  if (!requests.ok()) return requests.status();
  Timeliness t;
  t.year = year;
  CountRequests(t, *requests, calendar);
  const std::string y = std::to_string(year);
  const Status s =
      ForEachCatalogueEntry(catalog, config, ledger::Role::kInspector, [&](CatalogueEntry&& e) {
        if (e.published.compare(0, 4, y) == 0) CountPublished(t, e, calendar);
      });
  if (!s.ok()) return s;
  return t;
}

std::string TimelinessJson(const Timeliness& t) {
  JsonWriter w;
  w.BeginObject()
      .Field("year", t.year)
      .Field("publish_within_workdays", kPublishWithinWorkdays)
      .Field("provisional", t.provisional);
  w.Key("documents")
      .BeginObject()
      .Field("published", t.documents)
      .Field("undated", t.documents_undated)
      .Field("late", static_cast<int64_t>(t.late_documents.size()));
  w.Key("late_documents").BeginArray();
  for (const LateDocument& d : t.late_documents)
    w.BeginObject()
        .Field("index_no", d.entry.index_no)
        .Field("id", d.entry.id)
        .Field("title", d.entry.title)
        .Field("office", d.entry.office)
        .Field("created", d.entry.created)
        .Field("due", d.due)
        .Field("published", d.entry.published)
        .Field("workdays", d.workdays)
        .Field("provisional", d.provisional)
        .EndObject();
  w.EndArray().EndObject();
  w.Key("requests")
      .BeginObject()
      .Field("closed", t.requests_closed)
      .Field("late", static_cast<int64_t>(t.late_requests.size()));
  w.Key("late_requests").BeginArray();
  for (const LateRequest& r : t.late_requests)
    w.BeginObject()
        .Field("code", r.code)
        .Field("received", r.received)
        .Field("due", r.due)
        .Field("closed", r.closed)
        .Field("workdays_late", r.workdays_late)
        .Field("provisional", r.provisional)
        .EndObject();
  w.EndArray().EndObject().EndObject();
  return w.str();
}

}  // namespace gongkai::daemon
