// Package visit is the visit record and its compact binary stored form: what
// a registered page view says about where the visitor came from and what they
// used. It imports nothing of the project's; storing and enriching visits
// live elsewhere.
package visit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Visit is one registered visit: where the visitor came from and what they
// used. It is what a chat's source record is made of. Redis holds the compact
// binary form of Encode; the operators' API shows it without the IP address.
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

	// Template is the key of the message template the visit was given
	// (config.MessageTemplate.Key), for the template experiments.
	Template string

	// GAClientID and YMClientID are the page's Google Analytics client ID
	// and Yandex Metrica ClientID, when the page had them, so that a chat
	// and its conversions reach those analytics as the visitor's.
	GAClientID string
	YMClientID string
}

// The stored form of a visit is binary, because a busy site keeps millions of
// visits alive for its whole session window and Redis memory is the cost that
// grows with traffic:
//
//	byte      format version (format)
//	uvarint   Time in Unix milliseconds
//	uvarint   presence bits: bit i set = field i of fields follows
//	byte      flags (flagGeoTZIsBrowserTZ, flagStatic)
//	fields    for each present field: uvarint length, bytes
//
// Redundant values are left out and rebuilt on decode: Page when it equals
// Landing, the UTM tags and click ID when they are what the landing URL
// carries, the geo time zone when it equals the browser's, and the IP is 4 or
// 16 raw bytes. A present field of length 0 means "empty", which is how an
// explicit empty value that differs from the derived one is kept.
const format = 1

const (
	flagGeoTZIsBrowserTZ = 1
	flagStatic           = 2
)

// fields lists the stored string fields in their fixed order; new
// fields are only ever appended.
var fields = [...]func(v *Visit) *string{
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
	func(v *Visit) *string { return &v.Template },
	func(v *Visit) *string { return &v.GAClientID },
	func(v *Visit) *string { return &v.YMClientID },
}

// Field positions that Encode treats specially.
const (
	fieldPage        = 1
	fieldUTMFirst    = 4
	fieldUTMLast     = 10 // ClickID
	fieldIP          = 16
	fieldGeoTimeZone = 20
)

// derived is what a visit's landing URL and browser time zone imply for
// the fields Encode may leave out.
func derived(v *Visit) *Visit {
	d := &Visit{Landing: v.Landing, Page: v.Landing, GeoTimeZone: v.TimeZone}
	ReadLandingTags(d)
	return d
}

// Encode returns the stored form of v.
func Encode(v *Visit) ([]byte, error) {
	d := derived(v)
	var present uint64
	var flags byte
	size := 0
	for i, f := range fields {
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
	b = append(b, format)
	b = binary.AppendUvarint(b, uint64(v.Time.UnixMilli()))
	b = binary.AppendUvarint(b, present)
	b = append(b, flags)
	for i, f := range fields {
		if present&(1<<i) == 0 {
			continue
		}
		val := *f(v)
		if i == fieldIP {
			ip, err := netip.ParseAddr(val)
			if err != nil {
				return nil, fmt.Errorf("Encode: ip %q: %w", val, err)
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

// ErrFormat reports a stored visit that cannot be read.
var ErrFormat = errors.New("stored visit is malformed")

// Decode reads the stored form of visit n.
func Decode(n uint64, b []byte) (*Visit, error) {
	if len(b) < 1 || b[0] != format {
		return nil, fmt.Errorf("Decode %d: %w: unknown format", n, ErrFormat)
	}
	b = b[1:]
	ms, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("Decode %d: %w: time", n, ErrFormat)
	}
	b = b[k:]
	present, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+1 {
		return nil, fmt.Errorf("Decode %d: %w: header", n, ErrFormat)
	}
	flags := b[k]
	b = b[k+1:]
	v := &Visit{N: n, Time: time.UnixMilli(int64(ms)).UTC()}
	for i, f := range fields {
		if present&(1<<i) == 0 {
			continue
		}
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return nil, fmt.Errorf("Decode %d: %w: field %d", n, ErrFormat, i)
		}
		raw := b[k : k+int(l)]
		b = b[k+int(l):]
		if i == fieldIP {
			ip, ok := netip.AddrFromSlice(raw)
			if !ok {
				return nil, fmt.Errorf("Decode %d: %w: ip", n, ErrFormat)
			}
			v.IP = ip.String()
			continue
		}
		*f(v) = string(raw)
	}
	d := derived(v)
	for i := fieldPage; i <= fieldUTMLast; i++ {
		if (i == fieldPage || i >= fieldUTMFirst) && present&(1<<i) == 0 {
			*fields[i](v) = *fields[i](d)
		}
	}
	if flags&flagGeoTZIsBrowserTZ != 0 {
		v.GeoTimeZone = v.TimeZone
	}
	v.Static = flags&flagStatic != 0
	return v, nil
}
