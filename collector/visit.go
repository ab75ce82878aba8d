package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// Visit is one registered visit: where the visitor came from and what they
// used. It is what a chat's source record is made of.
type Visit struct {
	// N is the visit's number in code space; its codes are made from it.
	N    uint64    `json:"-"`
	Time time.Time `json:"-"`

	VisitorID string `json:"vi,omitempty"`
	Page      string `json:"pg,omitempty"`
	Landing   string `json:"l,omitempty"`
	Referrer  string `json:"r,omitempty"`

	UTMSource   string `json:"us,omitempty"`
	UTMMedium   string `json:"um,omitempty"`
	UTMCampaign string `json:"uc,omitempty"`
	UTMContent  string `json:"un,omitempty"`
	UTMTerm     string `json:"ut,omitempty"`
	// ClickIDKind names the ad click ID parameter found ("gclid", "fbclid", …).
	ClickIDKind string `json:"ck,omitempty"`
	ClickID     string `json:"ci,omitempty"`
	// Channel is the traffic channel (paid_search, organic_search, …).
	Channel string `json:"ch,omitempty"`
	// Source is the offline source name for QR scans.
	Source string `json:"so,omitempty"`

	Screen   string `json:"sc,omitempty"`
	Language string `json:"la,omitempty"`
	TimeZone string `json:"tz,omitempty"`

	IP          string `json:"ip,omitempty"`
	Country     string `json:"co,omitempty"`
	Region      string `json:"re,omitempty"`
	City        string `json:"ci2,omitempty"`
	GeoTimeZone string `json:"gt,omitempty"`

	OS      string `json:"os,omitempty"`
	Browser string `json:"br,omitempty"`
	Device  string `json:"de,omitempty"`

	// T is Time in Unix seconds, kept in the encoding.
	T int64 `json:"t"`
}

// encodeVisit is the stored form of a visit: JSON with short keys, so a
// typical visit stays small in Redis.
func encodeVisit(v *Visit) ([]byte, error) {
	v.T = v.Time.Unix()
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encodeVisit: %w", err)
	}
	return b, nil
}

func decodeVisit(n uint64, b []byte) (*Visit, error) {
	v := &Visit{}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decodeVisit: %w", err)
	}
	v.N = n
	v.Time = time.Unix(v.T, 0).UTC()
	return v, nil
}

// allocator hands out visit numbers. It reserves counter values from Redis
// in blocks, so that registering a visit usually costs a single SET; values
// of a block left unused when the process stops are simply skipped.
type allocator struct {
	rdb    redis.UniversalClient
	key    string
	number func(counter uint64) uint64

	mu   sync.Mutex
	next uint64 // next counter value to hand out
	end  uint64 // last counter value of the reserved block
}

// allocBlock is how many counter values one INCRBY reserves.
const allocBlock = 32

func newAllocator(rdb redis.UniversalClient, key string, number func(uint64) uint64) *allocator {
	return &allocator{rdb: rdb, key: key, number: number}
}

// Next returns a fresh visit number.
func (a *allocator) Next(ctx context.Context) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == 0 || a.next > a.end {
		end, err := a.rdb.IncrBy(ctx, a.key, allocBlock).Result()
		if err != nil {
			return 0, fmt.Errorf("allocator.Next: incrby: %w", err)
		}
		a.end = uint64(end)
		a.next = a.end - allocBlock + 1
	}
	c := a.next
	a.next++
	return a.number(c), nil
}

// saveVisit allocates the visit's number and stores it with the site's TTL.
func (s *Server) saveVisit(ctx context.Context, st *site, v *Visit) error {
	n, err := st.alloc.Next(ctx)
	if err != nil {
		return fmt.Errorf("saveVisit: %w", err)
	}
	v.N = n
	b, err := encodeVisit(v)
	if err != nil {
		return fmt.Errorf("saveVisit: %w", err)
	}
	if err := s.rdb.Set(ctx, store.Visit(st.cfg.Name, n), b, st.visitTTL()).Err(); err != nil {
		return fmt.Errorf("saveVisit: set: %w", err)
	}
	return nil
}

// loadVisit returns the live visit numbered n, or ErrNotFound.
func (s *Server) loadVisit(ctx context.Context, st *site, n uint64) (*Visit, error) {
	b, err := s.rdb.Get(ctx, store.Visit(st.cfg.Name, n)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("loadVisit %d: %w", n, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loadVisit: get: %w", err)
	}
	return decodeVisit(n, b)
}
