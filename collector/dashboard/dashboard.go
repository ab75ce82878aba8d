// Package dashboard is the operators' web dashboard at /dashboard/: sign-in
// sessions with CSRF tokens, the report pages (tables, CSV downloads, the
// dynamics chart drawn as SVG on the server) and the chat pages (list, card,
// confirming a candidate, exporting and erasing a person's data), and the
// learned heuristic's page. It reads its data through three interfaces,
// ReportSource, ChatSource and HeuristicSource, and takes a site's name and
// settings and times as time.Time; its templates, CSS and one small script
// are embedded.
package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

//go:embed templates static
var files embed.FS

// pageNames are the page templates; each defines "content" for the layout.
var pageNames = []string{"signin", "error", "overview", "report", "dynamics", "chats", "chat", "unmatched", "erase", "heuristic", "whatsapp", "deliveries"}

// Options are what the dashboard needs from the collector.
type Options struct {
	// Redis keeps the sign-in sessions and the counts of wrong keys.
	Redis redis.UniversalClient
	Clock store.Clock
	Log   *slog.Logger
	// PublicURL is the collector's public address; cookies are Secure when
	// it is https.
	PublicURL string
	// Site returns a configured site's settings, or an error (an
	// httperr.ErrUnknownSite) when there is no such site.
	Site func(name string) (*config.Site, error)
	// ClientIP is the request's client address, ClientKey the key wrong
	// sign-in keys are counted under for that address.
	ClientIP  func(c *fiber.Ctx) string
	ClientKey func(ip string) string
	// Explain maps an error to its status and the text the operator may
	// see (internal for errors that are not the client's).
	Explain func(c *fiber.Ctx, err error, internal string) (status int, msg string)
	// Reports and Chats are what the pages show; without either the report
	// and chat pages answer 404.
	Reports ReportSource
	Chats   ChatSource
	// Heuristic is the learned heuristic's page; without it the page
	// answers 404.
	Heuristic HeuristicSource
	// WhatsApp feeds the WhatsApp and templates pages; without it they
	// answer 404.
	WhatsApp WhatsAppSource
	// Deliveries are the outbound deliveries; without it the deliveries
	// page answers 404.
	Deliveries DeliverySource
}

// Dashboard is the operator dashboard at /dashboard/: server-rendered
// pages, SVG charts drawn by Go templates, one small script for sorting
// tables. Everything it needs is embedded in the binary, so it works with
// no network beyond the collector itself.
type Dashboard struct {
	pages map[string]*template.Template
	chart *template.Template
	// reports and chats are what the pages show.
	reports ReportSource
	chats   ChatSource
	// whatsapp feeds the WhatsApp pages (whatsapp.go).
	whatsapp WhatsAppSource

	// heuristic is the learned heuristic's page's data.
	heuristic HeuristicSource
	// deliveries feeds the deliveries page (deliveries.go).
	deliveries DeliverySource

	rdb       redis.UniversalClient
	clock     store.Clock
	log       *slog.Logger
	publicURL string
	site      func(string) (*config.Site, error)
	clientIP  func(*fiber.Ctx) string
	clientKey func(string) string
	explain   func(*fiber.Ctx, error, string) (int, string)
}

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	"href":           safeHref,
	"confirmForms":   confirmForms,
	"chatLink":       ChatLink,
	"chatExportLink": func(chat string) string { return ChatLink(chat) + "/export" },
	"chatEraseLink":  func(chat string) string { return ChatLink(chat) + "/erase" },
}

// confirmFormsData is what the "candidates" template needs: one confirm
// form per candidate of a chat.
type confirmFormsData struct {
	Chat       string
	Candidates []candidateView
	CSRF       string
}

func confirmForms(chat string, cands []candidateView, csrf string) confirmFormsData {
	return confirmFormsData{Chat: chat, Candidates: cands, CSRF: csrf}
}

// New parses the embedded templates and keeps opt.
func New(opt Options) (*Dashboard, error) {
	if opt.Redis == nil || opt.Site == nil || opt.ClientIP == nil || opt.ClientKey == nil || opt.Explain == nil {
		return nil, errors.New("dashboard.New: Redis, Site, ClientIP, ClientKey and Explain are required")
	}
	d, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	if opt.Clock == nil {
		opt.Clock = store.SystemClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	d.reports, d.chats, d.heuristic = opt.Reports, opt.Chats, opt.Heuristic
	d.whatsapp = opt.WhatsApp
	d.deliveries = opt.Deliveries
	d.rdb, d.clock, d.log, d.publicURL = opt.Redis, opt.Clock, opt.Log, opt.PublicURL
	d.site, d.clientIP, d.clientKey, d.explain = opt.Site, opt.ClientIP, opt.ClientKey, opt.Explain
	return d, nil
}

// parseTemplates parses the embedded templates.
func parseTemplates() (*Dashboard, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/chart.svg")
	if err != nil {
		return nil, fmt.Errorf("dashboard: layout: %w", err)
	}
	d := &Dashboard{pages: map[string]*template.Template{}}
	if d.chart, err = base.Clone(); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		if _, err := t.ParseFS(files, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("dashboard: %s: %w", name, err)
		}
		d.pages[name] = t
	}
	return d, nil
}

// safeHref returns u when it is an absolute http(s) URL, which a link may
// point at; anything else (javascript:, data:, relative paths from a
// visitor) is shown as text only, never as a link.
func safeHref(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

// securityHeaders keeps every dashboard response to its own origin: no
// script, style or font from anywhere else, no framing, no referrer sent
// when an operator follows a visitor's link (same-origin, not no-referrer:
// with no-referrer browsers post forms with "Origin: null").
func securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	return c.Next()
}

// Routes registers the dashboard's pages under /dashboard on r.
func (d *Dashboard) Routes(r fiber.Router) {
	g := r.Group("/dashboard", securityHeaders, d.errorPage)
	g.Get("/static/:file", d.handleStatic)
	g.Get("/signin", d.handleSignInForm)
	g.Post("/signin", d.handleSignIn)
	g.Post("/signout", d.requireSession, d.handleSignOut)
	g.Get("/", d.requireSession, d.handleOverview)
	d.routesPages(g)
	d.routesHeuristic(g)
	d.routesWhatsApp(g)
}

// pageData is what the layout needs around every page's content.
type pageData struct {
	Title string
	// Nav names the active navigation entry.
	Nav string
	// Site and CSRF are empty before sign-in.
	Site     string
	CSRF     string
	Currency string
	Timezone string
	Body     any
}

// renderPage renders a page inside the layout.
func (d *Dashboard) renderPage(c *fiber.Ctx, status int, name string, data pageData) error {
	t, ok := d.pages[name]
	if !ok {
		return fmt.Errorf("renderPage: no template %q", name)
	}
	if sess := currentSession(c); sess != nil {
		data.Site, data.CSRF = sess.Site, sess.CSRF
		if st, err := d.site(sess.Site); err == nil {
			data.Currency, data.Timezone = st.Currency, st.Timezone
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("renderPage %s: %w", name, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Status(status).Send(buf.Bytes())
}

// errorPage renders the dashboard's errors as a page rather than the API's
// JSON; like the API, only client errors' texts are shown.
func (d *Dashboard) errorPage(c *fiber.Ctx) error {
	err := c.Next()
	if err == nil {
		return nil
	}
	status, msg := d.explain(c, err, "Something went wrong; the details are in the collector's log.")
	if rerr := d.renderPage(c, status, "error", pageData{Title: "Error", Body: msg}); rerr != nil {
		d.log.Error("dashboard error page failed", "err", rerr)
		return c.Status(status).SendString(msg)
	}
	return nil
}

// staticTypes are the embedded static files and their types.
var staticTypes = map[string]string{
	"style.css": "text/css; charset=utf-8",
	"app.js":    "text/javascript; charset=utf-8",
}

func (d *Dashboard) handleStatic(c *fiber.Ctx) error {
	name := path.Base(c.Params("file"))
	ctype, ok := staticTypes[name]
	if !ok {
		return httperr.Fail(httperr.ErrNotFound, "no such file")
	}
	b, err := fs.ReadFile(files, "static/"+name)
	if err != nil {
		return fmt.Errorf("handleStatic: %w", err)
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(b)
}

// overviewPage shows what the signed-in site tracks.
type overviewPage struct {
	WhatsApp        []string
	Bots            []string
	Users           []string
	Sources         []overviewSource
	ConversionEvent string
	SessionDays     int
	IDFormat        string
}

type overviewSource struct {
	Name, Title, Channel, Number string
	Dedicated                    bool
}

func (d *Dashboard) handleOverview(c *fiber.Ctx) error {
	if c.Path() == "/dashboard" {
		return c.Redirect("/dashboard/", fiber.StatusMovedPermanently)
	}
	st, err := d.site(currentSession(c).Site)
	if err != nil {
		return err
	}
	cfg := st
	p := overviewPage{
		Bots: cfg.Telegram.Bots, Users: cfg.Telegram.Users,
		ConversionEvent: cfg.ConversionEvent, SessionDays: cfg.SessionDays, IDFormat: cfg.IDFormat,
	}
	for _, w := range cfg.WhatsApp {
		p.WhatsApp = append(p.WhatsApp, w.Number)
	}
	for _, name := range sourceNames(cfg.Sources) {
		src := cfg.Sources[name]
		o := overviewSource{Name: name, Title: src.Title, Channel: src.Channel, Number: src.Number}
		if src.DedicatedNumber != "" {
			o.Number, o.Dedicated = src.DedicatedNumber, true
		}
		if o.Number == "" {
			o.Number = "telegram:" + src.Bot + src.User
		}
		p.Sources = append(p.Sources, o)
	}
	return d.renderPage(c, fiber.StatusOK, "overview", pageData{Title: "Overview", Nav: "overview", Body: p})
}
