// Package demo is what makes the demo site (a site with demo: true, as in
// examples/messtrack.yaml) show the whole loop without a WhatsApp Business
// account or a Telegram bot:
//
//   - the simulated phone's endpoints (/demo/SITE/…), which build a WhatsApp
//     Cloud API notification or a Telegram update from what the person typed
//     on the demo page, sign it with the site's own secret and post it to the
//     collector's real webhook, then answer with the chat's match;
//   - Seed, which fills the site with a month of made-up but consistent
//     traffic through the collector's own HTTP endpoints, on a clock it moves.
//
// The webhook is built and signed here, on the server, not in the page: the
// demo's secrets are public (they are in the example config), but a page
// that signs its own webhooks would teach the wrong habit, and the server
// side is the one place that knows the site's secret and clock. Nothing
// here is served for a site without demo: true.
package demo
