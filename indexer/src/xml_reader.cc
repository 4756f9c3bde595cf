#include "xml_reader.h"

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include <climits>
#include <mutex>

namespace gongkai::indexer::detail {
namespace {

const char* const kDtdRefused = "XML with a DTD refused (entity expansion is not allowed)";

// libxml2 must be initialised once before it is used from several threads.
void InitLibxml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

// Deliberately absent: XML_PARSE_NOENT (substitute entities), XML_PARSE_DTDLOAD,
// XML_PARSE_DTDATTR, XML_PARSE_DTDVALID, XML_PARSE_HUGE, XML_PARSE_RECOVER.
constexpr int kOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                         XML_PARSE_NOCDATA | XML_PARSE_NOXINCNODE;

// The start of the document as ASCII, from UTF-8 (with or without BOM) or
// UTF-16 (either byte order, with or without BOM); it stops at the first
// character that is not ASCII. Empty for any other encoding.
std::string PrologAscii(std::string_view xml) {
  constexpr size_t kMax = size_t{64} * 1024;
  std::string out;
  auto u = [&](size_t i) { return i < xml.size() ? static_cast<unsigned char>(xml[i]) : 0xFFu; };
  // UTF-16: where the text starts, and whether the ASCII byte of a code unit comes second.
  bool le_bom = u(0) == 0xFF && u(1) == 0xFE, be_bom = u(0) == 0xFE && u(1) == 0xFF;
  bool le = le_bom || (u(0) == '<' && u(1) == 0), be = be_bom || (u(0) == 0 && u(1) == '<');
  size_t start = le_bom || be_bom ? 2 : 0;
  if (le || be) {
    size_t low = be ? 1 : 0, high = be ? 0 : 1;
    for (size_t i = start; i + 1 < xml.size() && out.size() < kMax; i += 2) {
      if (u(i + high) != 0 || u(i + low) >= 0x80) break;
      out.push_back(static_cast<char>(u(i + low)));
    }
    return out;
  }
  if (u(0) == 0xEF && u(1) == 0xBB && u(2) == 0xBF) start = 3;
  for (size_t i = start; i < xml.size() && out.size() < kMax && u(i) < 0x80; ++i)
    out.push_back(xml[i]);
  return out;
}

// Empty if the prolog (what precedes the root element) holds only the XML
// declaration, processing instructions, comments and whitespace; else why
// the document is refused. A DTD is refused here, before libxml2 sees it:
// libxml2 would parse the first chunk, entity references included, before
// reporting the DOCTYPE node.
std::string CheckProlog(std::string_view xml) {
  std::string p = PrologAscii(xml);
  size_t i = 0;
  for (;;) {
    while (i < p.size() && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) ++i;
    if (i >= p.size()) return "XML prolog unreadable or too long";
    std::string_view rest = std::string_view(p).substr(i);
    std::string_view close;
    if (rest.substr(0, 2) == "<?")
      close = "?>";
    else if (rest.substr(0, 4) == "<!--")
      close = "-->";
    else if (rest.substr(0, 9) == "<!DOCTYPE")
      return kDtdRefused;
    else if (rest[0] == '<' && (rest.size() == 1 || rest[1] != '!'))
      return {};  // the root element (its name may start with a non-ASCII letter)
    else
      return "malformed XML prolog";
    size_t end = rest.find(close, 2);
    if (end == std::string_view::npos) return "XML prolog unreadable or too long";
    i += end + close.size();
  }
}

void OnError(void* arg, xmlErrorPtr err) {
  auto* message = static_cast<std::string*>(arg);
  if (!message->empty() || !err || !err->message) return;  // keep the first
  *message = err->message;
  while (!message->empty() && (message->back() == '\n' || message->back() == ' '))
    message->pop_back();
}

}  // namespace

XmlReader::XmlReader(std::string_view xml) : reader_(nullptr) {
  InitLibxml();
  if (xml.size() > static_cast<size_t>(INT_MAX)) {
    error_ = "XML part too large";
    failed_ = true;
    return;
  }
  error_ = CheckProlog(xml);
  if (!error_.empty()) {
    failed_ = true;
    return;
  }
  reader_ =
      xmlReaderForMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, kOptions);
  if (!reader_) {
    error_ = "XML parser could not start";
    failed_ = true;
    return;
  }
  xmlTextReaderSetStructuredErrorHandler(reader_, &OnError, &error_);
}

XmlReader::~XmlReader() {
  if (reader_) xmlFreeTextReader(reader_);
}

XmlReader::Event XmlReader::Next() {
  if (failed_) return Event::kError;
  if (pending_end_) {
    pending_end_ = false;
    return Event::kEnd;
  }
  for (;;) {
    int rc;
    if (positioned_) {  // SkipSubtree already moved onto the next node
      positioned_ = false;
      rc = positioned_rc_;
    } else {
      rc = xmlTextReaderRead(reader_);
    }
    if (rc == 0) return Event::kDone;
    if (rc < 0) {
      failed_ = true;
      if (error_.empty()) error_ = "malformed XML";
      return Event::kError;
    }
    switch (xmlTextReaderNodeType(reader_)) {
      case XML_READER_TYPE_DOCUMENT_TYPE:
        // CheckProlog refuses a DTD already; this catches one it could not see.
        // Entity declarations live in the DTD: without one, nothing expands.
        failed_ = true;
        error_ = kDtdRefused;
        return Event::kError;
      case XML_READER_TYPE_ENTITY_REFERENCE:  // only reachable with a DTD; belt and braces
        failed_ = true;
        error_ = "XML entity reference refused";
        return Event::kError;
      case XML_READER_TYPE_ELEMENT: {
        const xmlChar* local = xmlTextReaderConstLocalName(reader_);
        name_ = local ? reinterpret_cast<const char*>(local) : "";
        pending_end_ = xmlTextReaderIsEmptyElement(reader_) == 1;
        return Event::kStart;
      }
      case XML_READER_TYPE_END_ELEMENT: {
        const xmlChar* local = xmlTextReaderConstLocalName(reader_);
        name_ = local ? reinterpret_cast<const char*>(local) : "";
        return Event::kEnd;
      }
      case XML_READER_TYPE_TEXT:
      case XML_READER_TYPE_CDATA:
      case XML_READER_TYPE_WHITESPACE:
      case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: {
        const xmlChar* value = xmlTextReaderConstValue(reader_);
        text_ = value ? std::string_view(reinterpret_cast<const char*>(value)) : std::string_view();
        return Event::kText;
      }
      default:
        continue;  // comments, processing instructions, declarations
    }
  }
}

std::string XmlReader::Attribute(std::string_view local_name) {
  if (failed_ || !reader_) return {};
  std::string value;
  while (xmlTextReaderMoveToNextAttribute(reader_) == 1) {
    const xmlChar* local = xmlTextReaderConstLocalName(reader_);
    if (local && local_name == reinterpret_cast<const char*>(local)) {
      const xmlChar* v = xmlTextReaderConstValue(reader_);
      if (v) value = reinterpret_cast<const char*>(v);
      break;
    }
  }
  xmlTextReaderMoveToElement(reader_);
  return value;
}

void XmlReader::SkipSubtree() {
  if (failed_ || !reader_) return;
  if (pending_end_) {  // an empty element has no content to skip
    pending_end_ = false;
    return;
  }
  // On the start tag, xmlTextReaderNext moves onto the node after the
  // matching end tag; the next Next() reports that node instead of reading on.
  positioned_rc_ = xmlTextReaderNext(reader_);
  positioned_ = true;
}

}  // namespace gongkai::indexer::detail
