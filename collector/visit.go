package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// Visit is one registered visit: where the visitor came from and what they
// used. It is what a chat's source record is made of. Redis holds the compact
// binary form of encodeVisit; the API shows it as a visitView, which leaves
// out the IP address.
type Visit struct {
	// N is the visit's number in code space; its codes are made from it.
	N    uint64
	Time time.Time

	VisitorID string
	Page      string
	Landing   string
	Referrer  string

	UTMSource   string
	UTMMedium   string
	UTMCampaign string
	UTMContent  string
	UTMTerm     string
	// ClickIDKind names the ad click ID parameter found ("gclid", "fbclid", …).
	ClickIDKind string
	ClickID     string
	// Channel is the traffic channel (paid_search, organic_search, …).
	Channel string
	// Source is the offline source name for QR scans.
	Source string
	// Static marks the long-lived visit of a static source QR: its code is
	// printed, so many people may match it.
	Static bool

	Screen   string
	Language string
	// TimeZone is the browser's IANA time zone.
	TimeZone string

	// IP is the client address as stored: with the host part zeroed when
	// the config sets truncate_ips.
	IP      string
	Country string
	Region  string
	City    string
	// GeoTimeZone is the IANA time zone of the IP's location.
	GeoTimeZone string

	OS      string
	Browser string
	Device  string
}

// The stored form of a visit is binary, because a busy site keeps millions of
// visits alive for its whole session window and Redis memory is the cost that
// grows with traffic:
//
//	byte      format version (visitFormat)
//	uvarint   Time in Unix milliseconds
//	uvarint   presence bits: bit i set = field i of visitFields follows
//	byte      flags (flagGeoTZIsBrowserTZ, flagStatic)
//	fields    for each present field: uvarint length, bytes
//
// Redundant values are left out and rebuilt on decode: Page when it equals
// Landing, the UTM tags and click ID when they are what the landing URL
// carries, the geo time zone when it equals the browser's, and the IP is 4 or
// 16 raw bytes. A present field of length 0 means "empty", which is how an
// explicit empty value that differs from the derived one is kept.
const visitFormat = 1

const (
	flagGeoTZIsBrowserTZ = 1
	flagStatic           = 2
)

// visitFields lists the stored string fields in their fixed order; new
// fields are only ever appended.
var visitFields = [...]func(v *Visit) *string{
	func(v *Visit) *string { return &v.VisitorID },
	func(v *Visit) *string { return &v.Page },
	func(v *Visit) *string { return &v.Landing },
	func(v *Visit) *string { return &v.Referrer },
	func(v *Visit) *string { return &v.UTMSource },
	func(v *Visit) *string { return &v.UTMMedium },
	func(v *Visit) *string { return &v.UTMCampaign },
	func(v *Visit) *string { return &v.UTMContent },
	func(v *Visit) *string { return &v.UTMTerm },
	func(v *Visit) *string { return &v.ClickIDKind },
	func(v *Visit) *string { return &v.ClickID },
	func(v *Visit) *string { return &v.Channel },
	func(v *Visit) *string { return &v.Source },
	func(v *Visit) *string { return &v.Screen },
	func(v *Visit) *string { return &v.Language },
	func(v *Visit) *string { return &v.TimeZone },
	func(v *Visit) *string { return &v.IP },
	func(v *Visit) *string { return &v.Country },
	func(v *Visit) *string { return &v.Region },
	func(v *Visit) *string { return &v.City },
	func(v *Visit) *string { return &v.GeoTimeZone },
	func(v *Visit) *string { return &v.OS },
	func(v *Visit) *string { return &v.Browser },
	func(v *Visit) *string { return &v.Device },
}

// Field positions that encodeVisit treats specially.
const (
	fieldPage        = 1
	fieldUTMFirst    = 4
	fieldUTMLast     = 10 // ClickID
	fieldIP          = 16
	fieldGeoTimeZone = 20
)

// derivedVisit is what a visit's landing URL and browser time zone imply for
// the fields encodeVisit may leave out.
func derivedVisit(v *Visit) *Visit {
	d := &Visit{Landing: v.Landing, Page: v.Landing, GeoTimeZone: v.TimeZone}
	readLandingTags(d)
	return d
}

// encodeVisit returns the stored form of v.
func encodeVisit(v *Visit) ([]byte, error) {
	d := derivedVisit(v)
	var present uint64
	var flags byte
	size := 0
	for i, f := range visitFields {
		val := *f(v)
		switch {
		case i == fieldPage || (i >= fieldUTMFirst && i <= fieldUTMLast):
			if val == *f(d) {
				continue
			}
		case i == fieldGeoTimeZone:
			if val != "" && val == v.TimeZone {
				flags |= flagGeoTZIsBrowserTZ
				continue
			}
			if val == "" {
				continue
			}
		case val == "":
			continue
		}
		present |= 1 << i
		size += len(val) + binary.MaxVarintLen16
	}
	if v.Static {
		flags |= flagStatic
	}
	b := make([]byte, 0, 1+binary.MaxVarintLen64*2+1+size)
	b = append(b, visitFormat)
	b = binary.AppendUvarint(b, uint64(v.Time.UnixMilli()))
	b = binary.AppendUvarint(b, present)
	b = append(b, flags)
	for i, f := range visitFields {
		if present&(1<<i) == 0 {
			continue
		}
		val := *f(v)
		if i == fieldIP {
			ip, err := netip.ParseAddr(val)
			if err != nil {
				return nil, fmt.Errorf("encodeVisit: ip %q: %w", val, err)
			}
			raw := ip.Unmap().AsSlice()
			b = binary.AppendUvarint(b, uint64(len(raw)))
			b = append(b, raw...)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(val)))
		b = append(b, val...)
	}
	return b, nil
}

// errVisitFormat reports a stored visit that cannot be read.
var errVisitFormat = errors.New("stored visit is malformed")

// decodeVisit reads the stored form of visit n.
func decodeVisit(n uint64, b []byte) (*Visit, error) {
	if len(b) < 1 || b[0] != visitFormat {
		return nil, fmt.Errorf("decodeVisit %d: %w: unknown format", n, errVisitFormat)
	}
	b = b[1:]
	ms, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("decodeVisit %d: %w: time", n, errVisitFormat)
	}
	b = b[k:]
	present, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+1 {
		return nil, fmt.Errorf("decodeVisit %d: %w: header", n, errVisitFormat)
	}
	flags := b[k]
	b = b[k+1:]
	v := &Visit{N: n, Time: time.UnixMilli(int64(ms)).UTC()}
	for i, f := range visitFields {
		if present&(1<<i) == 0 {
			continue
		}
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return nil, fmt.Errorf("decodeVisit %d: %w: field %d", n, errVisitFormat, i)
		}
		raw := b[k : k+int(l)]
		b = b[k+int(l):]
		if i == fieldIP {
			ip, ok := netip.AddrFromSlice(raw)
			if !ok {
				return nil, fmt.Errorf("decodeVisit %d: %w: ip", n, errVisitFormat)
			}
			v.IP = ip.String()
			continue
		}
		*f(v) = string(raw)
	}
	d := derivedVisit(v)
	for i := fieldPage; i <= fieldUTMLast; i++ {
		if (i == fieldPage || i >= fieldUTMFirst) && present&(1<<i) == 0 {
			*visitFields[i](v) = *visitFields[i](d)
		}
	}
	if flags&flagGeoTZIsBrowserTZ != 0 {
		v.GeoTimeZone = v.TimeZone
	}
	v.Static = flags&flagStatic != 0
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

// allocBlock is how many counter values one INCRBY reserves. Requests wait
// on the reservation, so a larger block means fewer waits; the values a
// stopped process leaves unused are skipped, which costs nothing next to the
// code space's 762 million (ids.Cycle).
const allocBlock = 256

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
	if err := s.visits.set(ctx, store.Visit(st.cfg.Name, n), b, st.visitTTL()); err != nil {
		return fmt.Errorf("saveVisit: set: %w", err)
	}
	s.metrics.visits.WithLabelValues(st.cfg.Name).Inc()
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
