package sendback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/sites"
	"github.com/messtrack/messtrack/collector/wabiz"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// NotOnWhatsApp is the Cloud API's error code for a message it cannot
// deliver because the number has no WhatsApp account (or the person's app
// cannot take it): 131026, "Message Undeliverable".
const NotOnWhatsApp = 131026

// Visit is what a send-back needs of the visitor's visit.
type Visit struct {
	// N is the visit's number, Code the code its template parameter
	// carries, Country its geo (ISO alpha-2, "" when unknown).
	N       uint64
	Code    string
	Country string
}

// ErrNoVisit is a visit that is unknown or expired.
var ErrNoVisit = errors.New("the visit is unknown or expired")

// Options are what the service takes from the server.
type Options struct {
	Redis  redis.UniversalClient
	Config *config.Config
	Clock  store.Clock
	Log    *slog.Logger
	// Send sends a template through the Cloud API and records it for the
	// templates report (wabiz.Service.Send).
	Send func(ctx context.Context, site string, req wabiz.SendRequest) (*wabiz.SendResult, error)
	// Visit loads a live visit by its ID; ErrNoVisit when there is none.
	Visit func(ctx context.Context, site, id string) (Visit, error)
	// Attribute records chat as started by the business at "at" from
	// visit n, method send_back, durably, before the person answers.
	Attribute func(ctx context.Context, site, chat string, n uint64, at time.Time) error
	// ClientKey is the key a request's client address is counted under.
	ClientKey func(c *fiber.Ctx) string
	// VisitTTL is how long a site's visits live (the per-visit window).
	VisitTTL func(site string) time.Duration
}

// Service answers the widget.
type Service struct{ opt Options }

// New returns the service.
func New(opt Options) *Service {
	if opt.Clock == nil {
		opt.Clock = store.SystemClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Service{opt: opt}
}

// Request is the widget's body: {"site","visit","phone"}, and "consent"
// when the visitor ticked the consent line (needed on sites with
// consent_required).
type Request struct {
	Site    string `json:"site"`
	Visit   string `json:"visit"`
	Phone   string `json:"phone"`
	Consent bool   `json:"consent"`
}

// maxBody bounds the widget's bodies.
const maxBody = 1 << 10

// The codes of the answers, for the widget to pick its message.
const (
	CodeInvalidPhone  = "invalid_phone"
	CodeNotOnWhatsApp = "not_on_whatsapp"
	CodeLimited       = "limited"
	CodeAlreadySent   = "already_sent"
	CodeNoConsent     = "no_consent"
	CodeSendFailed    = "send_failed"
)

// Register adds the widget's endpoints to r:
//
//	POST /v1/sendback        send the template (answers {"sent":true,...})
//	POST /v1/sendback/check  read a number as typed, and the visit's country
func (s *Service) Register(r fiber.Router) {
	r.Options("/v1/sendback", s.preflight)
	r.Options("/v1/sendback/check", s.preflight)
	r.Post("/v1/sendback", s.handleSend)
	r.Post("/v1/sendback/check", s.handleCheck)
}

// coded answers a refusal the widget shows: {"error","code"}.
func coded(c *fiber.Ctx, status int, code, msg string) error {
	return c.Status(status).JSON(fiber.Map{"error": msg, "code": code})
}

// read decodes the body and resolves the site, its origin and send-back
// settings, and the visit.
func (s *Service) read(c *fiber.Ctx) (Request, *config.Site, Visit, error) {
	var req Request
	if err := httperr.DecodeStrictJSON(c.Body(), maxBody, `{"site","visit","phone"}`, &req); err != nil {
		return req, nil, Visit{}, err
	}
	st := s.opt.Config.Site(req.Site)
	if st == nil {
		return req, nil, Visit{}, httperr.Fail(httperr.ErrUnknownSite, "unknown site %q", httperr.Clip(req.Site, 64))
	}
	if err := sites.CheckOrigin(c, st.Origins, "the widget is answered on the site's pages only"); err != nil {
		return req, nil, Visit{}, err
	}
	if st.SendBack == nil {
		return req, nil, Visit{}, httperr.Fail(httperr.ErrForbidden, "send-back is off for this site")
	}
	if req.Visit == "" || len(req.Visit) > 64 {
		return req, nil, Visit{}, httperr.Fail(httperr.ErrBadInput, "visit is missing or too long")
	}
	v, err := s.opt.Visit(c.UserContext(), st.Name, req.Visit)
	if errors.Is(err, ErrNoVisit) {
		return req, nil, Visit{}, httperr.Fail(httperr.ErrNotFound, "visit %q is unknown or expired", httperr.Clip(req.Visit, 32))
	}
	if err != nil {
		return req, nil, Visit{}, fmt.Errorf("sendback: %w", err)
	}
	return req, st, v, nil
}

// handleCheck reads the number as typed with the same rules a send uses:
// {"country","calling_code","consent","valid","e164"|"error"}. An empty
// phone only asks for the country and the consent line.
func (s *Service) handleCheck(c *fiber.Ctx) error {
	req, st, v, err := s.read(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	minute, left := fixed(s.opt.Clock.Now(), time.Minute)
	if err := take(ctx, s.opt.Redis, []window{{LimitCheck, store.SendBackCount(st.Name, "chk", s.opt.ClientKey(c), minute), checksPerMinute, left}}); err != nil {
		return s.refused(c, err)
	}
	out := fiber.Map{"country": v.Country, "calling_code": CallingCode(v.Country), "consent": st.SendBack.Consent,
		"consent_required": st.ConsentRequired}
	if req.Phone == "" {
		return c.JSON(out)
	}
	p, err := Normalize(req.Phone, v.Country)
	var pe *PhoneError
	if errors.As(err, &pe) {
		out["valid"], out["error"] = false, pe.Reason
		return c.JSON(out)
	}
	if err != nil {
		return err
	}
	out["valid"], out["e164"] = true, p.E164
	return c.JSON(out)
}

// refused answers a limit's refusal with Retry-After and a message the
// visitor understands.
func (s *Service) refused(c *fiber.Ctx, err error) error {
	var r *Refused
	if !errors.As(err, &r) {
		return err
	}
	secs := int((r.RetryAfter + time.Second - 1) / time.Second)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(secs, 1)))
	switch r.Limit {
	case LimitNumber:
		return coded(c, fiber.StatusConflict, CodeAlreadySent, "We have already written to this number; please check WhatsApp.")
	case LimitVisit:
		return coded(c, fiber.StatusTooManyRequests, CodeLimited, "You have already asked us to write from this visit; please check WhatsApp.")
	case LimitCheck:
		return coded(c, fiber.StatusTooManyRequests, CodeLimited, "Too many checks; wait a minute and try again.")
	}
	return coded(c, fiber.StatusTooManyRequests, CodeLimited, "Too many requests right now; please try again later or write to us on WhatsApp.")
}

// handleSend sends the site's template to the visitor's number and
// records the chat as the visit's.
func (s *Service) handleSend(c *fiber.Ctx) error {
	req, st, v, err := s.read(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	sb := st.SendBack
	if st.ConsentRequired && !req.Consent {
		return coded(c, fiber.StatusForbidden, CodeNoConsent, "Please agree to be contacted before we write to you.")
	}
	p, err := Normalize(req.Phone, v.Country)
	var pe *PhoneError
	if errors.As(err, &pe) {
		return coded(c, fiber.StatusUnprocessableEntity, CodeInvalidPhone, pe.Reason)
	}
	if err != nil {
		return err
	}
	now := s.opt.Clock.Now()
	ttl := 24 * time.Hour
	if s.opt.VisitTTL != nil {
		ttl = s.opt.VisitTTL(st.Name)
	}
	if err := take(ctx, s.opt.Redis, sendWindows(st.Name, st.APIKey, sb.Limits, v.N, ttl, s.opt.ClientKey(c), p.Digits, now)); err != nil {
		var r *Refused
		if errors.As(err, &r) {
			s.opt.Log.Info("send-back refused by a limit", "site", st.Name, "limit", r.Limit)
		}
		return s.refused(c, err)
	}
	components, err := json.Marshal([]any{map[string]any{"type": "body",
		"parameters": []any{map[string]string{"type": "text", "text": v.Code}}}})
	if err != nil {
		return fmt.Errorf("sendback: components: %w", err)
	}
	res, err := s.opt.Send(ctx, st.Name, wabiz.SendRequest{To: p.Digits, Template: sb.Template, Language: sb.Language,
		Category: sb.Category, Components: components})
	var ae *wabiz.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == NotOnWhatsApp:
		return coded(c, fiber.StatusUnprocessableEntity, CodeNotOnWhatsApp, "This number is not on WhatsApp. Check it, or write to us from your phone.")
	case errors.As(err, &ae):
		s.opt.Log.Warn("send-back: the Cloud API refused the template", "site", st.Name, "status", ae.Status, "code", ae.Code, "err", ae.Message)
		return coded(c, fiber.StatusBadGateway, CodeSendFailed, "We could not send the message right now; please write to us on WhatsApp.")
	case res == nil && err != nil:
		return fmt.Errorf("sendback: send: %w", err)
	case err != nil:
		// Sent, but the template record failed: its report misses it; the
		// chat is still recorded below.
		s.opt.Log.Error("send-back: sent but not recorded for the templates report", "site", st.Name, "err", err)
	}
	// The API names the person's WhatsApp ID, which their messages come
	// from; it can differ from the number as typed.
	chatID := p.Digits
	if w := res.WaID; w != "" && digitsOnly(w) {
		chatID = w
	}
	if err := s.opt.Attribute(ctx, st.Name, "whatsapp:"+chatID, v.N, now); err != nil {
		return fmt.Errorf("sendback: sent %s but could not record the chat: %w", res.MessageID, err)
	}
	return c.JSON(fiber.Map{"sent": true, "message_id": res.MessageID})
}

func digitsOnly(s string) bool {
	if len(s) < 5 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// preflight answers CORS preflights (the widget posts text/plain, which
// needs none, but a page's own fetch wrapper may add headers): granted to
// the origins of any site with send-back on.
func (s *Service) preflight(c *fiber.Ctx) error {
	return sites.Preflight(c, func(origin string) bool {
		for _, name := range s.opt.Config.SiteNames() {
			st := s.opt.Config.Sites[name]
			if st.SendBack != nil && (len(st.Origins) == 0 || slices.Contains(st.Origins, origin)) {
				return true
			}
		}
		return false
	})
}
