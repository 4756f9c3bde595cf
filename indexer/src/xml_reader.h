// A streaming (pull) reader of one XML part from an untrusted package,
// over libxml2's xmlTextReader. Private to gongkai::indexer.
//
// Safe for hostile input: no DTD is loaded, and a document that carries one
// (<!DOCTYPE ...>) is refused before its body is read, so no entity can be
// declared, let alone expanded (billion laughs, quadratic blow-up); no
// external entity or network access. OOXML, ODF and OFD parts never carry a
// DTD, so nothing legitimate is lost. Text nodes larger than libxml2's
// default limit (10 MB) and nesting deeper than 256 are errors.
//
// Never throws. One reader is not thread-safe; independent readers are.
#pragma once

#include <string>
#include <string_view>

struct _xmlTextReader;  // NOLINT(bugprone-reserved-identifier): libxml2's own name
                        // (libxml/xmlreader.h)

namespace gongkai::indexer::detail {

class XmlReader {
 public:
  enum class Event {
    kStart,  // an element opens (an empty element gives kStart then kEnd)
    kEnd,    // an element closes
    kText,   // character data (text, CDATA or whitespace), entities resolved
    kDone,   // the document ended well-formed
    kError,  // malformed, or refused (see error()); no further events
  };

  // "xml" must remain live while this reader is in use.
  explicit XmlReader(std::string_view xml);
  ~XmlReader();
  XmlReader(const XmlReader&) = delete;
  XmlReader& operator=(const XmlReader&) = delete;

  Event Next();

  // The local name (no prefix) of the element of the last kStart/kEnd.
  const std::string& name() const { return name_; }
  // The character data of the last kText; valid until the next call.
  std::string_view text() const { return text_; }
  // After kStart: the value of the attribute with this local name (in any
  // namespace), or "" if it has none.
  std::string Attribute(std::string_view local_name);
  // After kStart: skips the element's content; its kEnd is not reported.
  void SkipSubtree();

  // Why the last event was kError.
  const std::string& error() const { return error_; }

 private:
  _xmlTextReader* reader_;  // owned; nullptr if libxml2 could not create it
  std::string name_;
  std::string_view text_;
  std::string error_;
  bool pending_end_ = false;  // an empty element still owes its kEnd
  bool failed_ = false;
  bool positioned_ = false;  // SkipSubtree moved onto a node Next() has not reported
  int positioned_rc_ = 0;
};

}  // namespace gongkai::indexer::detail
