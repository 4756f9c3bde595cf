// The parts every HTML page shares, kept in one place: the common <head>
// lines, the header with the site's one navigation bar (国办公开办函〔2019〕61号:
// 指南, 法定主动公开内容, 依申请公开, 年度报告, plus search) and the footer.
// Pages in daemon/web hold markers that FillChrome() replaces when served.
#pragma once

#include <string>
#include <string_view>

#include "gongkai/config.h"

namespace Poco::Net {
class HTTPServerResponse;
}

namespace gongkai::daemon {

// `text` with &, <, >, " and ' replaced by entities: safe as HTML text and
// inside a quoted attribute.
std::string EscapeHtml(std::string_view text);

// Replaces the first `marker` in `page` with `html` (nothing when absent).
void ReplaceMarker(std::string& page, std::string_view marker, const std::string& html);

// `page` with each <!--#head-->, <!--#header--> and <!--#footer--> replaced.
// `route` is the page's own path ("/", "/apply", ...): its navigation entry
// carries aria-current. Values from `config` are escaped.
std::string FillChrome(std::string_view page, std::string_view route, const Config& config);
// The same for gongkai-hub's pages: its own header (no township's
// navigation) and footer.
std::string FillHubChrome(std::string_view page);

// The Content-Type of a web asset, by its name's extension.
const char* AssetType(const std::string& name);
// Pages and their files: revalidated on every use; scripts and styles only
// from this server.
void SetPageHeaders(Poco::Net::HTTPServerResponse& resp);

}  // namespace gongkai::daemon
