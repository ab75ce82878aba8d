// messtrack snippet, the link forms of the messengers beyond WhatsApp and
// Telegram. This is not a script of its own: snippet.Builder puts it at the
// start of chat() in messtrack.js (after the line moreAnchor names) for the
// builds of sites that configure any of them, so that every other site's
// build is byte for byte what it is without it. It may use what chat() and
// the code before it define: href, target, param, targets, visit, setParam,
// compose.
// The links: max.ru/BOT?start=, vk.me/NAME?ref=, m.me/NAME?ref=,
// ig.me/m/NAME?ref=, viber://pa?chatURI=NAME&context= take the hidden
// code a Telegram bot's start takes; line.me/R/oaMessage/@NAME/?TEXT
// has no hidden parameter, its whole query is the prefilled text,
// which gets the visit's message. The collector's targets give the
// parameter ("text" for LINE); other names are left alone.
{
  const more = /^(https?:\/\/(www\.)?(max\.ru|vk\.me|m\.me|ig\.me\/m|line\.me\/R\/oaMessage)\/([^/?#]+)|viber:\/*pa(?![^?#]))\/?(?![^?#])/i.exec(href);
  if (more) {
    const url = new URL(href);
    const q = url.searchParams;
    const host = more[3]?.toLowerCase();
    target =
      ({ "max.ru": "max", "vk.me": "vk", "m.me": "messenger", "ig.me/m": "instagram" }[host] || (host ? "line" : "viber")) +
      ":" +
      (more[4] || q.get("chatURI") || "").replace(/^(@|%40)/i, "").toLowerCase();
    param = targets[target];
    if (visit && param) {
      if (param == "text") {
        let text = url.search.slice(1);
        try {
          text = decodeURIComponent(text);
        } catch (e) {}
        url.search = encodeURIComponent(compose(text)).replace(/'/g, "%27");
      } else {
        // A link that prefills text as well (m.me's and Viber's text)
        // gets the visit's message there too, where people see the code.
        q.has("text") && setParam(url, "text", compose(q.get("text")));
        setParam(url, param, visit.start);
      }
    }
    return param != null && [target, visit && param ? url.href : href];
  }
}
