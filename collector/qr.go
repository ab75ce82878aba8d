package collector

// Offline sources: the QR codes of flyers, shop windows and billboards, the
// scan that turns into an offline visit and a chat link, the static variant
// that holds the chat link itself, and the desktop QR that carries a web
// visit's code to the phone.

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/enrich"
	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/qr"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

func (s *Server) routesQR(r fiber.Router) {
	r.Get("/q/:site/:source", s.handleScan)
	r.Get("/qr/:site/:file", s.handleVisitQR)
	r.Get("/v1/sites/:site/qr/:file", s.requireKey, s.handleSourceQR)
}

// chatKind is what a chat link opens.
type chatKind int

const (
	chatWhatsApp chatKind = iota + 1
	chatTelegramBot
	chatTelegramUser
)

// chatTarget is one chat a link can open.
type chatTarget struct {
	kind chatKind
	// id is the WhatsApp number's digits or the Telegram username, lower case.
	id string
}

// sourceChat is the chat a source's QR opens: the source's own number, bot,
// user or dedicated number, in that order, else the site's first WhatsApp
// number, bot or user. ok is false when the site has no chat at all.
func sourceChat(sc *config.Site, src *config.Source) (t chatTarget, ok bool) {
	switch {
	case src.Number != "":
		return chatTarget{kind: chatWhatsApp, id: src.Number}, true
	case src.Bot != "":
		return chatTarget{kind: chatTelegramBot, id: src.Bot}, true
	case src.User != "":
		return chatTarget{kind: chatTelegramUser, id: src.User}, true
	case src.DedicatedNumber != "":
		return chatTarget{kind: chatWhatsApp, id: src.DedicatedNumber}, true
	case len(sc.WhatsApp) > 0:
		return chatTarget{kind: chatWhatsApp, id: sc.WhatsApp[0].Number}, true
	case len(sc.Telegram.Bots) > 0:
		return chatTarget{kind: chatTelegramBot, id: sc.Telegram.Bots[0]}, true
	case len(sc.Telegram.Users) > 0:
		return chatTarget{kind: chatTelegramUser, id: sc.Telegram.Users[0]}, true
	}
	return chatTarget{}, false
}

// parseTarget reads a client's "whatsapp:N" or "telegram:NAME" and accepts
// only the site's own chats, so the collector never mints links to strangers.
func (st *site) parseTarget(raw string) (chatTarget, error) {
	if raw == "" {
		return chatTarget{}, fail(ErrBadInput, "target is required: whatsapp:NUMBER or telegram:NAME")
	}
	norm := inbound.NormalizeTarget(raw)
	if norm == "" || !st.targets[norm] {
		return chatTarget{}, fail(ErrBadInput, "target %q is not a chat of this site", clip(raw, 64))
	}
	kind, id, _ := strings.Cut(norm, ":")
	if kind != "whatsapp" && kind != "telegram" {
		return chatTarget{}, fail(ErrBadInput, "target %q: QR codes open WhatsApp and Telegram chats only", clip(raw, 64))
	}
	if kind == "whatsapp" {
		return chatTarget{kind: chatWhatsApp, id: id}, nil
	}
	if st.isBot(id) {
		return chatTarget{kind: chatTelegramBot, id: id}, nil
	}
	return chatTarget{kind: chatTelegramUser, id: id}, nil
}

// isBot tells a Telegram bot (start links) from a user account (text links).
func (st *site) isBot(name string) bool {
	if slices.Contains(st.cfg.Telegram.Bots, name) {
		return true
	}
	for _, src := range st.cfg.Sources {
		if src.Bot == name {
			return true
		}
	}
	return false
}

// chatLink is the link that opens t with visit n's code: the prefilled text
// for WhatsApp and Telegram users, the hidden start parameter for bots.
func (st *site) chatLink(t chatTarget, n uint64) string {
	switch t.kind {
	case chatTelegramBot:
		return "https://t.me/" + t.id + "?start=" + st.codec.Start(n)
	case chatTelegramUser:
		text := st.message(st.codec.Code(n, st.style))
		if strings.HasPrefix(text, "@") {
			// Telegram would start an inline query instead of a draft.
			text = " " + text
		}
		return "https://t.me/" + t.id + "?text=" + encodeText(text)
	default:
		return "https://wa.me/" + t.id + "?text=" + encodeText(st.message(st.codec.Code(n, st.style)))
	}
}

// key is the target as the click index names it ("whatsapp:15551234567").
func (t chatTarget) key() string {
	if t.kind == chatWhatsApp {
		return "whatsapp:" + t.id
	}
	return "telegram:" + t.id
}

// plainLink opens t with no code, for hits that register no visit.
func (t chatTarget) plainLink() string {
	if t.kind == chatWhatsApp {
		return "https://wa.me/" + t.id
	}
	return "https://t.me/" + t.id
}

// message fills the site's first template with a code.
func (st *site) message(code string) string { return st.messageOf(st.cfg.Message, code) }

// messageOf fills a template with a code.
func (st *site) messageOf(template, code string) string {
	msg := strings.Replace(template, "{id}", code, 1)
	// One code per message: a second {id} would make the matcher see two.
	return strings.ReplaceAll(msg, "{id}", "")
}

// encodeText percent-encodes prefilled chat text. Spaces become %20, since
// wa.me reads a literal '+' as a space; QueryEscape already escapes a real
// '+' (%2B), '&', '#' and '%', which would otherwise cut the message.
func encodeText(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// SourceURL returns what a source's QR code holds: the collector's /q/ link,
// which registers each scan and sends the person on to the chat.
func SourceURL(cfg *config.Config, siteName, source string) (string, error) {
	sc := cfg.Site(siteName)
	if sc == nil {
		return "", fail(ErrUnknownSite, "unknown site %q", clip(siteName, 64))
	}
	src := sc.Sources[source]
	if src == nil {
		return "", fail(ErrNotFound, "site %q has no source %q", sc.Name, clip(source, 64))
	}
	if _, ok := sourceChat(sc, src); !ok {
		return "", noChat(sc.Name, src.Name)
	}
	return cfg.PublicURL + "/q/" + sc.Name + "/" + src.Name, nil
}

func noChat(siteName, source string) error {
	return fail(ErrNotFound, "source %q of site %q has no chat to open: give it a number, bot or user, or give the site one", source, siteName)
}

// StaticSourceLink returns the chat link a source's static QR holds: the
// chat with the code of the source's long-lived visit, for places where the
// collector must not sit between the scan and the chat. The visit is created
// on first use and then always the same, so a printed code stays valid.
func (s *Server) StaticSourceLink(ctx context.Context, siteName, source string) (string, error) {
	st, err := s.lookupSite(siteName)
	if err != nil {
		return "", err
	}
	src := st.cfg.Sources[source]
	if src == nil {
		return "", fail(ErrNotFound, "site %q has no source %q", st.cfg.Name, clip(source, 64))
	}
	return staticLink(ctx, s.rdb, s.clock, st, src)
}

// StaticSourceLink is Server.StaticSourceLink for a command that needs this
// one link: it prepares only the named site's codes on rdb, and opens no
// server, snippet, templates or GeoIP database.
func StaticSourceLink(ctx context.Context, cfg *config.Config, rdb redis.UniversalClient, clock store.Clock, siteName, source string) (string, error) {
	sc, ok := cfg.Sites[siteName]
	if !ok {
		return "", fail(ErrUnknownSite, "unknown site %q", clip(siteName, 64))
	}
	st, err := newSite(ctx, rdb, sc)
	if err != nil {
		return "", fmt.Errorf("StaticSourceLink: site %q: %w", siteName, err)
	}
	src := st.cfg.Sources[source]
	if src == nil {
		return "", fail(ErrNotFound, "site %q has no source %q", st.cfg.Name, clip(source, 64))
	}
	return staticLink(ctx, rdb, clock, st, src)
}

func staticLink(ctx context.Context, rdb redis.UniversalClient, clock store.Clock, st *site, src *config.Source) (string, error) {
	t, ok := sourceChat(st.cfg, src)
	if !ok {
		return "", noChat(st.cfg.Name, src.Name)
	}
	n, err := staticVisit(ctx, rdb, clock, st, src)
	if err != nil {
		return "", err
	}
	return st.chatLink(t, n), nil
}

// staticVisit returns the number of the source's static visit, allocating it
// the first time. Concurrent first calls (two servers, two requests) agree
// through SETNX on the source key; a number allocated by the loser is simply
// never used, as the allocator already skips numbers.
func staticVisit(ctx context.Context, rdb redis.UniversalClient, clock store.Clock, st *site, src *config.Source) (uint64, error) {
	key := store.SourceVisit(st.cfg.Name, src.Name)
	raw, err := rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		fresh, aerr := st.alloc.Next(ctx)
		if aerr != nil {
			return 0, fmt.Errorf("staticVisit: %w", aerr)
		}
		if serr := rdb.SetNX(ctx, key, strconv.FormatUint(fresh, 36), 0).Err(); serr != nil {
			return 0, fmt.Errorf("staticVisit: setnx: %w", serr)
		}
		raw, err = rdb.Get(ctx, key).Result()
	}
	if err != nil {
		return 0, fmt.Errorf("staticVisit: get: %w", err)
	}
	n, err := strconv.ParseUint(raw, 36, 64)
	if err != nil {
		return 0, fmt.Errorf("staticVisit: %s holds %q: %w", key, clip(raw, 32), err)
	}
	v := &visit.Visit{N: n, Time: clock.Now(), Source: src.Name, Channel: src.Channel, Static: true}
	b, err := visit.Encode(v)
	if err != nil {
		return 0, fmt.Errorf("staticVisit: %w", err)
	}
	// No TTL: the code is printed and may be scanned for years. NX keeps the
	// record written first; it writes again only when the record was lost
	// (a crash between the two writes, an eviction), so the code keeps working.
	if err := rdb.SetNX(ctx, store.Visit(st.cfg.Name, n), b, 0).Err(); err != nil {
		return 0, fmt.Errorf("staticVisit: set visit: %w", err)
	}
	return n, nil
}

// handleScan registers the offline visit of a QR scan and sends the person
// on to the chat with its code. The person must always reach the chat: when
// the hit is dropped or the store fails, the redirect goes to the chat
// without a code instead of an error.
func (s *Server) handleScan(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	// The chat link carries the code; the messenger's pages need not see
	// where it came from.
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	st, err := s.siteParam(c)
	if err != nil {
		return scanMissing(c, fmt.Sprintf("No site %q is tracked here.", clip(c.Params("site"), 64)))
	}
	src := st.cfg.Sources[c.Params("source")]
	if src == nil {
		return scanMissing(c, fmt.Sprintf("No source %q is set up for this site.", clip(c.Params("source"), 64)))
	}
	t, ok := sourceChat(st.cfg, src)
	if !ok {
		s.log.Warn("scan of a source with no chat", "site", st.cfg.Name, "source", src.Name)
		return scanMissing(c, "This code is not linked to any chat yet.")
	}
	// A HEAD is a link checker looking ahead, never a person; prefetches and
	// previews with a GET are dropped by the enrichment pipeline.
	if c.Method() == fiber.MethodHead {
		c.Set(headerDropped, "head")
		return c.Redirect(t.plainLink(), fiber.StatusFound)
	}
	v := &visit.Visit{
		Time:     s.clock.Now(),
		Landing:  scanLanding(s.cfg.PublicURL, st.cfg.Name, src.Name, string(c.Request().URI().QueryString())),
		Language: firstLanguage(c.Get(fiber.HeaderAcceptLanguage)),
		// Set before enrichment, which keeps a channel already given: the
		// source decides the channel of a scan, not its landing URL.
		Source:  src.Name,
		Channel: src.Channel,
	}
	link, dropped := s.scanLink(c.UserContext(), st, src, t, v, requestHit(c, s.clientIP(c)), s.pipeline)
	if dropped != "" {
		c.Set(headerDropped, dropped)
	}
	return c.Redirect(link, fiber.StatusFound)
}

// scanLink enriches and stores the scan's visit and returns the chat link,
// or the plain chat link and the reason when the hit is dropped.
func (s *Server) scanLink(ctx context.Context, st *site, src *config.Source, t chatTarget, v *visit.Visit, h *enrich.Hit, pipe enrich.Step) (link, dropped string) {
	if err := pipe.Enrich(v, h); err != nil {
		if errors.Is(err, ErrDropped) {
			reason := dropReason(err)
			s.metrics.dropped.WithLabelValues(reason).Inc()
			s.log.Debug("scan dropped", "site", st.cfg.Name, "source", src.Name, "reason", reason)
			return t.plainLink(), reason
		}
		s.log.Error("scan: enrichment failed; sending the person to the chat without a code",
			"site", st.cfg.Name, "source", src.Name, "err", err)
		return t.plainLink(), ""
	}
	if err := s.saveVisit(ctx, st, v); err != nil {
		s.log.Error("scan: visit not saved; sending the person to the chat without a code",
			"site", st.cfg.Name, "source", src.Name, "err", err)
		return t.plainLink(), ""
	}
	// A scan is a click on the chat: should the person delete the code from
	// the draft, the time-and-geo heuristic still finds the scan. The code
	// is what matters, so a failure here only costs that fallback.
	if err := s.recordClick(ctx, st, v.N, t.key(), ""); err != nil {
		s.log.Warn("scan: click not indexed", "site", st.cfg.Name, "source", src.Name, "err", err)
	}
	return st.chatLink(t, v.N), ""
}

// dropReason is the client-safe reason of a dropped hit.
func dropReason(err error) string {
	if reason, ok := enrich.DropReason(err); ok {
		return visit.CleanShort(reason)
	}
	var ce *httperr.Error
	if errors.As(err, &ce) && errors.Is(ce.Kind, ErrDropped) {
		return visit.CleanShort(ce.Reason)
	}
	return "dropped"
}

// scanLanding is the scanned URL as the visit's landing page, so that UTM
// tags printed on a code (/q/demo/flyer?utm_campaign=spring) reach the
// visit. A query that makes no valid URL is left out.
func scanLanding(publicURL, siteName, source, query string) string {
	landing := publicURL + "/q/" + siteName + "/" + source
	if query == "" {
		return landing
	}
	withQuery := landing + "?" + query
	if len(withQuery) > maxURL {
		return landing
	}
	if u, err := url.Parse(withQuery); err != nil || u.RawQuery != query {
		return landing
	}
	return withQuery
}

// firstLanguage is the first tag of an Accept-Language header, the phone's
// own language as navigator.language would give it.
func firstLanguage(header string) string {
	tag, _, _ := strings.Cut(header, ",")
	tag, _, _ = strings.Cut(tag, ";")
	return visit.CleanShort(strings.TrimSpace(tag))
}

// scanMissingPage is what a person sees after scanning a code that leads
// nowhere: a page, since a JSON error or a broken redirect helps no one.
const scanMissingPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>Code not found</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em">
<h1>This code leads nowhere</h1>
<p>%s</p>
<p>Please contact the business another way.</p>
</body></html>
`

func scanMissing(c *fiber.Ctx, reason string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Status(fiber.StatusNotFound).SendString(fmt.Sprintf(scanMissingPage, html.EscapeString(reason)))
}

// splitImageName splits "flyer.png" into "flyer" and "png".
func splitImageName(file string) (name, ext string) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return file, ""
	}
	return file[:i], strings.ToLower(file[i+1:])
}

// qrQueryOptions reads ?size= and ?level=.
func qrQueryOptions(c *fiber.Ctx, format string) (qr.Options, error) {
	size, err := qr.ParseSize(c.Query("size"))
	if err != nil {
		return qr.Options{}, err
	}
	return qr.Options{Format: format, Size: size, Level: c.Query("level")}.Normalize()
}

// handleSourceQR answers the QR image of a source for its owner: the /q/
// link by default, the chat link itself with ?static=1.
func (s *Server) handleSourceQR(c *fiber.Ctx) error {
	st := authedSite(c)
	name, ext := splitImageName(c.Params("file"))
	if ext != "png" && ext != "svg" {
		return fail(ErrNotFound, "no QR image %q: ask for SOURCE.png or SOURCE.svg", clip(c.Params("file"), 64))
	}
	src := st.cfg.Sources[name]
	if src == nil {
		return fail(ErrNotFound, "site %q has no source %q", st.cfg.Name, clip(name, 64))
	}
	opt, err := qrQueryOptions(c, ext)
	if err != nil {
		return err
	}
	static, err := strconv.ParseBool(c.Query("static", "0"))
	if err != nil {
		return fail(ErrBadInput, "static %q is not 1, 0, true or false", clip(c.Query("static"), 16))
	}
	var content string
	if static {
		content, err = staticLink(c.UserContext(), s.rdb, s.clock, st, src)
	} else {
		content, err = SourceURL(s.cfg, st.cfg.Name, src.Name)
	}
	if err != nil {
		return err
	}
	img, err := qr.Render(content, opt)
	if err != nil {
		return err
	}
	file := st.cfg.Name + "-" + src.Name
	if static {
		file += "-static"
	}
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+file+"."+ext+`"`)
	return sendQR(c, ext, img)
}

// handleVisitQR answers the SVG QR of a chat link carrying a web visit's
// code, which a desktop page shows so that a phone opens the chat with the
// visit that began on the desktop.
func (s *Server) handleVisitQR(c *fiber.Ctx) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	id, ext := splitImageName(c.Params("file"))
	if ext != "svg" {
		return fail(ErrNotFound, "no QR image %q: ask for VISIT.svg", clip(c.Params("file"), 64))
	}
	t, err := st.parseTarget(c.Query("target"))
	if err != nil {
		return err
	}
	opt, err := qrQueryOptions(c, "svg")
	if err != nil {
		return err
	}
	n, err := st.codec.ParseVisitID(id)
	if err != nil {
		return fail(ErrBadInput, "visit %q is not a visit ID", clip(id, 32))
	}
	if _, err := s.loadVisit(c.UserContext(), st, n); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fail(ErrNotFound, "visit %s is unknown or expired", st.codec.VisitID(n))
		}
		return err
	}
	img, err := qr.Render(st.chatLink(t, n), opt)
	if err != nil {
		return err
	}
	// Pages on the site's own origin show it in an <img>.
	c.Set(fiber.HeaderCrossOriginResourcePolicy, "cross-origin")
	return sendQR(c, "svg", img)
}

// sendQR answers a QR image. An SVG from our origin is a document a browser
// could open directly, so it gets a policy that forbids any script or fetch.
func sendQR(c *fiber.Ctx, ext string, img []byte) error {
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if ext == "svg" {
		c.Set(fiber.HeaderContentType, "image/svg+xml")
		c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'")
	} else {
		c.Set(fiber.HeaderContentType, "image/png")
	}
	return c.Send(img)
}
