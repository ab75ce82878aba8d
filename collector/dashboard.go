package collector

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The operator dashboard at /dashboard/: server-rendered pages, SVG charts
// drawn by Go templates, one small script for sorting tables. Everything it
// needs is embedded in the binary, so it works with no network beyond the
// collector itself.

//go:embed dashboard/templates dashboard/static
var dashboardFiles embed.FS

// dashPages are the page templates; each defines "content" for the layout.
var dashPages = []string{"signin", "error", "overview", "report", "dynamics", "chats", "chat", "unmatched"}

// dashboard holds the parsed templates.
type dashboard struct {
	pages map[string]*template.Template
	chart *template.Template
	// reports and chats are what the pages show.
	reports dashReportSource
	chats   dashChatSource
}

// dashboardFuncs are the helpers templates may call.
var dashboardFuncs = template.FuncMap{
	"href":         safeHref,
	"confirmForms": confirmForms,
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

// newDashboard parses the embedded templates.
func newDashboard() (*dashboard, error) {
	base, err := template.New("layout.html").Funcs(dashboardFuncs).ParseFS(dashboardFiles, "dashboard/templates/layout.html", "dashboard/templates/chart.svg")
	if err != nil {
		return nil, fmt.Errorf("newDashboard: layout: %w", err)
	}
	d := &dashboard{pages: map[string]*template.Template{}}
	if d.chart, err = base.Clone(); err != nil {
		return nil, fmt.Errorf("newDashboard: %w", err)
	}
	for _, name := range dashPages {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("newDashboard: %w", err)
		}
		if _, err := t.ParseFS(dashboardFiles, "dashboard/templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("newDashboard: %s: %w", name, err)
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

// dashSecurityHeaders keeps every dashboard response to its own origin: no
// script, style or font from anywhere else, no framing, no referrer sent
// when an operator follows a visitor's link (same-origin, not no-referrer:
// with no-referrer browsers post forms with "Origin: null").
func dashSecurityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	return c.Next()
}

func (s *Server) routesDashboard() {
	g := s.app.Group("/dashboard", dashSecurityHeaders, s.dashErrors)
	g.Get("/static/:file", s.handleDashStatic)
	g.Get("/signin", s.handleSignInForm)
	g.Post("/signin", s.handleSignIn)
	g.Post("/signout", s.requireDashSession, s.handleSignOut)
	g.Get("/", s.requireDashSession, s.handleOverview)
	s.routesDashboardPages(g)
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
func (s *Server) renderPage(c *fiber.Ctx, status int, name string, data pageData) error {
	t, ok := s.dash.pages[name]
	if !ok {
		return fmt.Errorf("renderPage: no template %q", name)
	}
	if sess := currentDashSession(c); sess != nil {
		data.Site, data.CSRF = sess.Site, sess.CSRF
		if st, err := s.lookupSite(sess.Site); err == nil {
			data.Currency, data.Timezone = st.cfg.Currency, st.cfg.Timezone
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

// dashErrors renders the dashboard's errors as a page rather than the API's
// JSON; like the API, only client errors' texts are shown.
func (s *Server) dashErrors(c *fiber.Ctx) error {
	err := c.Next()
	if err == nil {
		return nil
	}
	status, msg, _ := s.explain(c, err, "Something went wrong; the details are in the collector's log.")
	if rerr := s.renderPage(c, status, "error", pageData{Title: "Error", Body: msg}); rerr != nil {
		s.log.Error("dashboard error page failed", "err", rerr)
		return c.Status(status).SendString(msg)
	}
	return nil
}

// dashStaticTypes are the embedded static files and their types.
var dashStaticTypes = map[string]string{
	"style.css": "text/css; charset=utf-8",
	"app.js":    "text/javascript; charset=utf-8",
}

func (s *Server) handleDashStatic(c *fiber.Ctx) error {
	name := path.Base(c.Params("file"))
	ctype, ok := dashStaticTypes[name]
	if !ok {
		return fail(ErrNotFound, "no such file")
	}
	b, err := fs.ReadFile(dashboardFiles, "dashboard/static/"+name)
	if err != nil {
		return fmt.Errorf("handleDashStatic: %w", err)
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

func (s *Server) handleOverview(c *fiber.Ctx) error {
	if c.Path() == "/dashboard" {
		return c.Redirect("/dashboard/", fiber.StatusMovedPermanently)
	}
	st, err := s.lookupSite(currentDashSession(c).Site)
	if err != nil {
		return err
	}
	cfg := st.cfg
	p := overviewPage{
		Bots: cfg.Telegram.Bots, Users: cfg.Telegram.Users,
		ConversionEvent: cfg.ConversionEvent, SessionDays: cfg.SessionDays, IDFormat: cfg.IDFormat,
	}
	for _, w := range cfg.WhatsApp {
		p.WhatsApp = append(p.WhatsApp, w.Number)
	}
	for _, name := range dashSourceNames(cfg.Sources) {
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
	return s.renderPage(c, fiber.StatusOK, "overview", pageData{Title: "Overview", Nav: "overview", Body: p})
}
