package collector

import (
	"crypto/subtle"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/inbound"
)

// The WhatsApp Cloud API webhook: the verification handshake (GET) and the
// signed notifications (POST). inbound.ReadWhatsApp reads a notification.

// handleWhatsAppVerify answers Meta's subscription handshake: the challenge
// when the verify token is the site's, 403 otherwise.
func (s *Server) handleWhatsAppVerify(c *fiber.Ctx) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	want := st.cfg.WhatsAppVerifyToken
	token := c.Query("hub.verify_token")
	if want == "" || c.Query("hub.mode") != "subscribe" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return fail(ErrForbidden, "verification refused: wrong hub.mode or hub.verify_token")
	}
	challenge := c.Query("hub.challenge")
	if !inbound.ValidChallenge(challenge) {
		return fail(ErrBadInput, "hub.challenge is missing or not a token")
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(challenge)
}

// hookAnswer is what the webhooks answer: counts, for the platform's logs
// and for tests.
type hookAnswer struct {
	Received   int `json:"received"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
	// Statuses counts the WhatsApp statuses of the business's messages.
	Statuses int `json:"statuses,omitempty"`
}

func (s *Server) handleWhatsApp(c *fiber.Ctx) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	if st.cfg.WhatsAppAppSecret == "" {
		return fail(ErrForbidden, "this site has no whatsapp_app_secret: its WhatsApp webhook is off")
	}
	body := c.Body()
	if !inbound.ValidHubSignature(st.cfg.WhatsAppAppSecret, body, c.Get("X-Hub-Signature-256")) {
		return fail(ErrForbidden, "missing or wrong X-Hub-Signature-256")
	}
	p, err := inbound.ReadWhatsApp(body, s.clock.Now())
	if err != nil {
		return err
	}
	for _, id := range p.NoSender {
		s.log.Warn("WhatsApp message without sender ignored", "id", id)
	}
	ans := hookAnswer{Ignored: p.Ignored}
	for _, e := range p.Events {
		if e.Message == nil {
			if err := s.takeNotices(c.UserContext(), st, e.Notices, &ans); err != nil {
				return err
			}
			continue
		}
		res, err := s.receive(c.UserContext(), st, e.Message)
		if err != nil {
			return err
		}
		if res.Duplicate {
			ans.Duplicates++
		} else {
			ans.Received++
		}
		// A redelivered message is offered again: counting a reply is
		// idempotent, and it may be what failed the first time.
		if err := s.wabiz.TakeReply(c.UserContext(), st.cfg.Name, e.Message); err != nil {
			return err
		}
	}
	if err := s.wabiz.TakeStatuses(c.UserContext(), st.cfg.Name, p.Statuses); err != nil {
		return err
	}
	ans.Statuses = len(p.Statuses)
	return c.JSON(ans)
}
