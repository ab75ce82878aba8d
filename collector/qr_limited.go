package collector

import (
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// scanLimited answers a QR scan over the rate limit. The person holding the
// phone still reaches the chat, without a code and without a visit: a small
// page that forwards to the chat at once and has a link to tap should the
// forwarding not happen. A scan of an unknown source gets the page a scan
// within the limit would get.
func (s *Server) scanLimited(c *fiber.Ctx, retryAfter int) error {
	siteName, source, _ := strings.Cut(strings.TrimPrefix(c.Path(), "/q/"), "/")
	source = strings.TrimSuffix(source, "/")
	st, err := s.lookupSite(siteName)
	if err != nil {
		return scanMissing(c, fmt.Sprintf("No site %q is tracked here.", clip(siteName, 64)))
	}
	src := st.cfg.Sources[source]
	if src == nil {
		return scanMissing(c, fmt.Sprintf("No source %q is set up for this site.", clip(source, 64)))
	}
	t, ok := sourceChat(st.cfg, src)
	if !ok {
		return scanMissing(c, "This code is not linked to any chat yet.")
	}
	link := html.EscapeString(t.plainLink())
	app := "WhatsApp"
	if t.kind != chatWhatsApp {
		app = "Telegram"
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfter))
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
	return c.Status(fiber.StatusTooManyRequests).SendString(fmt.Sprintf(scanLimitedPage, link, app))
}

// scanLimitedPage forwards to the chat (%[1]s, escaped) in the messenger
// %[2]s.
const scanLimitedPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="0;url=%[1]s">
<title>Opening the chat</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em">
<h1>Opening the chat</h1>
<p><a id="chat" href="%[1]s" style="display:inline-block;padding:.8em 1.4em;border-radius:.5em;background:#128c7e;color:#fff;text-decoration:none">Continue to %[2]s</a></p>
</body></html>
`
