// The demo shop's simulated phone. Only the demo pages load this file; it is
// no part of the snippet that sites paste.
//
// A tap on any of the shop's chat buttons opens, beside the page, the chat
// the WhatsApp or Telegram app would open, with the prefilled message the
// snippet put into the link. Send posts it to the collector's
// /demo/SITE/send, which builds the platform's webhook (a signed WhatsApp
// Cloud API notification, or a Telegram update carrying the bot's start
// payload), posts it to the collector's real webhook and answers with the
// chat's match. "Business event" sends a purchase for the chat.
//
// This script loads before the snippet, so that the snippet's window.open
// wrapper calls this one with the link it has completed; the click and
// navigation listeners are added at load, after the snippet's own.
(function () {
  "use strict";
  var script = document.currentScript;
  var site = (script && script.dataset.site) || "demo";
  var info = null;
  var infoReady = fetch("/demo/" + encodeURIComponent(site) + "/phone")
    .then(function (r) { return r.json(); })
    .then(function (j) { info = j; })
    .catch(function () {});

  // What a chat link opens: {messenger, to, kind (number|bot|user), text, start}.
  function chatOf(href) {
    if (!info || !href) return null;
    var u;
    try { u = new URL(href, location.href); } catch (e) { return null; }
    var host = u.hostname.toLowerCase(), q = u.searchParams, path = u.pathname.replace(/^\/+|\/+$/g, "");
    var number = "", name = "";
    if (host === "wa.me") number = path;
    else if (host === "api.whatsapp.com" || host === "web.whatsapp.com") number = q.get("phone") || "";
    else if (u.protocol === "whatsapp:") number = q.get("phone") || "";
    else if (host === "t.me" || host === "telegram.me" || host === "telegram.dog") name = path;
    else if (u.protocol === "tg:") name = q.get("domain") || "";
    else if (host === "max.ru" || host === "vk.me") name = path;
    number = number.replace(/\D/g, "");
    name = name.toLowerCase();
    if (name && host === "max.ru" && (info.max || []).indexOf(name) >= 0) {
      return { messenger: "max", to: name, kind: "bot", start: q.get("start") || "", text: "" };
    }
    if (name && host === "vk.me" && (info.vk || []).indexOf(name) >= 0) {
      return { messenger: "vk", to: name, kind: "community", start: q.get("ref") || "", text: "" };
    }
    if (number && (info.whatsapp || []).indexOf(number) >= 0) {
      return { messenger: "whatsapp", to: number, kind: "number", text: q.get("text") || "" };
    }
    if (name && (info.bots || []).indexOf(name) >= 0) {
      return { messenger: "telegram", to: name, kind: "bot", start: q.get("start") || "", text: "" };
    }
    if (name && (info.users || []).indexOf(name) >= 0) {
      return { messenger: "telegram", to: name, kind: "user", text: q.get("text") || "" };
    }
    return null;
  }

  // Widgets open chats with window.open: the snippet's wrapper, made after
  // this one, hands it the link with the code.
  var nativeOpen = window.open;
  window.open = function (href) {
    var chat = chatOf(href);
    if (chat) { show(chat); return null; }
    return nativeOpen.apply(window, arguments);
  };

  window.addEventListener("load", function () {
    // Clicks the snippet let through (links with the code already, links
    // opening a new tab): the phone opens instead of the app.
    window.addEventListener("click", function (event) {
      if (event.defaultPrevented || event.button !== 0) return;
      var link = event.composedPath().find(function (el) { return el.matches && el.matches("a,area"); });
      var chat = link && chatOf(link.href);
      if (chat) { event.preventDefault(); show(chat); }
    });
    // Navigations to a chat (a click the snippet held for the code, or a
    // script setting location): the snippet's listener ran first; one it
    // cancelled comes again with the code.
    if (window.navigation) {
      window.navigation.addEventListener("navigate", function (event) {
        if (event.defaultPrevented || !event.cancelable) return;
        var chat = chatOf(event.destination.url);
        if (chat) { event.preventDefault(); show(chat); }
      });
    }
  });

  // The person on the phone: one WhatsApp number and Telegram account per
  // browser tab, until "new number".
  function randomDigits(n) {
    var s = "";
    while (s.length < n) s += Math.floor(Math.random() * 10);
    return s;
  }
  function me() {
    var m = {};
    try { m = JSON.parse(sessionStorage.demoPhone) || {}; } catch (e) {}
    if (!m.phone) m.phone = "1555" + randomDigits(7);
    if (!m.tg) m.tg = "5" + randomDigits(9);
    if (!m.name) m.name = "Demo visitor";
    return m;
  }
  function remember(m) { try { sessionStorage.demoPhone = JSON.stringify(m); } catch (e) {} }

  var el, current;
  function $(id) { return document.getElementById(id); }
  function build() {
    var css = document.createElement("style");
    css.textContent = [
      "body.dp-open{margin-right:400px}body.dp-open .chat-float{right:410px}",
      "#demo-phone{position:fixed;top:12px;right:16px;width:370px;height:calc(100vh - 24px);max-height:780px;z-index:2147483000;",
      " border:10px solid #111;border-radius:36px;background:#efeae2;display:flex;flex-direction:column;overflow:hidden;",
      " box-shadow:0 12px 40px #0005;font:14px/1.4 system-ui,sans-serif;color:#111}",
      "#demo-phone[hidden]{display:none}",
      ".dp-status{display:flex;justify-content:space-between;padding:6px 18px 2px;font-size:12px;font-weight:600;background:var(--dp-head);color:#fff}",
      ".dp-head{display:flex;align-items:center;gap:10px;padding:8px 12px;background:var(--dp-head);color:#fff}",
      ".dp-head b{display:block}.dp-head small{opacity:.85}",
      ".dp-avatar{width:36px;height:36px;border-radius:50%;background:#fff;display:grid;place-items:center;font-size:20px}",
      ".dp-close{margin-left:auto;background:none;border:0;color:#fff;font-size:22px;cursor:pointer}",
      ".dp-me{display:flex;gap:6px;align-items:center;padding:6px 10px;background:#fffbe6;border-bottom:1px solid #e6dca8;font-size:12px}",
      ".dp-me input{width:110px;font:inherit;padding:2px 4px}",
      ".dp-me button{font:inherit;cursor:pointer}",
      ".dp-chat{flex:1;overflow-y:auto;padding:10px;display:flex;flex-direction:column;gap:6px}",
      ".dp-note{align-self:center;background:#fff8c6;border-radius:8px;padding:4px 10px;font-size:12px;text-align:center;max-width:90%}",
      ".dp-msg{align-self:flex-end;background:var(--dp-out);border-radius:10px 10px 2px 10px;padding:6px 10px;max-width:80%;white-space:pre-wrap;word-break:break-word;box-shadow:0 1px 1px #0002}",
      ".dp-msg small{display:block;text-align:right;color:#667;font-size:11px}",
      ".dp-start{padding:8px;background:#fff;text-align:center}",
      ".dp-start button{width:100%;padding:10px;border:0;border-radius:8px;background:#3390ec;color:#fff;font-weight:700;letter-spacing:.05em;cursor:pointer}",
      ".dp-compose{display:flex;gap:6px;padding:8px;background:#f0f0f0}",
      ".dp-compose textarea{flex:1;resize:none;height:64px;border:0;border-radius:18px;padding:8px 12px;font:inherit}",
      ".dp-compose button{width:44px;height:44px;align-self:flex-end;border:0;border-radius:50%;background:var(--dp-head);color:#fff;font-size:18px;cursor:pointer}",
      ".dp-answer{background:#fff;border-top:3px solid #2f6b3c;padding:8px 12px;font-size:13px;max-height:45%;overflow-y:auto}",
      ".dp-answer[hidden]{display:none}",
      ".dp-answer h4{margin:0 0 4px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#2f6b3c}",
      ".dp-method{display:inline-block;padding:1px 8px;border-radius:10px;background:#2f6b3c;color:#fff;font-weight:700}",
      ".dp-method.none,.dp-method.heuristic{background:#b7791f}",
      ".dp-answer dl{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;margin:6px 0}",
      ".dp-answer dt{color:#667}.dp-answer dd{margin:0;word-break:break-all}",
      ".dp-actions{display:flex;gap:8px;flex-wrap:wrap;align-items:center}",
      ".dp-actions a,.dp-actions button{font:inherit;font-size:13px;padding:4px 10px;border-radius:14px;border:1px solid #2f6b3c;color:#2f6b3c;background:#fff;text-decoration:none;cursor:pointer}",
      ".dp-wa{--dp-head:#075e54;--dp-out:#d9fdd3}",
      ".dp-tg{--dp-head:#3390ec;--dp-out:#e1ffc7;background:#c9dcb4}",
      "@media (max-width:900px){body.dp-open{margin-right:0}#demo-phone{left:8px;right:8px;width:auto}}",
    ].join("\n");
    document.head.appendChild(css);
    el = document.createElement("aside");
    el.id = "demo-phone";
    el.hidden = true;
    el.setAttribute("aria-label", "Simulated phone (messtrack demo)");
    el.innerHTML =
      '<div class="dp-status"><span>9:41</span><span>messtrack demo phone</span><span>5G ▮</span></div>' +
      '<div class="dp-head"><span class="dp-avatar">🌷</span><div><b id="dp-title"></b><small id="dp-sub"></small></div>' +
      '<button class="dp-close" id="dp-close" type="button" aria-label="Close the phone">×</button></div>' +
      '<div class="dp-me"><label>You: <input id="dp-from" autocomplete="off"></label>' +
      '<label>Name <input id="dp-name" autocomplete="off"></label>' +
      '<button id="dp-new" type="button" title="Another person, another number">↻ new</button></div>' +
      '<div class="dp-chat" id="dp-chat"></div>' +
      '<div class="dp-start" id="dp-start-bar" hidden><button id="dp-start" type="button">START</button></div>' +
      '<form class="dp-compose" id="dp-compose"><textarea id="dp-text" aria-label="Message"></textarea>' +
      '<button id="dp-send" type="submit" aria-label="Send">➤</button></form>' +
      '<div class="dp-answer" id="dp-answer" hidden></div>';
    document.body.appendChild(el);
    $("dp-close").onclick = function () { el.hidden = true; document.body.classList.remove("dp-open"); };
    $("dp-new").onclick = function () {
      var m = me();
      m.phone = "1555" + randomDigits(7);
      m.tg = "5" + randomDigits(9);
      remember(m);
      fillMe();
    };
    $("dp-from").onchange = $("dp-name").onchange = function () {
      var m = me();
      if (current && current.messenger !== "whatsapp") m.tg = $("dp-from").value.replace(/\D/g, "");
      else m.phone = $("dp-from").value.replace(/\D/g, "");
      m.name = $("dp-name").value;
      remember(m);
    };
    $("dp-compose").onsubmit = function (event) {
      event.preventDefault();
      var text = $("dp-text").value;
      if (text.trim()) send(text, text);
    };
    $("dp-start").onclick = function () {
      send(current.start ? "/start " + current.start : "/start", "/start");
    };
  }

  function fillMe() {
    var m = me();
    $("dp-from").value = current && current.messenger !== "whatsapp" ? m.tg : "+" + m.phone;
    $("dp-name").value = m.name;
  }

  function note(text) {
    var n = document.createElement("div");
    n.className = "dp-note";
    n.textContent = text;
    $("dp-chat").appendChild(n);
  }

  function show(chat) {
    if (!el) build();
    current = chat;
    el.className = chat.messenger === "whatsapp" ? "dp-wa" : "dp-tg";
    el.dataset.messenger = chat.messenger;
    el.hidden = false;
    document.body.classList.add("dp-open");
    $("dp-title").textContent = chat.kind === "bot" ? "@" + chat.to : "Main Street Flowers";
    $("dp-sub").textContent = chat.messenger === "whatsapp" ? "+" + chat.to + " · business account"
      : chat.messenger === "max" ? "MAX bot" : chat.messenger === "vk" ? "VK community"
      : chat.kind === "bot" ? "bot" : "@" + chat.to + " · business";
    $("dp-chat").innerHTML = "";
    $("dp-answer").hidden = true;
    $("dp-answer").removeAttribute("data-method");
    fillMe();
    if (chat.kind === "bot") {
      note("What can this bot do? Order bouquets from Main Street Flowers.");
      note("The link carried a hidden start payload" + (chat.start ? ": " + chat.start : " (none: the code had not come yet)") +
        ". START sends it, as " + (chat.messenger === "max" ? "MAX" : "Telegram") + " does.");
      $("dp-start-bar").hidden = false;
    } else if (chat.kind === "community") {
      note("The link carried a hidden ref" + (chat.start ? ": " + chat.start : " (none: the code had not come yet)") +
        ". VK sends it with the first message: write anything.");
      $("dp-start-bar").hidden = true;
    } else {
      note("The app opens with the shop's prefilled message: send it, or edit it first (delete the code to see the heuristic).");
      $("dp-start-bar").hidden = true;
    }
    $("dp-text").value = chat.text;
    $("dp-text").focus();
  }

  function bubble(text) {
    var b = document.createElement("div");
    b.className = "dp-msg";
    b.textContent = text;
    var t = document.createElement("small");
    var now = new Date();
    t.textContent = String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0") + " ✓✓";
    b.appendChild(t);
    $("dp-chat").appendChild(b);
    $("dp-chat").scrollTop = 1e9;
  }

  function send(text, shown) {
    var m = me();
    var from = $("dp-from").value.replace(/\D/g, "");
    if (current.messenger !== "whatsapp") m.tg = from; else m.phone = from;
    m.name = $("dp-name").value || m.name;
    remember(m);
    bubble(shown);
    $("dp-text").value = "";
    $("dp-start-bar").hidden = true;
    var answer = $("dp-answer");
    answer.hidden = false;
    answer.removeAttribute("data-method");
    answer.textContent = "Posting the " + ({ whatsapp: "signed WhatsApp webhook", max: "MAX update", vk: "VK Callback API event" }[current.messenger] ||
      "Telegram update") + "…";
    fetch("/demo/" + encodeURIComponent(site) + "/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ messenger: current.messenger, to: current.to, from: from, name: m.name, text: text, start: current.start || "",
        language: (navigator.language || "en").split("-")[0] }),
    })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.status); return j; }); })
      .then(showAnswer)
      .catch(function (err) { answer.textContent = "The collector refused it: " + err.message; });
  }

  function row(dl, name, value) {
    if (value === undefined || value === null || value === "") return;
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = value;
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function showAnswer(a) {
    var box = $("dp-answer");
    box.innerHTML = "";
    box.dataset.method = a.method;
    box.dataset.chat = a.chat;
    var h = document.createElement("h4");
    h.textContent = "messtrack's answer";
    box.appendChild(h);
    var method = document.createElement("span");
    method.id = "dp-method";
    method.className = "dp-method " + a.method;
    method.textContent = a.method;
    box.appendChild(method);
    box.appendChild(document.createTextNode(" confidence " + Number(a.confidence).toFixed(2)));
    var dl = document.createElement("dl");
    var s = a.source || {};
    row(dl, "chat", a.chat);
    row(dl, "visit", a.visit);
    row(dl, "channel", s.channel);
    row(dl, "utm", [s.utm_source, s.utm_medium, s.utm_campaign].filter(Boolean).join(" / "));
    row(dl, "referrer", s.referrer);
    row(dl, "page", s.page);
    row(dl, "ad", s.ad_title || s.ad_id);
    row(dl, "offline", s.offline_source);
    var cands = a.candidates || [];
    if (a.method !== "id" && cands.length) {
      row(dl, "candidates", cands.map(function (c) {
        return c.visit + " (" + Math.round(c.gap_seconds) + " s before, " + Number(c.confidence).toFixed(2) + ")";
      }).join(", "));
    } else if (a.method === "none") {
      row(dl, "candidates", "none: nobody tapped this chat in the last 30 minutes");
    }
    row(dl, "webhook", "POST " + a.webhook);
    box.appendChild(dl);
    var actions = document.createElement("div");
    actions.className = "dp-actions";
    var card = document.createElement("a");
    card.id = "dp-card";
    card.href = a.card;
    card.target = "_blank";
    card.textContent = "Open the chat's card in the dashboard ↗";
    actions.appendChild(card);
    var buy = document.createElement("button");
    buy.id = "dp-event";
    buy.type = "button";
    buy.textContent = "Business event: " + (info.conversion_event || "purchase") + " $59";
    buy.onclick = function () {
      buy.disabled = true;
      fetch("/demo/" + encodeURIComponent(site) + "/event", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ chat: a.chat, value: 59 }),
      })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          var p = document.createElement("p");
          p.id = "dp-event-result";
          p.textContent = j.error ? "Refused: " + j.error
            : j.converted ? "Converted: the chat's session is a sale of $59 in the reports."
            : "Recorded, not a conversion" + (j.reason ? ": " + j.reason : " (the chat has no open attributed session)") + ".";
          box.appendChild(p);
        });
    };
    actions.appendChild(buy);
    box.appendChild(actions);
    box.scrollIntoView({ block: "nearest" });
  }

  // Lets a visitor try it before the answer to /phone came.
  infoReady.then(function () {});
})();
