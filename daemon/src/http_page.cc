#include <Poco/URI.h>

#include <string>

#include "http_handlers.h"
#include "page_chrome.h"
#include "web_assets.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

namespace {

// The asset a request names: /static/{name} names it; "/" is index.html and
// every other page route, "/apply" say, its own apply.html.
std::string AssetName(const Call& call) {
  if (auto name = call.path.find("name"); name != call.path.end()) return name->second;
  std::string page = Poco::URI(call.req.getURI()).getPath();
  std::erase(page, '/');  // a page route is one segment, or none
  return page.empty() ? "index.html" : page + ".html";
}

// The route of a page's file: "index.html" is "/", "apply.html" "/apply".
std::string RouteOf(const std::string& name) {
  const std::string stem = name.substr(0, name.rfind('.'));
  return stem == "index" ? "/" : "/" + stem;
}

}  // namespace

void SendPage(Call& call, const std::string& html) {
  auto& resp = call.resp;
  resp.setStatusAndReason(HTTPResponse::HTTP_OK);
  resp.setContentType("text/html; charset=utf-8");
  SetPageHeaders(resp);
  resp.setContentLength64(html.size());
  resp.send() << html;
}

void ServePage(Call& call) {
  auto it = WebAssets().find(AssetName(call));
  if (it == WebAssets().end() || it->first == "county.html")  // county.html: gongkai-hub's
    throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such file"};
  // Templates the server fills, never served raw.
  if (it->first == "guide.html") return ServeGuidePage(call);
  if (it->first == "catalogue.html") return ServeCataloguePage(call);
  if (it->first == "index.html") return ServeSearchPage(call);
  if (std::string_view(AssetType(it->first)).starts_with("text/html"))
    return SendPage(call, FillChrome(it->second, RouteOf(it->first), *call.ctx.config));
  auto& resp = call.resp;
  resp.setStatusAndReason(HTTPResponse::HTTP_OK);
  resp.setContentType(AssetType(it->first));
  SetPageHeaders(resp);
  resp.setContentLength64(it->second.size());
  resp.send().write(it->second.data(), static_cast<std::streamsize>(it->second.size()));
}

}  // namespace gongkai::daemon
