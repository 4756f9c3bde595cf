#include "page_chrome.h"

#include <Poco/Net/HTTPServerResponse.h>

#include <array>

namespace gongkai::daemon {

namespace {

struct NavEntry {
  std::string_view route, label;
};

// The navigation bar, in this order on every page.
constexpr std::array<NavEntry, 5> kNav = {{
    {"/", "文件检索"},
    {"/guide", "政府信息公开指南"},
    {"/catalogue", "法定主动公开内容"},
    {"/apply", "依申请公开"},
    {"/report", "年度报告"},
}};

// The navigation entry a route belongs to: tracking and the inspectors'
// list are part of 依申请公开.
std::string_view SectionOf(std::string_view route) {
  return route == "/track" || route == "/requests" ? "/apply" : route;
}

// The lang.js script switches the UI to Traditional characters in the
// browser; it is loaded without defer so that it can convert as the page is
// parsed.
constexpr std::string_view kHead = R"(<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<link rel="icon" href="/static/logo.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/style.css">
<script src="/static/lang.js"></script>)";

constexpr std::string_view kFooter = R"(<footer class="site-footer">
  <div class="wrap">
    <p>本站收录的文件自动存档；每一版本都经数字签名并记入只可附加的透明日志，任何人都可以自行验证。</p>
    <p><a href="/api/v1/log/checkpoint">最新日志检查点</a><span aria-hidden="true"> · </span><a href="/api/v1/keys">签名公钥</a><span aria-hidden="true"> · </span><a href="/track">查询办理进度</a><span aria-hidden="true"> · </span><a href="/requests">办理清单（工作人员）</a></p>
  </div>
</footer>)";

// The switch is hidden until lang.js runs: without JavaScript there is
// nothing to switch.
constexpr std::string_view kHeaderTop = R"(<a class="skip-link" href="#main">跳到主要内容</a>
<header class="site-header">
  <div class="wrap">
    <div class="header-row">
      <p class="brand"><a href="/" id="home-link"><img src="/static/logo.svg" alt="" width="36" height="36"><span>政务公开查询</span></a></p>
      <button type="button" id="lang-switch" class="lang-switch" translate="no" hidden>繁體</button>
    </div>
)";

constexpr std::string_view kHubHeader = R"(<a class="skip-link" href="#main">跳到主要内容</a>
<header class="site-header">
  <div class="wrap">
    <div class="header-row">
      <p class="brand"><a href="/county" id="home-link"><img src="/static/logo.svg" alt="" width="36" height="36"><span>县级政务公开汇总</span></a></p>
      <button type="button" id="lang-switch" class="lang-switch" translate="no" hidden>繁體</button>
    </div>
  </div>
</header>)";

constexpr std::string_view kHubFooter = R"(<footer class="site-footer">
  <div class="wrap">
    <p>汇总来自各乡镇节点经签名日志验证的镜像；依申请公开只汇总件数，申请人信息留在乡镇。</p>
  </div>
</footer>)";

std::string Header(std::string_view route, const Config& config) {
  std::string out(kHeaderTop);
  if (!config.agency.empty())
    out += "    <p class=\"tagline\" translate=\"no\">" + EscapeHtml(config.agency) + "</p>\n";
  out += "    <nav class=\"site-nav\" aria-label=\"政府信息公开\">\n";
  const std::string_view section = SectionOf(route);
  for (const NavEntry& e : kNav) {
    out += "      <a href=\"" + std::string(e.route) + "\"";
    if (e.route == route)
      out += " aria-current=\"page\"";
    else if (e.route == section)
      out += " aria-current=\"true\"";
    out += ">" + std::string(e.label) + "</a>\n";
  }
  return out + "    </nav>\n  </div>\n</header>";
}

void ReplaceAll(std::string& s, std::string_view marker, std::string_view with) {
  for (size_t at = s.find(marker); at != std::string::npos; at = s.find(marker, at + with.size()))
    s.replace(at, marker.size(), with);
}

}  // namespace

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void ReplaceMarker(std::string& page, std::string_view marker, const std::string& html) {
  if (size_t at = page.find(marker); at != std::string::npos) page.replace(at, marker.size(), html);
}

std::string FillChrome(std::string_view page, std::string_view route, const Config& config) {
  std::string out(page);
  ReplaceAll(out, "<!--#head-->", kHead);
  ReplaceAll(out, "<!--#header-->", Header(route, config));
  ReplaceAll(out, "<!--#footer-->", kFooter);
  return out;
}

std::string FillHubChrome(std::string_view page) {
  std::string out(page);
  ReplaceAll(out, "<!--#head-->", kHead);
  ReplaceAll(out, "<!--#header-->", kHubHeader);
  ReplaceAll(out, "<!--#footer-->", kHubFooter);
  return out;
}

const char* AssetType(const std::string& name) {
  const std::string ext = name.substr(name.rfind('.') + 1);
  return ext == "html"  ? "text/html; charset=utf-8"
         : ext == "js"  ? "text/javascript; charset=utf-8"
         : ext == "css" ? "text/css; charset=utf-8"
         : ext == "svg" ? "image/svg+xml"
                        : "application/octet-stream";
}

void SetPageHeaders(Poco::Net::HTTPServerResponse& resp) {
  resp.set("Cache-Control", "no-cache");
  resp.set("X-Content-Type-Options", "nosniff");
  resp.set("Content-Security-Policy",
           "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
           "frame-ancestors 'none'");
}

}  // namespace gongkai::daemon
