// Package sites prepares a configured site for requests: its code secret
// and codec, its code style, the chat targets whose clicks it tracks, its
// visit-number allocator, and the words it puts around a code (its message
// templates, which of its Telegram names are bots). Every feature handler
// reads a site through it; it decides nothing about attribution.
package sites

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/ids"
	"github.com/messtrack/messtrack/store"
)

// Site is a configured site made ready for requests: its codes and the chat
// targets it owns.
type Site struct {
	Config *config.Site
	Codec  *ids.Codec
	Style  ids.CodeStyle
	// Targets are the chat targets whose clicks are tracked, as
	// "whatsapp:<digits>" and "telegram:<username>".
	Targets map[string]bool
	// Alloc hands out the site's visit numbers.
	Alloc *Allocator
	// Keys builds the keys of the site's visits, spread over its shards.
	Keys store.Shards
}

// New prepares cfg's site on rdb: the code secret (from the config, else
// the one kept in Redis, created on first use), the codec, the code style
// and the chat targets. It refuses a config whose shards differ from those
// the site's visits were stored by (store.CheckShards).
func New(ctx context.Context, rdb redis.UniversalClient, cfg *config.Site) (*Site, error) {
	if err := store.CheckShards(ctx, rdb, cfg.Name, max(1, cfg.Shards)); err != nil {
		return nil, fmt.Errorf("shards: %w", err)
	}
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
	st := &Site{Config: cfg, Codec: codec, Style: style, Targets: map[string]bool{}, Keys: store.NewShards(cfg.Name, cfg.Shards)}
	st.Alloc = NewAllocator(rdb, store.VisitSeq(cfg.Name), codec.Number)
	for _, w := range cfg.WhatsApp {
		st.Targets["whatsapp:"+w.Number] = true
	}
	for _, b := range cfg.Telegram.Bots {
		st.Targets["telegram:"+b] = true
	}
	for _, u := range cfg.Telegram.Users {
		st.Targets["telegram:"+u] = true
	}
	for _, src := range cfg.Sources {
		if src.Number != "" {
			st.Targets["whatsapp:"+src.Number] = true
		}
		if src.DedicatedNumber != "" {
			st.Targets["whatsapp:"+src.DedicatedNumber] = true
		}
		if src.Bot != "" {
			st.Targets["telegram:"+src.Bot] = true
		}
		if src.User != "" {
			st.Targets["telegram:"+src.User] = true
		}
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

// VisitTTL is how long a visit record lives: retention.visit_days, by
// default the session window plus a 7-day margin, so a chat written on the
// window's last day still finds it.
func (st *Site) VisitTTL() time.Duration { return st.Config.VisitTTL() }

// MatchWindow is how far before a message the heuristic looks for clicks.
func (st *Site) MatchWindow() time.Duration {
	return time.Duration(st.Config.MatchWindowMinutes) * time.Minute
}

// IsBot tells a Telegram bot (start links) from a user account (text links).
func (st *Site) IsBot(name string) bool {
	if slices.Contains(st.Config.Telegram.Bots, name) {
		return true
	}
	for _, src := range st.Config.Sources {
		if src.Bot == name {
			return true
		}
	}
	return false
}

// BotTarget tells a Telegram bot's chat target ("telegram:<bot>"), whose
// links carry a start payload instead of a text.
func (st *Site) BotTarget(target string) bool {
	name, ok := strings.CutPrefix(target, "telegram:")
	return ok && st.IsBot(name)
}

// Message fills the site's first template with a code.
func (st *Site) Message(code string) string { return MessageOf(st.Config.Message, code) }

// MessageOf fills a template with a code.
func MessageOf(template, code string) string {
	msg := strings.Replace(template, "{id}", code, 1)
	// One code per message: a second {id} would make the matcher see two.
	return strings.ReplaceAll(msg, "{id}", "")
}
