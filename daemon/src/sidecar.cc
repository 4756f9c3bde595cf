#include "sidecar.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "gongkai/indexer/extract.h"
#include "gongkai/utf8.h"
#include "json_writer.h"

namespace gongkai::daemon {
namespace {

bool IsDate(const std::string& v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (v[i] < '0' || v[i] > '9') return false;
  const int month = std::stoi(v.substr(5, 2)), day = std::stoi(v.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// Splits "a;b、c，d" into trimmed, non-empty keywords.
std::vector<std::string> SplitKeywords(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    size_t b = cur.find_first_not_of(" \t"), e = cur.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (size_t i = 0; i < s.size();) {
    for (const char* sep :
         {";", ",", "\xE3\x80\x81", "\xEF\xBC\x8C", "\xEF\xBC\x9B"}) {  // ; , 、 ， ；
      const size_t n = std::char_traits<char>::length(sep);
      if (s.compare(i, n, sep) == 0) {
        flush();
        i += n;
        goto next;
      }
    }
    cur += s[i++];
  next:;
  }
  flush();
  return out;
}

std::string Normalise(const Sidecar& m) {
  JsonWriter w;
  w.BeginObject();
  for (auto [key, value] : {std::pair<const char*, const std::string*>{"title", &m.title},
                            {"doc_number", &m.doc_number},
                            {"agency", &m.agency},
                            {"category", &m.category},
                            {"published", &m.published},
                            {"created", &m.created},
                            {"summary", &m.summary},
                            {"legal_status", &m.legal_status},
                            {"repealed_on", &m.repealed_on}})
    if (!value->empty()) w.Field(key, *value);
  if (!m.keywords.empty()) {
    w.Key("keywords").BeginArray();
    for (const auto& k : m.keywords) w.String(k);
    w.EndArray();
  }
  if (m.classification) w.Field("classification", *m.classification);
  w.EndObject();
  return w.str();
}

}  // namespace

Result<Sidecar> ParseSidecar(const std::string& text) {
  if (text.size() > kSidecarMaxBytes) return Status::Invalid("larger than 64 KiB");
  if (!IsValidUtf8(text)) return Status::Invalid("not UTF-8");
  Poco::JSON::Object::Ptr o;
  try {
    auto v = Poco::JSON::Parser().parse(text);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return Status::Invalid("not a JSON object");
    o = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return Status::Invalid("bad JSON: " + e.message());
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("bad JSON: ") + e.what());
  }
  Sidecar m;
  for (const std::string& key : o->getNames()) {
    const Poco::Dynamic::Var v = o->get(key);
    auto text_of = [&](std::string& out) -> Status {
      if (!v.isString()) return Status::Invalid("'" + key + "' must be a string");
      out = v.extract<std::string>();
      if (out.size() > 4096) return Status::Invalid("'" + key + "' is longer than 4096 bytes");
      return Status::OK();
    };
    Status s;
    if (key == "title")
      s = text_of(m.title);
    else if (key == "doc_number")
      s = text_of(m.doc_number);
    else if (key == "agency")
      s = text_of(m.agency);
    else if (key == "category") {
      s = text_of(m.category);
      if (s.ok() && !IsCategory(m.category))
        s = Status::Invalid("'category' must be a name or a path of two, 一级/二级");
    } else if (key == "published" || key == "created" || key == "repealed_on") {
      std::string& date = key == "published" ? m.published
                          : key == "created" ? m.created
                                             : m.repealed_on;
      s = text_of(date);
      if (s.ok() && !IsDate(date)) s = Status::Invalid("'" + key + "' must be a date, YYYY-MM-DD");
    } else if (key == "summary") {
      s = text_of(m.summary);
    } else if (key == "legal_status") {
      s = text_of(m.legal_status);
      if (s.ok() && m.legal_status != "effective" && m.legal_status != "repealed")
        s = Status::Invalid("'legal_status' must be effective or repealed");
    } else if (key == "classification") {
      std::string value;
      s = text_of(value);
      if (s.ok() && !(m.classification = ParseClassification(value)))
        s = Status::Invalid("'classification' must be public or restricted");
    } else if (key == "keywords") {
      if (v.isString()) {
        m.keywords = SplitKeywords(v.extract<std::string>());
      } else if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
        auto a = v.extract<Poco::JSON::Array::Ptr>();
        for (size_t i = 0; i < a->size(); ++i) {
          if (!a->get(static_cast<unsigned>(i)).isString())
            return Status::Invalid("'keywords' must hold strings");
          m.keywords.push_back(a->getElement<std::string>(static_cast<unsigned>(i)));
        }
      } else {
        s = Status::Invalid("'keywords' must be a string or an array of strings");
      }
    } else {
      m.notes.push_back("unknown key '" + key + "' ignored");
    }
    if (!s.ok()) return s;
  }
  if ((m.legal_status == "repealed") != !m.repealed_on.empty())
    return Status::Invalid("'repealed_on' goes with 'legal_status': 'repealed', and only with it");
  m.json = Normalise(m);
  return m;
}

Sidecar WithDefaultCategory(Sidecar m, const std::string& category) {
  if (!m.category.empty() || category.empty()) return m;
  m.category = category;
  m.json = Normalise(m);
  return m;
}

Sidecar SidecarFromStored(const std::string& json) {
  if (json.empty() || json == "{}") return Sidecar{.json = "{}"};
  auto m = ParseSidecar(json);
  return m.ok() ? *m : Sidecar{.json = "{}"};
}

}  // namespace gongkai::daemon
