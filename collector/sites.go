package collector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/messengers"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/ids"
	"github.com/messtrack/messtrack/store"
)

// site is a configured site made ready for requests: its codes and the chat
// targets it owns.
type site struct {
	cfg   *config.Site
	codec *ids.Codec
	style ids.CodeStyle
	// targets are the chat targets whose clicks are tracked, as
	// "whatsapp:<digits>" and "telegram:<username>".
	targets map[string]bool
	alloc   *allocator
	// messengers are the site's messengers beyond WhatsApp and Telegram,
	// by their webhook's path segment (messengers.go).
	messengers map[string]messengers.Site
}

// visitTTL is how long a visit record lives: retention.visit_days, by
// default the session window plus a 7-day margin, so a chat written on the
// window's last day still finds it.
func (st *site) visitTTL() time.Duration { return st.cfg.VisitTTL() }

// matchWindow is how far before a message the heuristic looks for clicks.
func (st *site) matchWindow() time.Duration {
	return time.Duration(st.cfg.MatchWindowMinutes) * time.Minute
}

func newSite(ctx context.Context, rdb redis.UniversalClient, cfg *config.Site) (*site, error) {
	secret := []byte(cfg.IDSecret)
	if len(secret) == 0 {
		var err error
		if secret, err = siteSecret(ctx, rdb, cfg.Name); err != nil {
			return nil, err
		}
	}
	codec, err := ids.NewCodec(secret)
	if err != nil {
		return nil, fmt.Errorf("codes: %w", err)
	}
	style, err := ids.ParseCodeStyle(cfg.IDFormat)
	if err != nil {
		return nil, fmt.Errorf("id_format: %w", err)
	}
	st := &site{cfg: cfg, codec: codec, style: style, targets: map[string]bool{}}
	st.alloc = newAllocator(rdb, store.VisitSeq(cfg.Name), codec.Number)
	for _, w := range cfg.WhatsApp {
		st.targets["whatsapp:"+w.Number] = true
	}
	for _, b := range cfg.Telegram.Bots {
		st.targets["telegram:"+b] = true
	}
	for _, u := range cfg.Telegram.Users {
		st.targets["telegram:"+u] = true
	}
	for _, src := range cfg.Sources {
		if src.Number != "" {
			st.targets["whatsapp:"+src.Number] = true
		}
		if src.DedicatedNumber != "" {
			st.targets["whatsapp:"+src.DedicatedNumber] = true
		}
		if src.Bot != "" {
			st.targets["telegram:"+src.Bot] = true
		}
		if src.User != "" {
			st.targets["telegram:"+src.User] = true
		}
	}
	if st.messengers, err = openMessengers(cfg); err != nil {
		return nil, err
	}
	for t := range messengerTargets(st.messengers) {
		st.targets[t] = true
	}
	return st, nil
}

// siteSecret returns the site's code secret from Redis, creating a random
// one the first time. SETNX makes concurrent starts agree on one secret.
func siteSecret(ctx context.Context, rdb redis.UniversalClient, name string) ([]byte, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("siteSecret: %w", err)
	}
	key := store.Secret(name)
	if err := rdb.SetNX(ctx, key, hex.EncodeToString(buf), 0).Err(); err != nil {
		return nil, fmt.Errorf("siteSecret: setnx: %w", err)
	}
	v, err := rdb.Get(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("siteSecret: get: %w", err)
	}
	return []byte(v), nil
}

// siteParam resolves the :site path parameter.
func (s *Server) siteParam(c *fiber.Ctx) (*site, error) {
	return s.lookupSite(c.Params("site"))
}

func (s *Server) lookupSite(name string) (*site, error) {
	st, ok := s.sites[name]
	if !ok {
		return nil, fail(ErrUnknownSite, "unknown site %q", clip(name, 64))
	}
	return st, nil
}
