package collector

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/messengers"
	"github.com/messtrack/messtrack/collector/messengers/line"
	"github.com/messtrack/messtrack/collector/messengers/max"
	"github.com/messtrack/messtrack/collector/messengers/meta"
	"github.com/messtrack/messtrack/collector/messengers/viber"
	"github.com/messtrack/messtrack/collector/messengers/vk"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// messengerList is every messenger beyond WhatsApp and Telegram, each a
// folder under collector/messengers: adding one is one line here.
func messengerList() []messengers.Messenger {
	return []messengers.Messenger{
		max.Messenger{},
		vk.Messenger{},
		meta.Hook{},
		viber.Messenger{},
		line.Messenger{},
	}
}

// openMessengers makes each messenger the site configures ready, by its
// webhook's path segment.
func openMessengers(cfg *config.Site) (map[string]messengers.Site, error) {
	out := map[string]messengers.Site{}
	for _, m := range messengerList() {
		ms, err := m.Open(cfg)
		if err != nil {
			return nil, err
		}
		if ms != nil {
			out[m.Hook()] = ms
		}
	}
	return out, nil
}

// MessengerProblems opens the site's messengers as the server does: an
// error is a setting that stops the start; the problems are settings that
// leave a webhook off. `messtrack check` reports both.
func MessengerProblems(cfg *config.Site) ([]string, error) {
	ms, err := openMessengers(cfg)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range messengerList() {
		if c, ok := ms[m.Hook()].(messengers.Checker); ok {
			out = append(out, c.Problems()...)
		}
	}
	return out, nil
}

// routesMessengers registers each messenger's webhook, GET (handshakes)
// and POST, at /hooks/<hook>/{site}.
func (s *Server) routesMessengers(r fiber.Router) {
	for _, m := range messengerList() {
		h := s.handleMessenger(m.Hook())
		r.Get("/hooks/"+m.Hook()+"/:site", h)
		r.Post("/hooks/"+m.Hook()+"/:site", s.acked, h)
	}
}

// handleMessenger serves one messenger's webhook: the messenger checks and
// reads the request; its held codes are stored, then its messages run
// through the matcher, each stored before the answer, so a platform that
// gets an error retries and loses nothing.
func (s *Server) handleMessenger(hook string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, err := s.siteParam(c)
		if err != nil {
			return err
		}
		ms := st.messengers[hook]
		if ms == nil {
			return fail(ErrForbidden, "this site configures no %s messenger: its webhook is off", hook)
		}
		res, err := ms.Handle(&messengers.Request{Method: c.Method(), Header: func(k string) string { return c.Get(k) }, Body: c.Body(),
			Query: func(k string) string { return c.Query(k) }, Received: s.clock.Now()})
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		for _, h := range res.Holds {
			if err := s.holdCode(ctx, st, h); err != nil {
				return err
			}
		}
		ans := hookAnswer{Ignored: res.Ignored}
		_, holds := ms.(messengers.Holder)
		for _, in := range res.Messages {
			dup, err := s.receiveHeld(ctx, st, in, holds)
			if err != nil {
				return err
			}
			if dup {
				ans.Duplicates++
			} else {
				ans.Received++
			}
		}
		if res.Answer != "" {
			c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
			return c.SendString(res.Answer)
		}
		return c.JSON(ans)
	}
}

// holdCode keeps a hidden code for its chat's next message.
func (s *Server) holdCode(ctx context.Context, st *site, h messengers.Hold) error {
	if h.Code == "" || h.Chat == "" {
		return nil
	}
	if err := s.rdb.Set(ctx, st.Keys.HeldCode(h.Chat), h.Code, store.HeldCodeTTL).Err(); err != nil {
		return fmt.Errorf("holdCode: %w", err)
	}
	return nil
}

// receiveHeld receives a messenger's message; with holds (the messenger
// gives Holds), one without a hidden code of its own takes the code its
// chat holds, which is let go once the message is stored. It tells whether
// the message was a redelivery.
func (s *Server) receiveHeld(ctx context.Context, st *site, in *inbound.Message, holds bool) (bool, error) {
	key := st.Keys.HeldCode(in.Chat)
	held := false
	if holds && !in.HasStart {
		code, err := s.rdb.Get(ctx, key).Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return false, fmt.Errorf("receiveHeld: %w", err)
		default:
			in.Start, in.HasStart, held = code, true, true
		}
	}
	res, err := s.receive(ctx, st, in)
	if err != nil {
		return false, err
	}
	if held {
		// Only this code goes: a newer one held meanwhile stays.
		if err := s.rdb.Eval(ctx, delIfScript, []string{key}, in.Start).Err(); err != nil && !errors.Is(err, redis.Nil) {
			return false, fmt.Errorf("receiveHeld: %w", err)
		}
	}
	return res.Duplicate, nil
}

// delIfScript deletes KEYS[1] when it holds ARGV[1].
const delIfScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

// messengerTargets are the chat targets of the site's messengers, each
// with the link parameter that carries the code, as the snippet takes them.
func messengerTargets(ms map[string]messengers.Site) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m.Targets())
	}
	return out
}
