// messtrack snippet: registers the visit with the collector and puts the
// visit's code into the site's own WhatsApp and Telegram links.
//
// This file is the one readable source. snippet.Builder minifies it with
// esbuild at start-up; WHATSAPP, TELEGRAM, CONSENT and QR are build-time
// defines (true/false) so that a site gets only the code it needs, and the
// free name MESSTRACK_SETTINGS is replaced with the site's settings when it
// is served. A build without QR is byte for byte what it was before QR.
//
// Rules this code keeps:
//   - a link is never broken: while the code is unknown the original link
//     works, and navigation waits for the code at most WAIT_MS;
//   - only links to the site's own numbers, bots and users are changed;
//   - with CONSENT, nothing is stored or sent before messtrack('consent').

/**
 * Settings inlined by the collector for one site, positional because every
 * visitor downloads them: [site, url, wa, bots, users] where
 *   site  site name, as in /s/{site}.js
 *   url   collector base URL; "" means this script's origin
 *   wa    WhatsApp numbers, digits only
 *   bots  Telegram bot usernames, lower case
 *   users Telegram user usernames, lower case
 * The message template is not here: the collector fills it in and sends the
 * finished text with the visit.
 * @typedef {[string, string, string[], string[], string[]]} Settings
 */

/**
 * Body of POST /v1/visits (sent as text/plain, so no CORS preflight).
 * @typedef {Object} VisitRequest
 * @property {string} site
 * @property {string} url      current page URL, which is the landing URL
 * @property {string} referrer document.referrer at landing
 * @property {string} screen   "1920x1080"
 * @property {string} lang     navigator.language
 * @property {string} tz       minutes east of UTC
 * @property {string} visitor  first-party visitor ID
 */

/**
 * Answer 200 of POST /v1/visits.
 * @typedef {Object} VisitAnswer
 * @property {string} visit   visit ID
 * @property {string} code    the code the message carries
 * @property {string} text    the site's message with the code, ending in a line break
 * @property {string} start   Telegram bot start payload
 * @property {string} expires RFC 3339 end of the visit
 * @property {string} visitor first-party visitor ID, as sent or newly minted
 */

/**
 * What localStorage keeps between page views of one visit.
 * @typedef {VisitAnswer & {key: string}} StoredVisit
 */

/**
 * Body of the POST /v1/clicks beacon (text/plain).
 * @typedef {Object} ClickBeacon
 * @property {string} site
 * @property {string} visit
 * @property {string} target "whatsapp:15551234567" or "telegram:demo_bot"
 * @property {string} page   current page URL
 * @property {string} href   the link as followed
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
  const [site, collector, numbers, bots, users] = MESSTRACK_SETTINGS;
  const win = window;
  const doc = document;
  const loc = location;
  // Without a configured URL the collector is where this script came from;
  // currentScript is only set while this runs, so it is read here.
  const api = collector || new URL(doc.currentScript.src).origin;

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
  // text a page script appends to the link lands in it.
  const setParam = (url, name, value) => {
    url.search = url.search
      .slice(1)
      .split("&")
      .filter((pair) => pair && pair.split("=")[0] != name)
      .concat(name + "=" + encodeURIComponent(value).replace(/'/g, "%27"))
      .join("&");
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
   * @param {string} href
   * @returns {Chat|undefined}
   */
  const chat = (href) => {
    let url, match, name, target;
    let param = "text";
    if (!/wa\.me|whatsapp|t\.me|telegram\.|tg:/i.test(href)) return;
    try {
      url = new URL(href, loc);
    } catch (e) {
      return;
    }
    const params = url.searchParams;
    // "scheme:host/path"; the regexps take whatsapp://send both ways
    // browsers parse it, "send" as host or as path ("//send").
    const where = url.protocol + url.host + url.pathname;
    if (WHATSAPP) {
      // [www.]wa.me/N, api.|web.whatsapp.com/send?phone=N,
      // whatsapp://send?phone=N, and Android's intent://send/N#Intent;
      // scheme=whatsapp;…; numbers compare by digits, so
      // "+7 (999) 123-45-67" is 79991234567.
      match = /^(https?:(www\.)?wa\.me\/([^/]*)|https?:(\w+\.)?whatsapp\.com\/send|whatsapp:\/*send|intent:\/*send\/?(\d*))\/?$/.exec(where);
      name = match && (!/^i/.test(where) || /scheme=whatsapp/.test(url.hash)) && (match[3] || match[5] || params.get("phone") || "").replace(/%..|\D/g, "");
      if (numbers.includes(name)) target = "whatsapp:" + name;
    }
    if (TELEGRAM) {
      // [www.]t.me/NAME, telegram.me/NAME, telegram.dog/NAME, tg://resolve?domain=NAME
      match = /^(https?:(www\.)?(t|telegram)\.(me|dog)\/(\w+)|tg:\/*resolve)\/?$/.exec(where);
      name = match && (match[5] ?? params.get("domain") ?? "").toLowerCase();
      // Bots never see ?text=, so they get the hidden start payload. A
      // ?startapp= link opens the bot's Mini App, which the first of the
      // two parameters decides and which never passes start on to the
      // bot: it is kept as written, and its click still counts.
      if (bots.includes(name) ? (param = params.has("startapp") ? "" : "start") : users.includes(name)) target = "telegram:" + name;
    }
    return target && [target, visit && param ? setParam(url, param, param == "text" ? compose(params.get(param)) : visit.start) : href];
  };

  // Rewrites one link in place, so that middle-click, copy-link and the
  // page's own scripts all see the link with the code. The visit changes at
  // most once per page view (from unknown to known) and compose() leaves a
  // text with the code alone, so a second rewrite changes nothing. The link
  // is an HTML <a> or <area>, or an SVG <a>, whose href is an object with
  // the string in baseVal; other nodes have no string href, which chat()
  // does not recognise.
  const fix = (el) => {
    const href = el.href?.baseVal ?? el.href;
    const found = chat(href);
    if (found && found[1] != href) el.setAttribute("href", found[1]);
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
    root.querySelectorAll?.("a,area").forEach((el) => todo.push(el));
    if (QR && visit && !matchMedia("(pointer:coarse)").matches)
      [root, ...(root.querySelectorAll?.("[data-messtrack-qr]") || [])].forEach((el) => {
        // chat() of a missing href is undefined, like that of any link not ours.
        const target = el.matches?.("[data-messtrack-qr]") && (el.dataset.messtrackQr || chat(el.href || el.querySelector("a")?.href)?.[0]);
        if (target) {
          const img = el.tagName == "IMG" ? el : el.mq || (el.mq = el.appendChild(new Image()));
          img.src = api + "/qr/" + site + "/" + visit.visit + ".svg?target=" + encodeURIComponent(target);
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
      api + "/v1/clicks",
      JSON.stringify(
        /** @type {ClickBeacon} */ ({
          site,
          visit: visit.visit,
          target: found[0],
          page: loc.href,
          href: passing,
        }),
      ),
    );

  // Sends a window to a chat link once the registration under way ends,
  // or after WAIT_MS at the latest, with the code if it came.
  const go = (href) =>
    Promise.race([pending, new Promise((done) => setTimeout(done, WAIT_MS))]).then(() => {
      const found = chat(href);
      beacon(found);
      loc.href = found[1];
    });

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
    const key = (loc.search.match(/[?&](utm_\w+|\w*clk?id|[gw]braid|li_fat_id)=[^&]*/gi) || []).join("");
    // A record with no visit has no expiry, and an invalid date never wins;
    // one stored before visits carried their text is registered again.
    visit = stored.text && new Date(stored.expires) > new Date() && (!key || key == stored.key) && stored;
    pending = (
      visit
        ? Promise.resolve()
        : fetch(api + "/v1/visits", {
            method: "POST",
            body: JSON.stringify(
              /** @type {VisitRequest} */ ({
                site,
                url: loc.href,
                referrer: doc.referrer,
                screen: screen.width + "x" + screen.height,
                // The language is the collector's, from Accept-Language.
                // Minutes east of UTC: what the matcher compares, and free;
                // the IANA name would cost the first Intl call, tens of
                // milliseconds, before the request could go out.
                tz: -new Date().getTimezoneOffset() + "",
                // The collector mints the visitor ID on a first visit and
                // answers it with every visit.
                visitor: stored.visitor,
              }),
            ),
          })
            .then((response) => response.json())
            // An error answer has no visit and is dropped like a network
            // error; storage is written only once the collector has given a
            // visit (a storage that refuses throws after visit is set).
            .then((/** @type {VisitAnswer} */ answer) => answer.visit && (localStorage.messtrack = JSON.stringify((visit = { ...answer, key }))))
    )
      .catch(() => {})
      .then(() => {
        pending = 0;
        look(doc);
      });
  };

  // Left clicks on links, also inside open shadow roots (middle clicks
  // are auxclick and open the link as it stands, with the code once known):
  // a link with the code just goes; while the code is on its way a plain
  // click in this window is held up to WAIT_MS. Clicks the page handled
  // itself are left to it (its window.open or location call is covered
  // below); modified clicks and links with any target are never held.
  doc.addEventListener("click", (/** @type {MouseEvent} */ event) => {
    const link = event.composedPath().find((el) => el.matches?.("a,area"));
    const found = link && !event.defaultPrevented && fix(link);
    if (!found) return;
    if (!pending || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) {
      beacon(found);
    } else {
      event.preventDefault();
      go(found[1]);
    }
  });

  // Links added or changed after load (chat widgets, single-page apps):
  // only the added elements and the changed links are looked at.
  new MutationObserver(
    (records) => visit && records.forEach((record) => (record.attributeName ? look(record.target) : record.addedNodes.forEach(look))),
  ).observe(doc, {
    childList: true,
    subtree: true,
    attributeFilter: ["href"],
  });

  // Floating widgets often open the chat from script. window.open can be
  // wrapped; it must return the new window at once, so it never waits.
  const open = win.open;
  win.open = (href, ...rest) => {
    const found = chat(href);
    found && beacon(found);
    return open.call(win, found ? found[1] : href, ...rest);
  };

  // location.assign/replace and href assignment cannot be wrapped (Location
  // is unforgeable). Where the Navigation API exists, its cancelable
  // navigate event catches them and the chat is opened again with the code;
  // elsewhere they go through unchanged, which still reaches the chat.
  win.navigation?.addEventListener("navigate", (event) => {
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
    queue?.forEach((args) => win.messtrack(...args));
  } else {
    win.messtrack = () => {};
    start();
  }
  win.messtrack.loaded = true;
}
