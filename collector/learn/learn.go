// Package learn keeps the learned matcher's data in Redis: each site's
// labelled and code-less first messages with their candidates' features
// (bounded lists with a TTL), the fitted model with its version, and the
// live proof; Refit turns the examples into a new model and adds the proof
// of the model it replaces, reading the lists in bounded batches. The
// model and its mathematics are collector/posterior's; which messages are
// examples is the collector's.
package learn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/store"
)

// Bounds of what is kept and read.
const (
	// MaxExamples caps each list of examples per site and messenger: a
	// fit reads at most this many labelled and this many code-less first
	// messages of a messenger, the newest. 5,000 labelled examples put
	// today's defaults (worth 40) at under 1 % of the delay curve and the
	// evidence tables; at 15 candidates an example is about 1.5 KB, so a
	// busy messenger keeps about 15 MB.
	MaxExamples = 5000
	// ExampleTTL is how long examples live after the last one was added:
	// a site that stops getting chats keeps its model, not its examples.
	ExampleTTL = 90 * 24 * time.Hour
	// LockTTL bounds a refit: a collector that dies in a fit frees the
	// site for the others after this.
	LockTTL = 10 * time.Minute
	// MinLabelled is how many labelled examples a messenger's fitted model
	// needs before the matcher uses it instead of today's formula. Below
	// that the fitted delay curve rests mostly on today's defaults
	// (worth 40 examples over 25 delay bins and 27 evidence cells), and
	// the live proof's precision interval spans tens of points.
	MinLabelled = 200
	// batch is how many list entries one Redis call reads.
	batch = 500
	// reloadEvery is how often a collector asks Redis whether the site's
	// model changed.
	reloadEvery = time.Minute
)

// Store reads and writes the learned matcher's keys. It is safe for
// concurrent use; it caches each site's model and checks its version at
// most once a minute of its clock.
type Store struct {
	rdb   redis.UniversalClient
	clock store.Clock

	mu    sync.Mutex
	cache map[string]*cached
	// zones are the time zones of visits, loaded once each.
	zones zoneCache
}

type cached struct {
	model   *posterior.Model
	version int64
	checked time.Time
}

// New returns a Store on rdb with clock.
func New(rdb redis.UniversalClient, clock store.Clock) *Store {
	return &Store{rdb: rdb, clock: clock, cache: map[string]*cached{}}
}

// AddLabelled keeps a labelled first message (a code named its visit) of
// the site.
func (s *Store) AddLabelled(ctx context.Context, site string, l *posterior.Labelled) error {
	if err := s.push(ctx, site, l.Message.Messenger, store.LearnLabelled(site, l.Message.Messenger), l); err != nil {
		return fmt.Errorf("learn: add labelled: %w", err)
	}
	return nil
}

// AddUnlabelled keeps a code-less first message of the site with its
// candidates.
func (s *Store) AddUnlabelled(ctx context.Context, site string, u *posterior.Unlabelled) error {
	if err := s.push(ctx, site, u.Message.Messenger, store.LearnUnlabelled(site, u.Message.Messenger), u); err != nil {
		return fmt.Errorf("learn: add code-less: %w", err)
	}
	return nil
}

// push adds one example at the head of its list, trims the list to
// MaxExamples and renews the TTLs, in one transaction on the site's slot.
func (s *Store) push(ctx context.Context, site, messenger, key string, v any) error {
	if messenger == "" {
		return errors.New("the message names no messenger")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ms := store.LearnMessengers(site)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, key, b)
		p.LTrim(ctx, key, 0, MaxExamples-1)
		p.Expire(ctx, key, ExampleTTL)
		p.SAdd(ctx, ms, messenger)
		p.Expire(ctx, ms, ExampleTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	return nil
}

// Model returns the site's fitted model, nil when none was fitted. It
// reads Redis at most once a minute per site (the version), and the model
// only when the version changed.
func (s *Store) Model(ctx context.Context, site string) (*posterior.Model, error) {
	now := s.clock.Now()
	s.mu.Lock()
	c := s.cache[site]
	if c != nil {
		if age := now.Sub(c.checked); age >= 0 && age < reloadEvery {
			s.mu.Unlock()
			return c.model, nil
		}
	}
	s.mu.Unlock()
	key := store.LearnModel(site)
	v, err := s.rdb.HGet(ctx, key, "version").Int64()
	switch {
	case errors.Is(err, redis.Nil):
		s.remember(site, nil, 0, now)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("learn: model version: %w", err)
	}
	if c != nil && c.version == v {
		s.remember(site, c.model, v, now)
		return c.model, nil
	}
	m, v, err := s.loadModel(ctx, site)
	if err != nil {
		return nil, err
	}
	s.remember(site, m, v, now)
	return m, nil
}

func (s *Store) remember(site string, m *posterior.Model, version int64, now time.Time) {
	s.mu.Lock()
	s.cache[site] = &cached{model: m, version: version, checked: now}
	s.mu.Unlock()
}

// loadModel reads the stored model and its version; nil when there is
// none.
func (s *Store) loadModel(ctx context.Context, site string) (*posterior.Model, int64, error) {
	vals, err := s.rdb.HMGet(ctx, store.LearnModel(site), "version", "model").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("learn: load model: %w", err)
	}
	vs, _ := vals[0].(string)
	raw, _ := vals[1].(string)
	if vs == "" || raw == "" {
		return nil, 0, nil
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("learn: load model: version %q: %w", vs, err)
	}
	m := &posterior.Model{}
	if err := json.Unmarshal([]byte(raw), m); err != nil {
		return nil, 0, fmt.Errorf("learn: load model: %w", err)
	}
	return m, v, nil
}

// Usable tells whether the matcher takes the model's answer for a
// messenger: the model has a sub-model fitted on at least MinLabelled of
// its labelled first messages.
func Usable(m *posterior.Model, messenger string) bool {
	if m == nil {
		return false
	}
	mm := m.Messengers[messenger]
	return mm != nil && mm.Labelled >= MinLabelled
}
