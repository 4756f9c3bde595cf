#include "gongkai/disclosure/report_figures.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <set>

namespace gongkai::disclosure {
namespace {

constexpr int64_t kMaxCount = 1'000'000'000;

using Object = Poco::JSON::Object::Ptr;

// The object at `key` of `o` (nullptr when absent); Invalid when not an
// object or when it holds a key not in `known`.
Result<Object> Part(const Object& o, const std::string& where, const std::string& key,
                    const std::set<std::string>& known) {
  if (!o->has(key)) return Object();
  if (!o->isObject(key)) return Status::Invalid(where + key + " must be an object");
  Object part = o->getObject(key);
  for (const std::string& k : part->getNames())
    if (!known.count(k)) return Status::Invalid("unknown figure " + where + key + "." + k);
  return part;
}

Status Count(const Object& o, const std::string& where, const std::string& key, int64_t* out) {
  if (!o || !o->has(key)) return Status::OK();
  const Poco::Dynamic::Var v = o->get(key);
  if (!v.isInteger()) return Status::Invalid(where + key + " must be a whole number");
  const int64_t n = v.convert<int64_t>();
  if (n < 0 || n > kMaxCount)
    return Status::Invalid(where + key + " must be 0 to " + std::to_string(kMaxCount));
  *out = n;
  return Status::OK();
}

// "12.5": digits, at most one point and 4 places after it; leading zeros
// and a trailing point dropped.
Result<std::string> Amount(const std::string& text) {
  const size_t point = text.find('.');
  const std::string whole = text.substr(0, point);
  const std::string frac = point == std::string::npos ? "" : text.substr(point + 1);
  if (whole.empty() || whole.size() > 12 || frac.size() > 4 ||
      whole.find_first_not_of("0123456789") != std::string::npos ||
      frac.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid("table2.fees must be an amount in 万元, e.g. \"12.5\"");
  const std::string trimmed =
      whole.substr(std::min(whole.find_first_not_of('0'), whole.size() - 1));
  return frac.empty() ? trimmed : trimmed + "." + frac;
}

}  // namespace

const std::array<CaseGroup, 3>& CaseGroups() {
  static const std::array<CaseGroup, 3> kGroups = {{
      {"review", "行政复议", &ReportFigures::review},
      {"litigation_direct", "行政诉讼 未经复议直接起诉", &ReportFigures::litigation_direct},
      {"litigation_after_review", "行政诉讼 复议后起诉", &ReportFigures::litigation_after_review},
  }};
  return kGroups;
}

Result<ReportFigures> ParseReportFigures(const std::string& json) {
  Object o;
  try {
    auto v = Poco::JSON::Parser().parse(json);
    if (v.type() != typeid(Object)) return Status::Invalid("figures must be a JSON object");
    o = v.extract<Object>();
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("figures are not JSON: ") + e.what());
  }
  for (const std::string& k : o->getNames())
    if (k != "table2" && k != "table4") return Status::Invalid("unknown figure " + k);
  ReportFigures f;
  auto t2 = Part(o, "", "table2", {"licensing", "penalties", "coercion", "fees"});
  if (!t2.ok()) return t2.status();
  for (auto [key, out] : {std::pair{"licensing", &f.licensing},
                          {"penalties", &f.penalties},
                          {"coercion", &f.coercion}})
    if (Status s = Count(*t2, "table2.", key, out); !s.ok()) return s;
  if (*t2 && (*t2)->has("fees")) {
    const Poco::Dynamic::Var v = (*t2)->get("fees");
    if (!v.isString()) return Status::Invalid("table2.fees must be a string, e.g. \"12.5\"");
    auto amount = Amount(v.toString());
    if (!amount.ok()) return amount.status();
    f.fees = *amount;
  }
  std::set<std::string> groups;
  for (const CaseGroup& g : CaseGroups()) groups.insert(g.key);
  auto t4 = Part(o, "", "table4", groups);
  if (!t4.ok()) return t4.status();
  for (const CaseGroup& g : CaseGroups()) {
    const std::string where = std::string("table4.") + g.key + ".";
    auto part =
        *t4 ? Part(*t4, "table4.", g.key, {"upheld", "corrected", "other", "pending", "total"})
            : Result<Object>(Object());
    if (!part.ok()) return part.status();
    CaseResults& r = f.*g.results;
    for (auto [key, out] : {std::pair{"upheld", &r.upheld},
                            {"corrected", &r.corrected},
                            {"other", &r.other},
                            {"pending", &r.pending},
                            {"total", &r.total}})
      if (Status s = Count(*part, where, key, out); !s.ok()) return s;
    const int64_t sum = r.upheld + r.corrected + r.other + r.pending;
    if (r.total != sum)
      return Status::Invalid(std::string("table 四 ") + g.label +
                             " 总计: " + std::to_string(r.total) + ", but its results add up to " +
                             std::to_string(sum));
  }
  return f;
}

std::string ReportFiguresJson(const ReportFigures& f) {
  std::string out = "{\"table2\":{\"licensing\":" + std::to_string(f.licensing) +
                    ",\"penalties\":" + std::to_string(f.penalties) +
                    ",\"coercion\":" + std::to_string(f.coercion) + ",\"fees\":\"" + f.fees +
                    "\"},\"table4\":{";
  bool first = true;
  for (const CaseGroup& g : CaseGroups()) {
    const CaseResults& r = f.*g.results;
    out += std::string(first ? "" : ",") + "\"" + g.key +
           "\":{\"upheld\":" + std::to_string(r.upheld) +
           ",\"corrected\":" + std::to_string(r.corrected) +
           ",\"other\":" + std::to_string(r.other) + ",\"pending\":" + std::to_string(r.pending) +
           ",\"total\":" + std::to_string(r.total) + "}";
    first = false;
  }
  return out + "}}";
}

}  // namespace gongkai::disclosure
