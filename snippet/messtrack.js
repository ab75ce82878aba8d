// messtrack snippet: registers the visit with the collector and puts the
// visit's code into the site's own WhatsApp and Telegram links.
//
// This file is the one readable source. snippet.Builder minifies it with
// esbuild at start-up; WHATSAPP, TELEGRAM, CONSENT, QR (desktop_qr),
// EXTRAS (link_extras: forms, inline onclick handlers, same-origin iframes,
// popups opened empty), ANALYTICS (GA4 or Metrica: the _ga and _ym_uid
// cookies go with the visit) and SENDBACK (the send-back widget) are
// build-time defines (true/false) so that a site gets only the code it
// needs, and the free name MESSTRACK_SETTINGS is replaced with the site's
// settings when it is served. A build without QR
// is byte for byte what it was before QR, and one without ANALYTICS what it
// was before the analytics client IDs.
//
// Rules this code keeps:
//   - a link is never broken: while the code is unknown the original link
//     works, and navigation waits for the code at most WAIT_MS;
//   - only links to the site's own numbers, bots and users are changed;
//   - with CONSENT, nothing is stored or sent before messtrack('consent').

/**
 * Settings inlined by the collector for one site, positional because every
 * visitor downloads them: [site, url, targets] where
 *   site    site name, as in /s/{site}.js
 *   url     collector base URL ending in "/"; "" means where this script
 *           came from
 *   targets the site's chats, each with the query parameter that carries
 *           the code: {"whatsapp:15551234567": "text",
 *           "telegram:demo_bot": "start", "telegram:demo_manager": "text"}
 *           (numbers digits only, usernames lower case)
 * The message template is not here: the collector fills it in and sends the
 * finished text with the visit.
 * @typedef {[string, string, Object<string, string>]} Settings
 */

/**
 * Body of POST /v1/visits (sent as text/plain, so no CORS preflight), an
 * array because it is shorter to write: [site, url, referrer, width,
 * height, tz, visitor, ga, ym] where url is the current page URL (the
 * landing URL), width and height the screen's, tz minutes east of UTC,
 * visitor the first-party visitor ID (null on a first visit), ga and ym the
 * page's _ga and _ym_uid cookies (null without them). The collector takes
 * the documented object too ({site, url, referrer, screen: "1920x1080", tz,
 * visitor, ga, ym}).
 * @typedef {[string, string, string, number, number, number, string|undefined, string|undefined, string|undefined]} VisitRequest
 */

/**
 * Answer 200 of POST /v1/visits.
 * @typedef {Object} VisitAnswer
 * @property {string} visit   visit ID
 * @property {string} code    the code the message carries
 * @property {string} text    the site's message with the code, ending in a line break
 * @property {string} start   Telegram bot start payload
 * @property {string} expires RFC 3339 end of the visit
 * @property {number} until   the same end in Unix milliseconds, which is
 *                            cheaper to compare
 * @property {string} visitor first-party visitor ID, as sent or newly minted
 */

/**
 * What localStorage keeps between page views of one visit.
 * @typedef {VisitAnswer & {key: string}} StoredVisit
 */

/**
 * Body of the POST /v1/clicks beacon (text/plain), an array like the
 * visit's: [site, visit, target, page, href] where target is
 * "whatsapp:15551234567" or "telegram:demo_bot", page the current page URL
 * and href the link as followed.
 * @typedef {[string, string, string, string, string]} ClickBeacon
 */

/**
 * A recognised chat link: [click target, href with the code when known].
 * @typedef {[string, string]} Chat
 */

// Runs once per page; a second copy of the tag must not wrap window.open
// twice or send every beacon twice. A block, not a function, so that the
// build needs no wrapper: its const and let names stay out of the page's
// global scope all the same.
if (!window.messtrack?.loaded) {
  /** Longest time a click on a chat link waits for the visit's code. */
  const WAIT_MS = 400;
  /** Most elements one task looks at before it yields to the page. */
  const SLICE = 100;

  /** @type {Settings} */
  const [site, collector, targets] = MESSTRACK_SETTINGS;
  const win = window;
  const doc = document;
  const loc = location;
  // Without a configured URL the collector is where this script came from;
  // currentScript is only set while this runs, so it is read here.
  // Either way it ends in "/": the script is at {collector}/s/{site}.js.
  const api = collector || new URL("..", doc.currentScript.src);

  // All four start undefined:
  /** @type {StoredVisit|undefined} */
  let visit;
  /** @type {Promise<void>|undefined} while a registration is under way */
  let pending;
  // The chat URL this script let through or sent the window to, so that the
  // navigate listener does not handle it a second time.
  let passing;
  // The last click beacon's link and time: one click is one beacon, however
  // many of the page's handlers, wrappers and navigations it goes through.
  let sent;
  // Elements waiting to be looked at, in the order they came.
  const todo = [];

  // Sets one query parameter and leaves every other one byte for byte as
  // written (phone=+7… stays). The value is encoded strictly: %20 for a
  // space (wa.me reads a raw "+" as one), and %27 for "'", so the link can
  // sit inside a quoted script string. The parameter goes last, so that
  // text a page script appends to the link lands in it. The name is
  // "text" or "start", so it needs no escaping in the expression; the
  // leading "?" or "&" that slice() drops is the search's own "?", or the
  // "&" before the new parameter when nothing else is left.
  const setParam = (url, name, value) => {
    url.search = (url.search.replace(RegExp("[?&]" + name + "=[^&]*", "g"), "") + "&" + name + "=" + encodeURIComponent(value).replace(/'/g, "%27")).slice(1);
    return url.href;
  };

  // Puts the visit's message (the collector's, with the code, ending in a
  // line break so that text a page script glues onto the link starts a line
  // of its own) after what the link already says; a text that has the code
  // already stays as it is.
  const compose = (text) => (!text ? visit.text : text.includes(visit.code) ? text : text + "\n" + visit.text);

  /**
   * Recognises a link to one of the site's numbers, bots or users and gives
   * it back with the code; anything else gives undefined and is left alone.
   * Strings that cannot be a chat link are turned away before any parsing.
   * Only the messengers the site uses are looked for (WHATSAPP, TELEGRAM).
   * target and param are locals, declared as parameters to save a
   * declaration: callers pass only href (find() passes an index and the
   * array, which are overwritten before they are read).
   * @param {string} href
   * @returns {Chat|undefined}
   */
  const chat = (href, target, param) => {
    // The name is in the path ([www.]wa.me/N, [www.]t.me/NAME,
    // telegram.me/NAME, telegram.dog/NAME, Android's
    // intent://send/N#Intent;scheme=whatsapp;…) or in a parameter
    // (api.|web.whatsapp.com/send?phone=N, whatsapp://send?phone=N,
    // tg://resolve?domain=NAME). One anchored expression over the string
    // turns away every other link before any URL parsing; the slashes after
    // whatsapp: and tg: are as browsers write them either way. The name is
    // the last group: undefined for the forms that carry it in a parameter.
    const match = (
      WHATSAPP
        ? TELEGRAM
          ? /^(https?:\/\/(\w+\.)?whatsapp\.com\/send|whatsapp:\/*send|tg:\/*resolve|(https?:\/\/(www\.)?((wa|t)\.me|telegram\.(me|dog))\/|intent:\/*send(?=.*scheme=whatsapp)\/?)([^/?#]*))\/?(?![^?#])/i
          : /^(https?:\/\/(\w+\.)?whatsapp\.com\/send|whatsapp:\/*send|(https?:\/\/(www\.)?wa\.me\/|intent:\/*send(?=.*scheme=whatsapp)\/?)([^/?#]*))\/?(?![^?#])/i
        : /^(tg:\/*resolve|https?:\/\/(www\.)?(t\.me|telegram\.(me|dog))\/([^/?#]*))\/?(?![^?#])/i
    ).exec(href);
    if ((WHATSAPP || TELEGRAM) && match) {
      // What the expression took parses: a scheme, then a host it names;
      // it is absolute, so it needs no base.
      const url = new URL(href);
      const params = url.searchParams;
      // Messenger: the fifth group is the host of the path forms (t.me,
      // telegram.me|dog: Telegram); otherwise the scheme tells (tg:
      // Telegram). Browsers write both in lower case. Numbers compare by
      // digits ("+7 (999) 123-45-67" is 79991234567),
      // names case-insensitively; the collector's list says which
      // parameter carries the code: start for bots, which never see
      // ?text=, text for numbers and users.
      target =
        (WHATSAPP ? (TELEGRAM && (match[5] || href)[0] == "t" ? "telegram:" : "whatsapp:") : "telegram:") +
        (match.pop() || (WHATSAPP && TELEGRAM ? params.get("phone") || params.get("domain") : params.get(WHATSAPP ? "phone" : "domain")) || "")
          .replace(/%..|\W/g, "")
          .toLowerCase();
      param = targets[target];
      // A bot's ?startapp= link opens its Mini App, which the first of
      // start and startapp decides and which never passes start on to the
      // bot: it is kept as written, and its click still counts. (No link
      // has a textapp parameter.)
      if (TELEGRAM && params.has(param + "app")) param = "";
      return param != null && [target, visit && param ? setParam(url, param, param == "text" ? compose(params.get(param)) : visit[param]) : href];
    }
  };

  // Rewrites one link in place, so that middle-click, copy-link and the
  // page's own scripts all see the link with the code. The visit changes at
  // most once per page view (from unknown to known) and compose() leaves a
  // text with the code alone, so a second rewrite changes nothing. The link
  // is an HTML <a> or <area>, or an SVG <a>, whose href is an object with
  // the string in baseVal; other nodes have no string href, which chat()
  // does not recognise.
  //
  // With EXTRAS, an element whose href is not a chat's (a <button>, a
  // <div>, <a href="#">) may name the chat in its inline onclick handler
  // (location.href='https://wa.me/…', window.open('…')): the first quoted
  // chat link there is rewritten inside the handler's text, which the
  // browser compiles anew and runs as written, so the page's own
  // navigation carries the code in every browser, with or without the
  // Navigation API. The code sits in the quotes safely: setParam's value
  // holds no quote, space or backslash. A chat found there is marked
  // (found[2]) for the click listener. And a same-origin iframe's window
  // is watched (see hook) now and whenever the frame loads a document; a
  // frame whose page runs its own copy of this script is left to it, and
  // one watched from here gets this copy's messtrack, so a copy it loads
  // later does nothing.
  const fix = (el) => {
    let href = el.href?.baseVal ?? el.href;
    let found = chat(href);
    if (EXTRAS) {
      const handler = !found && el.getAttribute?.("onclick");
      if (handler && (found = chat((href = handler.split(/['"]/).find(chat))))) found[2] = 1;
      // A page that enforces Trusted Types refuses a handler set from a
      // string: its handler stays as written.
      try {
        if (found && found[1] != href) el.setAttribute(handler ? "onclick" : "href", handler ? handler.replace(href, () => found[1]) : found[1]);
      } catch {}
      if (el.contentWindow) {
        const watch = () => {
          const w = el.contentWindow;
          if (el.contentDocument && (w.messtrack ||= win.messtrack) == win.messtrack) {
            hook(w, w.document, w.open);
            look(w.document);
          }
        };
        el.addEventListener("load", watch);
        watch();
      }
    } else if (found && found[1] != href) el.setAttribute("href", found[1]);
    return found;
  };

  // Rewrites the waiting elements SLICE of them at a time, each slice in a
  // task of its own, so that no page, however many links it has or adds,
  // gets a long task from this script. Looking at a link costs a few
  // microseconds, and nothing for a link that is not a chat's.
  const work = () => {
    todo.splice(0, SLICE).forEach(fix);
    todo[0] && setTimeout(work);
  };

  // Queues an element (or document) and every link inside it. Only what
  // was added or changed is queued, so the work grows with the page, never
  // with its square.
  //
  // With QR it also fills the QR placeholders inside it, but not where the
  // main pointer is a finger (phones, tablets, which open the chat link
  // themselves): on a desktop the chat app is usually on the person's
  // phone, and the phone's camera takes the visit across. A placeholder's chat is its
  // data-messtrack-qr value ("whatsapp:15551234567", "telegram:demo_bot")
  // or else the chat link it is or holds; an <img> gets the collector's QR
  // image of that chat's link with the visit's code as its src, any other
  // element gets such an <img> appended once. Without a visit the page's
  // own content stays as it is. (The code sits here rather than in a
  // function of its own so that builds without QR carry none of it.)
  const look = (root) => {
    todo[0] || setTimeout(work);
    todo.push(root);
    // What may hold a chat link: links and image-map areas; with EXTRAS
    // also inline onclick handlers, and iframes, whose documents hold links.
    root.querySelectorAll?.(EXTRAS ? "a,area,[onclick],iframe" : "a,area").forEach((el) => todo.push(el));
    if (QR && visit && !matchMedia("(pointer:coarse)").matches)
      [root, ...(root.querySelectorAll?.("[data-messtrack-qr]") || [])].forEach((el) => {
        // chat() of a missing href is undefined, like that of any link not ours.
        const target = el.matches?.("[data-messtrack-qr]") && (el.dataset.messtrackQr || chat(el.href || el.querySelector("a")?.href)?.[0]);
        if (target) {
          const img = el.tagName == "IMG" ? el : el.mq || (el.mq = el.appendChild(new Image()));
          img.src = api + "qr/" + site + "/" + visit.visit + ".svg?target=" + encodeURIComponent(target);
          img.alt = img.alt || "QR code to chat from your phone";
        }
      });
  };

  // Marks a chat link as let through, and reports the click. Without a
  // visit (not yet known, failed, refused or not consented) there is
  // nothing to report. The same link again within a second is the same
  // click.
  /** @param {Chat} found */
  const beacon = (found) =>
    (passing = found[1]) &&
    visit &&
    sent != (sent = passing + (Date.now() >> 10)) &&
    navigator.sendBeacon(
      api + "v1/clicks",
      JSON.stringify(/** @type {ClickBeacon} */ ([site, visit.visit, found[0], loc.href, passing])),
    );

  // Sends the page's window to a chat link once the registration under way
  // ends, or after WAIT_MS at the latest, with the code if it came; at once
  // when none is under way. Whichever comes first sends it, once. With
  // EXTRAS this also takes an iframe's own navigation to a chat that needs
  // the code (its script's location.href, a form without a target): the
  // chat opens in the page's window, where it can show (chat sites refuse
  // to be framed).
  const go = (href) => {
    // (found is a local, declared as a parameter; it is set before it is
    // read.)
    let once = (found) => {
      if (once) {
        once = 0;
        beacon((found = chat(href)));
        loc.href = found[1];
      }
    };
    pending && pending.then(once);
    setTimeout(once, pending && WAIT_MS);
  };

  // Registers a new visit, or continues the stored one when it has not
  // expired and no new ad click brought the visitor here; then every link on
  // the page gets the code, if one came.
  //
  // Storage may be full, disabled or blocked by privacy settings; then the
  // visit simply lives for this page view. One page origin is one site, so
  // the key needs no site name.
  const start = (stored = {}) => {
    try {
      stored = JSON.parse(localStorage.messtrack) || stored;
    } catch (e) {}
    // A new ad click (other UTM tags or click IDs) starts a new visit even
    // while an older one is still stored; a page without them continues it.
    const key = loc.search.match(/[?&](utm_\w+|\w*clk?id|[gw]braid|li_fat_id)=[^&]*/gi)?.join("");
    // A record with no visit has no expiry, and a missing one never wins;
    // one stored before visits carried their text and end in milliseconds
    // is registered again.
    visit = stored.until > Date.now() && (!key || key == stored.key) && stored;
    // Once the visit is known, or known not to come, every link of the
    // page is looked at.
    const ready = () => {
      pending = 0;
      look(doc);
    };
    visit
      ? ready()
      : (pending = fetch(api + "v1/visits", {
          method: "POST",
          // The language is the collector's, from Accept-Language. The
          // time zone is minutes east of UTC: what the matcher compares,
          // and free; the IANA name would cost the first Intl call, tens
          // of milliseconds, before the request could go out. The
          // collector mints the visitor ID on a first visit and answers
          // it with every visit.
          body: JSON.stringify(
            /** @type {VisitRequest} */ ([
              site,
              loc.href,
              doc.referrer,
              screen.width,
              screen.height,
              -new Date().getTimezoneOffset(),
              stored.visitor,
              // Google Analytics' and Yandex Metrica's client IDs, when
              // the page has them and the site sends chats there, so the
              // chat reaches them as this visitor's.
              ...(ANALYTICS ? ["_ga", "_ym_uid"].map((name) => doc.cookie.match("(^|; )" + name + "=([^;]*)")?.[2]) : []),
            ]),
          ),
        })
          .then((response) => response.json())
          // An error answer has no visit and is dropped like a network
          // error; storage is written only once the collector has given a
          // visit (a storage that refuses throws after visit is set).
          .then((/** @type {VisitAnswer} */ answer) => answer.visit && (localStorage.messtrack = JSON.stringify((visit = { ...answer, key }))))
          // Whatever failed (network, answer, storage), the page goes on
          // with the links as they are; ready itself never throws.
          .then(ready, ready));
  };

  // Watches a window w with its document d and its own window.open: this
  // one, and with EXTRAS each same-origin iframe's, whose document is
  // marked so that it is watched once however often its frame is seen.
  const hook = (w, d, open, found) => {
    if (EXTRAS) {
      if (d.messtrack) return;
      d.messtrack = 1;
      // A form sent to a chat (a GET form to wa.me or api.whatsapp.com/send
      // with a text field, or one whose action is a chat link): the
      // browser would put only the form's fields in the query. The link it
      // would follow is made here and sent with the code: through
      // window.open into the form's target, or like a held click into
      // the page's window. FormData fires the form's formdata event, as
      // the submission itself does. A submit event a page script sent to
      // something else than a form, or an action no URL can be made of,
      // is left alone.
      d.addEventListener("submit", (/** @type {SubmitEvent} */ event) => {
        try {
          const form = event.target;
          const url = new URL(form.action, loc);
          url.search = new URLSearchParams(new FormData(form, event.submitter));
          if (!event.defaultPrevented && chat(url.href)) {
            event.preventDefault();
            form.target ? w.open(url.href, form.target) : go(url.href);
          }
        } catch {}
      });
    }

    // Left clicks on links, also inside open shadow roots (middle clicks
    // are auxclick and open the link as it stands, with the code once
    // known): a link with the code just goes; while the code is on its way
    // a plain click in this window is held up to WAIT_MS. Clicks the page
    // handled itself are left to it (its window.open or location call is
    // covered below); modified clicks and links with any target are never
    // held. With EXTRAS, a chat named in an inline handler (found[2]) has
    // been followed by the page itself by now, so its click is reported
    // and never held.
    d.addEventListener("click", (/** @type {MouseEvent} */ event) => {
      // The first element on the path that holds a chat link: fix() of
      // anything else (a <div>, an SVG <use href="#icon">, the document)
      // is not a chat. (found is hook's, shared by its synchronous
      // listeners, to save a declaration.)
      const link = (EXTRAS || !event.defaultPrevented) && event.composedPath().find((el) => (found = fix(el)));
      if (link && (!EXTRAS || found[2] || !event.defaultPrevented)) {
        if (!pending || (EXTRAS && found[2]) || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) {
          beacon(found);
        } else {
          event.preventDefault();
          go(found[1]);
        }
      }
    });

    // Links added or changed after load (chat widgets, single-page apps):
    // only the added elements and the changed links are looked at.
    new MutationObserver(
      (records) => visit && records.forEach((record) => (record.attributeName ? look(record.target) : record.addedNodes.forEach(look))),
    ).observe(d, {
      // 1 is true to the dictionary, and shorter.
      childList: 1,
      subtree: 1,
      attributeFilter: ["href"],
    });

    // Floating widgets often open the chat from script. window.open can be
    // wrapped; it must return the new window at once, so it never waits.
    //
    // With EXTRAS, a popup opened empty (open(), open("") or
    // open("about:blank"), with no window features) is handed to the page
    // through a Proxy, so that pointing it at a chat later (w.location =
    // chat) is seen and carries the code. Everything else passes through
    // to the window (methods bound to it), but the page holds the
    // stand-in, not the window itself: a page that compares it with
    // event.source would no longer find it equal, which is one reason this
    // is opt-in. Popups with window features (sign-in and payment windows)
    // get the window itself, and a blocked popup stays null.
    w.open = (href, ...rest) => {
      const popup = open.call(w, (found = chat(href)) ? (beacon(found), found[1]) : href, ...rest);
      return EXTRAS && popup && !rest[1] && (!href || href == "about:blank")
        ? new Proxy(popup, {
            get: (target, key) => ((key = target[key])?.bind ? key.bind(target) : key),
            set: (target, key, value) => ((target[key] = key == "location" && (found = chat(value)) ? (beacon(found), found[1]) : value), 1),
          })
        : popup;
    };

    // location.assign/replace and href assignment cannot be wrapped
    // (Location is unforgeable). Where the Navigation API exists, its
    // cancelable navigate event catches them and the chat is opened again
    // with the code; elsewhere they go through unchanged, which still
    // reaches the chat (with EXTRAS, inline handlers are rewritten, see
    // fix).
    w.navigation?.addEventListener("navigate", (event) => {
      const href = event.destination.url;
      const found = href != passing && event.cancelable && chat(href);
      if (found) {
        if (pending || found[1] != href) {
          event.preventDefault();
          go(href);
        } else {
          beacon(found);
        }
      }
    });
  };

  hook(win, doc, win.open);

  // The send-back widget (SENDBACK builds only): in every element with
  // data-messtrack-sendback, and in el on messtrack('sendback', el), a
  // number field for a visitor with no WhatsApp at hand: the business
  // writes first. A <form> gets the field and its submit; any other element
  // gets a form of its own. The field has a label, the visit's country code
  // as its example, an inline message tied to it by aria-describedby, and
  // the site's consent line (a required checkbox with CONSENT). As the
  // person types the collector reads the number with the rules it sends
  // by; without a visit or a collector the form stays usable and says that
  // it cannot send. The page may word the texts with
  // data-messtrack-sendback-label, -button and -consent.
  //
  // messtrack('sendback', el) works once the queue stub below is in place:
  // the wrapper goes around it in a microtask, which runs as soon as this
  // script ends and before any page script, and takes the calls queued
  // before this loaded.
  if (SENDBACK) {
    const queued = win.messtrack?.q;
    let count = 0;
    const post = (path, phone, consent) =>
      fetch(api + "v1/sendback" + path, {
        method: "POST",
        body: JSON.stringify({ site, visit: visit.visit, phone, ...(consent && { consent }) }),
      }).then((response) => response.json());
    const sendback = (el) => {
      if (!el || el.mtsb) return;
      el.mtsb = 1;
      const id = "mtsb" + ++count;
      const data = el.dataset;
      const form = el.tagName == "FORM" ? el : el.appendChild(doc.createElement("form"));
      const box = form.appendChild(doc.createElement("div"));
      box.innerHTML = `<label for=${id}></label> <input id=${id} type=tel name=phone autocomplete=tel inputmode=tel required aria-describedby="${id}c ${id}m"> <button type=submit></button><p id=${id}c><label><input type=checkbox required${CONSENT ? "" : " hidden checked"}> <span></span></label></p><p id=${id}m role=status aria-live=polite></p>`;
      // In document order: label, field, button, the consent line's <p>,
      // <label>, checkbox and text, the message.
      const [label, input, button, , , check, line, msg] = box.querySelectorAll("*");
      label.textContent = data.messtrackSendbackLabel || "Your WhatsApp number";
      button.textContent = data.messtrackSendbackButton || "Message me on WhatsApp";
      line.textContent = data.messtrackSendbackConsent || "We will write to you on WhatsApp about your request.";
      // Shows a message; bad marks the field invalid for assistive tech.
      const say = (text, bad) => {
        msg.textContent = text || "";
        input.setAttribute("aria-invalid", !!bad);
      };
      let timer, asked;
      // The visit's country and the site's consent line, once a visit is
      // known (now, after its registration, or at the first focus).
      const init = () =>
        !asked &&
        visit &&
        (asked = post("/check", "")
          .then((answer) => {
            if (answer.calling_code) input.placeholder = "+" + answer.calling_code + " …";
            if (answer.consent && !data.messtrackSendbackConsent) line.textContent = answer.consent;
          })
          .catch(() => (asked = 0)));
      (pending || Promise.resolve()).then(init);
      input.addEventListener("focus", init);
      input.addEventListener("input", () => {
        clearTimeout(timer);
        const value = input.value;
        if (/[^\d\s()+.-]/.test(value)) return say("Use only digits, spaces and + ( ) - in the number.", 1);
        say();
        timer =
          visit &&
          value.replace(/\D/g, "").length > 5 &&
          setTimeout(
            () =>
              post("/check", value)
                .then((answer) => input.value == value && say(answer.error, answer.error))
                .catch(() => {}),
            350,
          );
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (!visit) return say("We cannot send a message right now; please write to us on WhatsApp.");
        clearTimeout(timer);
        button.disabled = true;
        post("", input.value, check.checked)
          .then((answer) => {
            answer.sent
              ? (say(data.messtrackSendbackDone || "Done: we have written to you on WhatsApp."), (box.className = "messtrack-sent"))
              : say(answer.error || "We could not send the message; please write to us on WhatsApp.", answer.code == "invalid_phone" || answer.code == "not_on_whatsapp");
          })
          .catch(() => say("We could not reach our server; please write to us on WhatsApp."))
          .then(() => (button.disabled = !!box.className));
      });
    };
    const scan = () => doc.querySelectorAll("[data-messtrack-sendback]").forEach(sendback);
    doc.readyState == "loading" ? doc.addEventListener("DOMContentLoaded", scan) : scan();
    queueMicrotask(() => {
      const other = win.messtrack;
      win.messtrack = (command, el, ...rest) => (command == "sendback" ? sendback(el) : other(command, el, ...rest));
      win.messtrack.loaded = 1;
      queued?.forEach((args) => args[0] == "sendback" && sendback(args[1]));
    });
  }

  // The queue stub lets pages call messtrack() before this file loads.
  // A repeated consent call registers only if no visit is known or coming.
  // With QR, messtrack('qr', el[, target]) makes el a QR placeholder (see
  // look), filled now or once the visit is known; a detached el is filled
  // when it is added to the page.
  if (CONSENT || QR) {
    const queue = win.messtrack?.q;
    win.messtrack = QR
      ? (command, el, target) =>
          command == "qr"
            ? ((el.dataset.messtrackQr = target || el.dataset.messtrackQr || ""), look(el))
            : CONSENT && command == "consent" && !visit && !pending && start()
      : (command) => command == "consent" && !visit && !pending && start();
    if (!CONSENT) start();
    // Without QR the one command is consent, which takes no arguments: a
    // queued call's arguments, ["consent"], compare equal to "consent".
    queue?.forEach(QR ? (args) => win.messtrack(...args) : win.messtrack);
  } else {
    win.messtrack = () => {};
    start();
  }
  // 1 is as true as true, and shorter.
  win.messtrack.loaded = 1;
}
