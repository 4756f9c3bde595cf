// 政府信息公开指南 (条例第十二条): the page /guide and GET /api/v1/guide, both
// from the [disclosure] section of the configuration, so the guide changes
// with the agency's contacts and is never a stale copy.
#include <array>
#include <string>
#include <string_view>

#include "http_handlers.h"
#include "json_writer.h"
#include "page_chrome.h"
#include "web_assets.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

namespace {

struct ContactField {
  std::string_view key, label;
  std::string DisclosureContacts::*value;
};

// The contacts, in the order the page lists them.
constexpr std::array<ContactField, 7> kContacts = {{
    {"address", "通信地址", &DisclosureContacts::address},
    {"postcode", "邮政编码", &DisclosureContacts::postcode},
    {"office_hours", "办公时间", &DisclosureContacts::office_hours},
    {"phone", "咨询电话", &DisclosureContacts::phone},
    {"fax", "传真", &DisclosureContacts::fax},
    {"email", "电子邮箱", &DisclosureContacts::email},
    {"website", "网站", &DisclosureContacts::website},
}};

// The request channels of CONTRACT.md section 8, as the API names them.
constexpr std::array<std::string_view, 6> kChannels = {"online",          "in_person", "post",
                                                       "registered_post", "fax",       "email"};

std::string Row(std::string_view label, const std::string& value_html) {
  return "      <div class=\"fact-row\"><dt>" + std::string(label) + "</dt><dd translate=\"no\">" +
         value_html + "</dd></div>\n";
}

// The agency's name and the contacts that are set, as a <dl>; every value
// escaped, the website (an http(s) URL, config.cc) also a link.
std::string ContactsHtml(const Config& config) {
  std::string out = "<dl class=\"facts\">\n";
  out += Row("机关名称", config.agency.empty() ? "（未配置）" : EscapeHtml(config.agency));
  if (!config.agency_code.empty()) out += Row("统一社会信用代码", EscapeHtml(config.agency_code));
  for (const ContactField& f : kContacts) {
    const std::string& value = config.contacts.*f.value;
    if (value.empty()) continue;
    const std::string text = EscapeHtml(value);
    out += Row(f.label, f.key == "website" ? "<a href=\"" + text + "\">" + text + "</a>" : text);
  }
  return out + "    </dl>";
}

}  // namespace

void ServeGuidePage(Call& call) {
  const Config& config = *call.ctx.config;
  std::string page(WebAssets().at("guide.html"));
  ReplaceMarker(page, "<!--#agency-->",
                config.agency.empty()
                    ? "本机关"
                    : "<span translate=\"no\">" + EscapeHtml(config.agency) + "</span>");
  ReplaceMarker(page, "<!--#contacts-->", ContactsHtml(config));
  SendPage(call, FillChrome(page, "/guide", config));
}

// The guide's facts: {"agency", "agency_code", the contacts (each a string,
// "" when not set), "channels", "deadline", "links"}.
void ServeGuide(Call& call) {
  const Config& config = *call.ctx.config;
  JsonWriter w;
  w.BeginObject().Field("agency", config.agency).Field("agency_code", config.agency_code);
  for (const ContactField& f : kContacts) w.Field(f.key, config.contacts.*f.value);
  w.Key("channels").BeginArray();
  for (std::string_view channel : kChannels) w.String(channel);
  w.EndArray();
  w.Key("deadline")
      .BeginObject()
      .Field("workdays", 20)
      .Field("extension_workdays", 20)
      .Field("basis", "条例第三十三条")
      .EndObject();
  w.Field("fee", "free");
  w.Key("links")
      .BeginObject()
      .Field("catalogue", "/catalogue")
      .Field("apply", "/apply")
      .Field("track", "/track")
      .Field("report", "/report")
      .EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.EndObject().str());
}

}  // namespace gongkai::daemon
