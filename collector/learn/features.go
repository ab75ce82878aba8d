package learn

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/collector/visit"
)

// MessageOf is what the matcher knows of a first message: phone is the
// sender's number in digits ("" for none, then country is the platform's
// hint), language the Telegram language_code, clicksPerHour the target's
// clicks in the hour before the message. A number that does not parse
// gives no phone evidence.
func MessageOf(at time.Time, messenger, target, phone, country, language string, clicksPerHour float64) posterior.Message {
	m := posterior.Message{Time: at, Messenger: messenger, Target: target, PhoneCountry: strings.ToUpper(country),
		Language: language, ClicksPerHour: clicksPerHour}
	if phone != "" {
		if c, offs, err := posterior.PhoneSignals(phone, at); err == nil {
			if c != "" {
				m.PhoneCountry = c
			}
			m.PhoneOffsets = offs
		}
	}
	return m
}

// ClickOf is a visit's features as a candidate of a message at msgAt: its
// click time, IP country, browser language, and UTC offset at msgAt (the
// browser's time zone, else the IP's).
func (s *Store) ClickOf(v *visit.Visit, clickAt, msgAt time.Time) posterior.Click {
	c := posterior.Click{At: clickAt, Country: v.Country, Language: v.Language}
	zone := v.TimeZone
	if zone == "" {
		zone = v.GeoTimeZone
	}
	if loc, err := s.zones.load(zone); err == nil && loc != nil {
		_, c.Offset = msgAt.In(loc).Zone()
		c.HasOffset = true
	}
	return c
}

// zoneCache keeps the IANA zones loaded so far: time.LoadLocation reads the
// zone database on every call. Only zones that load are kept, so its size
// is bounded by the database's.
type zoneCache struct{ m sync.Map }

// load reads an IANA zone name or a fixed offset as the collector stores
// a browser's ("UTC+03:00"); nil without error for "".
func (z *zoneCache) load(name string) (*time.Location, error) {
	if name == "" {
		return nil, nil
	}
	if off, ok := strings.CutPrefix(name, "UTC"); ok && len(off) == 6 && off[3] == ':' && (off[0] == '+' || off[0] == '-') {
		h, errH := strconv.Atoi(off[1:3])
		m, errM := strconv.Atoi(off[4:])
		if errH != nil || errM != nil {
			return nil, fmt.Errorf("zone %q: bad offset", name)
		}
		secs := (h*60 + m) * 60
		if off[0] == '-' {
			secs = -secs
		}
		return time.FixedZone(name, secs), nil
	}
	if l, ok := z.m.Load(name); ok {
		return l.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("zone: %w", err)
	}
	z.m.Store(name, loc)
	return loc, nil
}
