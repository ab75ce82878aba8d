// Package chattags keeps operators' free-form tags on a chat (a product, a
// lead status): Normalize cleans a list, Set stores it on the chat record
// through the ledger, Has tells a record's tag for the chat list's filter,
// and Register adds the endpoint that sets them.
package chattags

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/ledger"
)

// Limits of a chat's tags.
const (
	MaxTags   = 20
	MaxTagLen = 40
)

// ErrNoChat is a chat the site has no record of.
var ErrNoChat = errors.New("no such chat")

// InputError is a tag list that cannot be taken; its Reason is for the
// caller.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return e.Reason }

// Normalize cleans a tag list: each tag on one line, trimmed, control and
// bidirectional-override characters dropped; empty tags and repeats
// (ignoring case) dropped, the first spelling kept; at most MaxTags of at
// most MaxTagLen characters. An empty list clears the tags.
func Normalize(in []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range in {
		if len(t) > 4*MaxTagLen+64 {
			return nil, &InputError{Reason: fmt.Sprintf("a tag is longer than %d characters", MaxTagLen)}
		}
		t = inbound.CleanName(t)
		if t == "" {
			continue
		}
		if utf8.RuneCountInString(t) > MaxTagLen {
			return nil, &InputError{Reason: fmt.Sprintf("tag %q is longer than %d characters", httperr.Clip(t, 48), MaxTagLen)}
		}
		k := strings.ToLower(t)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, &InputError{Reason: fmt.Sprintf("%d tags; at most %d", len(out), MaxTags)}
	}
	return out, nil
}

// Has tells whether the record carries the tag (ignoring case).
func Has(rec *ledger.Record, tag string) bool {
	if rec == nil {
		return false
	}
	for _, t := range rec.Tags {
		if strings.EqualFold(t, tag) {
			return true
		}
	}
	return false
}

// Service sets chats' tags.
type Service struct {
	ledger *ledger.Ledger
}

// New returns the service on the chats' ledger.
func New(l *ledger.Ledger) *Service { return &Service{ledger: l} }

// Set replaces the chat's tags with the normalized list and returns it; a
// chat without a record is ErrNoChat.
func (s *Service) Set(ctx context.Context, site, chat string, tags []string) ([]string, error) {
	clean, err := Normalize(tags)
	if err != nil {
		return nil, err
	}
	return ledger.Update(ctx, s.ledger, site, chat, "setTags", func(c *ledger.Chat) ([]string, error) {
		if c.Record == nil {
			return nil, ErrNoChat
		}
		next := *c.Record
		next.Tags = clean
		if len(clean) == 0 {
			next.Tags = nil
		}
		if _, err := s.ledger.Commit(ctx, site, ledger.Commit{Chat: chat, Ver: c.Ver, Record: &next}); err != nil {
			return nil, err
		}
		return clean, nil
	})
}

// Register adds PUT /v1/sites/{site}/chats/{chat}/tags {"tags":[…]} to r,
// behind guard (the site's key check); siteOf names the site guard let
// through. It answers {"chat","tags"}.
func (s *Service) Register(r fiber.Router, guard fiber.Handler, siteOf func(*fiber.Ctx) string) {
	r.Put("/v1/sites/:site/chats/:chat/tags", guard, func(c *fiber.Ctx) error {
		chat, err := httperr.ChatKey(c.Params("chat"))
		if err != nil {
			return err
		}
		if len(c.Body()) > 16<<10 {
			return httperr.Fail(httperr.ErrTooLarge, "the body is over 16 KiB")
		}
		var body struct {
			Tags *[]string `json:"tags"`
		}
		if err := c.App().Config().JSONDecoder(c.Body(), &body); err != nil || body.Tags == nil {
			return httperr.Fail(httperr.ErrBadInput, `the body is not {"tags":["…"]}`)
		}
		tags, err := s.Set(c.UserContext(), siteOf(c), chat, *body.Tags)
		var ie *InputError
		switch {
		case errors.As(err, &ie):
			return httperr.Fail(httperr.ErrBadInput, "%s", ie.Reason)
		case errors.Is(err, ErrNoChat):
			return httperr.Fail(httperr.ErrNotFound, "no chat %q", httperr.Clip(chat, 80))
		case err != nil:
			return err
		}
		return c.JSON(fiber.Map{"chat": chat, "tags": tags})
	})
}
