// Package qrhttp answers the QR side of the collector: the scan of an
// offline source's code (/q/), which registers an offline visit and sends
// the person on to the chat with its code (or, over the rate limit, to the
// chat without one), the source QR images for their owner, the static
// source link that holds the chat link itself, and the desktop QR that
// carries a web visit's code to a phone. collector/qr draws the images; the
// visits and clicks are stored through Visits.
package qrhttp

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/enrich"
	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/qr"
	"github.com/messtrack/messtrack/collector/sites"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// Visits stores and reads what a scan registers.
type Visits interface {
	// SaveVisit numbers v and stores it for the site's visit TTL.
	SaveVisit(ctx context.Context, st *sites.Site, v *visit.Visit) error
	// LoadVisit returns the live visit numbered n, or an error wrapping
	// httperr.ErrNotFound.
	LoadVisit(ctx context.Context, st *sites.Site, n uint64) (*visit.Visit, error)
	// RecordClick adds visit n to target's click index.
	RecordClick(ctx context.Context, st *sites.Site, n uint64, target, page string) error
}

// Options are what the QR handlers need from the server.
type Options struct {
	// Config gives the public URL the source codes hold.
	Config *config.Config
	// Site resolves a site by name, or answers an unknown-site error.
	Site func(name string) (*sites.Site, error)
	// Guard checks the site's API key on the owner's routes; SiteOf is the
	// site it let through.
	Guard  fiber.Handler
	SiteOf func(c *fiber.Ctx) *sites.Site
	Visits Visits
	// Redis keeps the static sources' long-lived visits.
	Redis redis.UniversalClient
	// Enrich fills a scan's visit from its hit and may drop it.
	Enrich enrich.Step
	// ClientIP is the request's client address.
	ClientIP func(c *fiber.Ctx) string
	// Dropped counts a dropped hit by its reason.
	Dropped func(reason string)
	Clock   store.Clock
	Log     *slog.Logger
}

// Handler answers scans and QR images.
type Handler struct{ opt Options }

// New builds the QR handlers.
func New(opt Options) *Handler { return &Handler{opt: opt} }

// Register adds the QR routes to r.
func (h *Handler) Register(r fiber.Router) {
	r.Get("/q/:site/:source", h.handleScan)
	r.Get("/qr/:site/:file", h.handleVisitQR)
	r.Get("/v1/sites/:site/qr/:file", h.opt.Guard, h.handleSourceQR)
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
func parseTarget(st *sites.Site, raw string) (chatTarget, error) {
	if raw == "" {
		return chatTarget{}, httperr.Fail(httperr.ErrBadInput, "target is required: whatsapp:NUMBER or telegram:NAME")
	}
	norm := inbound.NormalizeTarget(raw)
	if norm == "" || !st.Targets[norm] {
		return chatTarget{}, httperr.Fail(httperr.ErrBadInput, "target %q is not a chat of this site", httperr.Clip(raw, 64))
	}
	kind, id, _ := strings.Cut(norm, ":")
	if kind != "whatsapp" && kind != "telegram" {
		return chatTarget{}, httperr.Fail(httperr.ErrBadInput, "target %q: QR codes open WhatsApp and Telegram chats only", httperr.Clip(raw, 64))
	}
	if kind == "whatsapp" {
		return chatTarget{kind: chatWhatsApp, id: id}, nil
	}
	if st.IsBot(id) {
		return chatTarget{kind: chatTelegramBot, id: id}, nil
	}
	return chatTarget{kind: chatTelegramUser, id: id}, nil
}

// chatLink is the link that opens t with visit n's code: the prefilled text
// for WhatsApp and Telegram users, the hidden start parameter for bots.
func chatLink(st *sites.Site, t chatTarget, n uint64) string {
	switch t.kind {
	case chatTelegramBot:
		return "https://t.me/" + t.id + "?start=" + st.Codec.Start(n)
	case chatTelegramUser:
		text := st.Message(st.Codec.Code(n, st.Style))
		if strings.HasPrefix(text, "@") {
			// Telegram would start an inline query instead of a draft.
			text = " " + text
		}
		return "https://t.me/" + t.id + "?text=" + encodeText(text)
	default:
		return "https://wa.me/" + t.id + "?text=" + encodeText(st.Message(st.Codec.Code(n, st.Style)))
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
		return "", httperr.Fail(httperr.ErrUnknownSite, "unknown site %q", httperr.Clip(siteName, 64))
	}
	src := sc.Sources[source]
	if src == nil {
		return "", httperr.Fail(httperr.ErrNotFound, "site %q has no source %q", sc.Name, httperr.Clip(source, 64))
	}
	if _, ok := sourceChat(sc, src); !ok {
		return "", noChat(sc.Name, src.Name)
	}
	return cfg.PublicURL + "/q/" + sc.Name + "/" + src.Name, nil
}

func noChat(siteName, source string) error {
	return httperr.Fail(httperr.ErrNotFound, "source %q of site %q has no chat to open: give it a number, bot or user, or give the site one", source, siteName)
}

// StaticLink returns the chat link a source's static QR holds: the chat
// with the code of the source's long-lived visit, for places where the
// collector must not sit between the scan and the chat. The visit is created
// on first use and then always the same, so a printed code stays valid.
func (h *Handler) StaticLink(ctx context.Context, siteName, source string) (string, error) {
	st, err := h.opt.Site(siteName)
	if err != nil {
		return "", err
	}
	src := st.Config.Sources[source]
	if src == nil {
		return "", httperr.Fail(httperr.ErrNotFound, "site %q has no source %q", st.Config.Name, httperr.Clip(source, 64))
	}
	return staticLink(ctx, h.opt.Redis, h.opt.Clock, st, src)
}

// StaticSourceLink is Handler.StaticLink for a command that needs this one
// link: it prepares only the named site's codes on rdb, and opens no
// server, snippet, templates or GeoIP database.
func StaticSourceLink(ctx context.Context, cfg *config.Config, rdb redis.UniversalClient, clock store.Clock, siteName, source string) (string, error) {
	sc, ok := cfg.Sites[siteName]
	if !ok {
		return "", httperr.Fail(httperr.ErrUnknownSite, "unknown site %q", httperr.Clip(siteName, 64))
	}
	st, err := sites.New(ctx, rdb, sc)
	if err != nil {
		return "", fmt.Errorf("StaticSourceLink: site %q: %w", siteName, err)
	}
	src := st.Config.Sources[source]
	if src == nil {
		return "", httperr.Fail(httperr.ErrNotFound, "site %q has no source %q", st.Config.Name, httperr.Clip(source, 64))
	}
	return staticLink(ctx, rdb, clock, st, src)
}

func staticLink(ctx context.Context, rdb redis.UniversalClient, clock store.Clock, st *sites.Site, src *config.Source) (string, error) {
	t, ok := sourceChat(st.Config, src)
	if !ok {
		return "", noChat(st.Config.Name, src.Name)
	}
	n, err := staticVisit(ctx, rdb, clock, st, src)
	if err != nil {
		return "", err
	}
	return chatLink(st, t, n), nil
}

// staticVisit returns the number of the source's static visit, allocating it
// the first time. Concurrent first calls (two servers, two requests) agree
// through SETNX on the source key; a number allocated by the loser is simply
// never used, as the allocator already skips numbers.
func staticVisit(ctx context.Context, rdb redis.UniversalClient, clock store.Clock, st *sites.Site, src *config.Source) (uint64, error) {
	key := store.SourceVisit(st.Config.Name, src.Name)
	raw, err := rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		fresh, aerr := st.Alloc.Next(ctx)
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
		return 0, fmt.Errorf("staticVisit: %s holds %q: %w", key, httperr.Clip(raw, 32), err)
	}
	v := &visit.Visit{N: n, Time: clock.Now(), Source: src.Name, Channel: src.Channel, Static: true}
	b, err := visit.Encode(v)
	if err != nil {
		return 0, fmt.Errorf("staticVisit: %w", err)
	}
	// No TTL: the code is printed and may be scanned for years. NX keeps the
	// record written first; it writes again only when the record was lost
	// (a crash between the two writes, an eviction), so the code keeps working.
	if err := rdb.SetNX(ctx, st.Keys.Visit(n), b, 0).Err(); err != nil {
		return 0, fmt.Errorf("staticVisit: set visit: %w", err)
	}
	return n, nil
}

// handleScan registers the offline visit of a QR scan and sends the person
// on to the chat with its code. The person must always reach the chat: when
// the hit is dropped or the store fails, the redirect goes to the chat
// without a code instead of an error.
func (h *Handler) handleScan(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	// The chat link carries the code; the messenger's pages need not see
	// where it came from.
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	st, err := h.opt.Site(c.Params("site"))
	if err != nil {
		return scanMissing(c, fmt.Sprintf("No site %q is tracked here.", httperr.Clip(c.Params("site"), 64)))
	}
	src := st.Config.Sources[c.Params("source")]
	if src == nil {
		return scanMissing(c, fmt.Sprintf("No source %q is set up for this site.", httperr.Clip(c.Params("source"), 64)))
	}
	t, ok := sourceChat(st.Config, src)
	if !ok {
		h.opt.Log.Warn("scan of a source with no chat", "site", st.Config.Name, "source", src.Name)
		return scanMissing(c, "This code is not linked to any chat yet.")
	}
	// A HEAD is a link checker looking ahead, never a person; prefetches and
	// previews with a GET are dropped by the enrichment pipeline.
	if c.Method() == fiber.MethodHead {
		c.Set(httperr.HeaderDropped, "head")
		return c.Redirect(t.plainLink(), fiber.StatusFound)
	}
	v := &visit.Visit{
		Time:     h.opt.Clock.Now(),
		Landing:  scanLanding(h.opt.Config.PublicURL, st.Config.Name, src.Name, string(c.Request().URI().QueryString())),
		Language: enrich.FirstLanguage(c.Get(fiber.HeaderAcceptLanguage)),
		// Set before enrichment, which keeps a channel already given: the
		// source decides the channel of a scan, not its landing URL.
		Source:  src.Name,
		Channel: src.Channel,
	}
	link, dropped := h.scanLink(c.UserContext(), st, src, t, v, enrich.RequestHit(h.opt.ClientIP(c), func(name string) string { return c.Get(name) }))
	if dropped != "" {
		c.Set(httperr.HeaderDropped, dropped)
	}
	return c.Redirect(link, fiber.StatusFound)
}

// scanLink enriches and stores the scan's visit and returns the chat link,
// or the plain chat link and the reason when the hit is dropped.
func (h *Handler) scanLink(ctx context.Context, st *sites.Site, src *config.Source, t chatTarget, v *visit.Visit, hit *enrich.Hit) (link, dropped string) {
	if err := h.opt.Enrich.Enrich(v, hit); err != nil {
		if errors.Is(err, enrich.ErrDropped) {
			reason := dropReason(err)
			h.opt.Dropped(reason)
			h.opt.Log.Debug("scan dropped", "site", st.Config.Name, "source", src.Name, "reason", reason)
			return t.plainLink(), reason
		}
		h.opt.Log.Error("scan: enrichment failed; sending the person to the chat without a code",
			"site", st.Config.Name, "source", src.Name, "err", err)
		return t.plainLink(), ""
	}
	if err := h.opt.Visits.SaveVisit(ctx, st, v); err != nil {
		h.opt.Log.Error("scan: visit not saved; sending the person to the chat without a code",
			"site", st.Config.Name, "source", src.Name, "err", err)
		return t.plainLink(), ""
	}
	// A scan is a click on the chat: should the person delete the code from
	// the draft, the time-and-geo heuristic still finds the scan. The code
	// is what matters, so a failure here only costs that fallback.
	if err := h.opt.Visits.RecordClick(ctx, st, v.N, t.key(), ""); err != nil {
		h.opt.Log.Warn("scan: click not indexed", "site", st.Config.Name, "source", src.Name, "err", err)
	}
	return chatLink(st, t, v.N), ""
}

// dropReason is the client-safe reason of a dropped hit.
func dropReason(err error) string {
	if reason, ok := enrich.DropReason(err); ok {
		return visit.CleanShort(reason)
	}
	var ce *httperr.Error
	if errors.As(err, &ce) && errors.Is(ce.Kind, enrich.ErrDropped) {
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
	if len(withQuery) > visit.MaxURL {
		return landing
	}
	if u, err := url.Parse(withQuery); err != nil || u.RawQuery != query {
		return landing
	}
	return withQuery
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
func (h *Handler) handleSourceQR(c *fiber.Ctx) error {
	st := h.opt.SiteOf(c)
	name, ext := splitImageName(c.Params("file"))
	if ext != "png" && ext != "svg" {
		return httperr.Fail(httperr.ErrNotFound, "no QR image %q: ask for SOURCE.png or SOURCE.svg", httperr.Clip(c.Params("file"), 64))
	}
	src := st.Config.Sources[name]
	if src == nil {
		return httperr.Fail(httperr.ErrNotFound, "site %q has no source %q", st.Config.Name, httperr.Clip(name, 64))
	}
	opt, err := qrQueryOptions(c, ext)
	if err != nil {
		return err
	}
	static, err := strconv.ParseBool(c.Query("static", "0"))
	if err != nil {
		return httperr.Fail(httperr.ErrBadInput, "static %q is not 1, 0, true or false", httperr.Clip(c.Query("static"), 16))
	}
	var content string
	if static {
		content, err = staticLink(c.UserContext(), h.opt.Redis, h.opt.Clock, st, src)
	} else {
		content, err = SourceURL(h.opt.Config, st.Config.Name, src.Name)
	}
	if err != nil {
		return err
	}
	img, err := qr.Render(content, opt)
	if err != nil {
		return err
	}
	file := st.Config.Name + "-" + src.Name
	if static {
		file += "-static"
	}
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+file+"."+ext+`"`)
	return sendQR(c, ext, img)
}

// handleVisitQR answers the SVG QR of a chat link carrying a web visit's
// code, which a desktop page shows so that a phone opens the chat with the
// visit that began on the desktop.
func (h *Handler) handleVisitQR(c *fiber.Ctx) error {
	st, err := h.opt.Site(c.Params("site"))
	if err != nil {
		return err
	}
	id, ext := splitImageName(c.Params("file"))
	if ext != "svg" {
		return httperr.Fail(httperr.ErrNotFound, "no QR image %q: ask for VISIT.svg", httperr.Clip(c.Params("file"), 64))
	}
	t, err := parseTarget(st, c.Query("target"))
	if err != nil {
		return err
	}
	opt, err := qrQueryOptions(c, "svg")
	if err != nil {
		return err
	}
	n, err := st.Codec.ParseVisitID(id)
	if err != nil {
		return httperr.Fail(httperr.ErrBadInput, "visit %q is not a visit ID", httperr.Clip(id, 32))
	}
	if _, err := h.opt.Visits.LoadVisit(c.UserContext(), st, n); err != nil {
		if errors.Is(err, httperr.ErrNotFound) {
			return httperr.Fail(httperr.ErrNotFound, "visit %s is unknown or expired", st.Codec.VisitID(n))
		}
		return err
	}
	img, err := qr.Render(chatLink(st, t, n), opt)
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

// Limited answers a QR scan over the rate limit. The person holding the
// phone still reaches the chat, without a code and without a visit: a small
// page that forwards to the chat at once and has a link to tap should the
// forwarding not happen. A scan of an unknown source gets the page a scan
// within the limit would get.
func (h *Handler) Limited(c *fiber.Ctx, retryAfter int) error {
	siteName, source, _ := strings.Cut(strings.TrimPrefix(c.Path(), "/q/"), "/")
	source = strings.TrimSuffix(source, "/")
	st, err := h.opt.Site(siteName)
	if err != nil {
		return scanMissing(c, fmt.Sprintf("No site %q is tracked here.", httperr.Clip(siteName, 64)))
	}
	src := st.Config.Sources[source]
	if src == nil {
		return scanMissing(c, fmt.Sprintf("No source %q is set up for this site.", httperr.Clip(source, 64)))
	}
	t, ok := sourceChat(st.Config, src)
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
