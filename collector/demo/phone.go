package demo

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// Phone serves the simulated phone of the demo pages: GET /demo/SITE/phone
// (the site's chats), POST /demo/SITE/send (a message, through the real
// webhook) and POST /demo/SITE/event (a purchase for a chat, through the
// events API). Only sites with demo: true answer; others are 404.
type Phone struct {
	cfg   *config.Config
	do    Doer
	clock store.Clock
	log   *slog.Logger
}

// NewPhone is the phone's handlers for cfg's demo sites; do reaches the
// collector itself.
func NewPhone(cfg *config.Config, do Doer, clock store.Clock, log *slog.Logger) *Phone {
	return &Phone{cfg: cfg, do: do, clock: clock, log: log}
}

// HasDemo tells whether any site of cfg is a demo site.
func HasDemo(cfg *config.Config) bool {
	for _, st := range cfg.Sites {
		if st.Demo {
			return true
		}
	}
	return false
}

// Register adds the phone's routes to r.
func (p *Phone) Register(r fiber.Router) {
	g := r.Group("/demo/:site")
	g.Get("/phone", p.handleInfo)
	g.Post("/send", p.handleSend)
	g.Post("/event", p.handleEvent)
}

// site is the demo site the path names, or a 404.
func (p *Phone) site(c *fiber.Ctx) (*config.Site, error) {
	st := p.cfg.Sites[c.Params("site")]
	if st == nil || !st.Demo {
		return nil, fiber.NewError(fiber.StatusNotFound, "no demo site here")
	}
	return st, nil
}

// phoneInfo is what the page needs to know which taps to take over.
type phoneInfo struct {
	WhatsApp        []string `json:"whatsapp"`
	Bots            []string `json:"bots"`
	Users           []string `json:"users"`
	MAX             []string `json:"max"`
	VK              []string `json:"vk"`
	ConversionEvent string   `json:"conversion_event"`
	Currency        string   `json:"currency"`
}

func (p *Phone) handleInfo(c *fiber.Ctx) error {
	st, err := p.site(c)
	if err != nil {
		return err
	}
	info := phoneInfo{Bots: st.Telegram.Bots, Users: st.Telegram.Users, ConversionEvent: conversionEvent(st), Currency: st.Currency,
		MAX: accountNames(st, "max"), VK: accountNames(st, "vk")}
	for _, n := range st.WhatsApp {
		info.WhatsApp = append(info.WhatsApp, n.Number)
	}
	for _, src := range st.Sources {
		if src.DedicatedNumber != "" {
			info.WhatsApp = append(info.WhatsApp, src.DedicatedNumber)
		}
	}
	return c.JSON(info)
}

// sendRequest is a message typed on the simulated phone.
type sendRequest struct {
	// Messenger is whatsapp, telegram, max or vk; To the business number,
	// bot, user account or community written to.
	Messenger string `json:"messenger"`
	To        string `json:"to"`
	// From is the person's WhatsApp number, or their Telegram, MAX or VK
	// user ID.
	From string `json:"from"`
	// Start is the hidden code the MAX or VK link carried (start, ref).
	Start    string `json:"start"`
	Name     string `json:"name"`
	Text     string `json:"text"`
	Language string `json:"language"`
}

// sendAnswer is the chat's match as the demo shows it.
type sendAnswer struct {
	Chat       string          `json:"chat"`
	Method     string          `json:"method"`
	Confidence float64         `json:"confidence"`
	Visit      string          `json:"visit,omitempty"`
	Source     json.RawMessage `json:"source"`
	Candidates any             `json:"candidates"`
	Messages   int64           `json:"messages"`
	// Card is the chat's page in the dashboard.
	Card string `json:"card"`
	// Webhook is what was posted, for the curious: path and body.
	Webhook     string          `json:"webhook"`
	WebhookBody json.RawMessage `json:"webhook_body"`
}

func (p *Phone) handleSend(c *fiber.Ctx) error {
	st, err := p.site(c)
	if err != nil {
		return err
	}
	var req sendRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "a JSON object with messenger, to, from and text is required")
	}
	req.Text = strings.TrimSpace(req.Text)
	if req.Text == "" || len(req.Text) > 4096 {
		return fiber.NewError(fiber.StatusBadRequest, "text must be 1 to 4096 bytes")
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = "Demo visitor"
	}
	cl := NewClient(p.do, st, p.cfg.PublicURL)
	ctx := c.UserContext()
	now := p.clock.Now()
	var chat, hook string
	var body []byte
	switch req.Messenger {
	case "whatsapp":
		from, err := config.Digits(req.From)
		if err != nil || len(from) < 8 {
			return fiber.NewError(fiber.StatusBadRequest, "from must be a phone number with country code")
		}
		to, err := config.Digits(req.To)
		if err != nil || !slices.Contains(p.numbers(st), to) {
			return fiber.NewError(fiber.StatusBadRequest, "to must be one of the site's WhatsApp numbers")
		}
		m := WhatsAppText{To: to, From: from, Name: name, Text: req.Text, ID: "wamid.demo." + randomHex(), Time: now}
		if body, err = WhatsAppWebhook(m); err != nil {
			return err
		}
		if _, err := cl.WhatsApp(ctx, m); err != nil {
			return fmt.Errorf("demo send: %w", err)
		}
		chat, hook = "whatsapp:"+from, "/hooks/whatsapp/"+st.Name
	case "telegram":
		id, err := strconv.ParseInt(req.From, 10, 64)
		if err != nil || id <= 0 {
			return fiber.NewError(fiber.StatusBadRequest, "from must be a Telegram user ID")
		}
		to := strings.ToLower(strings.TrimPrefix(req.To, "@"))
		business := slices.Contains(st.Telegram.Users, to)
		if !business && !slices.Contains(st.Telegram.Bots, to) {
			return fiber.NewError(fiber.StatusBadRequest, "to must be one of the site's Telegram bots or users")
		}
		first, last, _ := strings.Cut(name, " ")
		m := TelegramText{
			UpdateID: randomID(), MessageID: randomID() % 1_000_000, UserID: id, FirstName: first, LastName: last,
			Language: req.Language, Text: req.Text, Time: now, Business: business,
		}
		if body, err = TelegramUpdate(m); err != nil {
			return err
		}
		if _, err := cl.Telegram(ctx, to, m); err != nil {
			return fmt.Errorf("demo send: %w", err)
		}
		chat, hook = "telegram:"+req.From, "/hooks/telegram/"+st.Name
	case "max", "vk":
		if chat, hook, body, err = p.sendMore(ctx, st, &req, name); err != nil {
			return err
		}
	default:
		return fiber.NewError(fiber.StatusBadRequest, "messenger must be whatsapp, telegram, max or vk")
	}
	rec, err := cl.Chat(ctx, chat)
	if err != nil {
		return fmt.Errorf("demo send: %w", err)
	}
	return c.JSON(sendAnswer{
		Chat: rec.Chat, Method: rec.Method, Confidence: rec.Confidence, Visit: rec.Visit, Source: rec.Source,
		Candidates: rec.Candidates, Messages: rec.Messages, Card: "/dashboard/chats/" + url.PathEscape(rec.Chat),
		Webhook: hook, WebhookBody: body,
	})
}

// numbers are the site's WhatsApp numbers, dedicated ones too.
func (p *Phone) numbers(st *config.Site) []string {
	var out []string
	for _, n := range st.WhatsApp {
		out = append(out, n.Number)
	}
	for _, src := range st.Sources {
		if src.DedicatedNumber != "" {
			out = append(out, src.DedicatedNumber)
		}
	}
	return out
}

// eventRequest is the phone's "business event" button.
type eventRequest struct {
	Chat  string  `json:"chat"`
	Value float64 `json:"value"`
}

func (p *Phone) handleEvent(c *fiber.Ctx) error {
	st, err := p.site(c)
	if err != nil {
		return err
	}
	var req eventRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil || req.Chat == "" {
		return fiber.NewError(fiber.StatusBadRequest, `a JSON object {"chat": "whatsapp:…", "value": 59} is required`)
	}
	cl := NewClient(p.do, st, p.cfg.PublicURL)
	ans, err := cl.Event(c.UserContext(), req.Chat, conversionEvent(st), req.Value, "demo-"+randomHex(), p.clock.Now())
	var se *StatusError
	if errors.As(err, &se) && se.Status/100 == 4 {
		return fiber.NewError(se.Status, se.Body)
	}
	if err != nil {
		return fmt.Errorf("demo event: %w", err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(ans)
}

// conversionEvent is the category the demo's purchases carry.
func conversionEvent(st *config.Site) string {
	if st.ConversionEvent != "" {
		return st.ConversionEvent
	}
	return "purchase"
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// randomID is a positive random integer below 2^53, which JSON and
// JavaScript keep exact.
func randomID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:]) >> 11)
}
