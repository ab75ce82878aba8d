package enrich

import (
	"fmt"
	"net"
	"strings"

	"github.com/oschwald/geoip2-golang"

	"github.com/messtrack/messtrack/collector/visit"
)

// geoDB is an open GeoLite2/GeoIP2 City database read through
// geoip2-golang, with a bounded cache of answers by exact address: a
// returning visitor, or a busy office or mobile gateway, is looked up once.
// The cache is keyed by the whole address, never by a network guessed from
// it, because City databases hold networks smaller than a /24 and a guess
// would give some visitors another network's city.
type Geo struct {
	r     *geoip2.Reader
	cache *boundedCache[[16]byte, geoPlaceInfo]
}

// geoCacheSize bounds the cached answers: each is a few short strings, so a
// full cache stays around a megabyte.
const geoCacheSize = 8192

// geoPlaceInfo is what a visit takes from a City record.
type geoPlaceInfo struct {
	country, region, city, timeZone string
}

// openGeo opens the GeoLite2/GeoIP2 City database at path and checks it is
// one: a Country database would answer without cities or time zones.
func OpenGeo(path string) (*Geo, error) {
	r, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if t := r.Metadata().DatabaseType; !strings.Contains(t, "City") {
		r.Close()
		return nil, fmt.Errorf("%s is a %q database; a City database is needed", path, t)
	}
	return &Geo{r: r, cache: newBoundedCache[[16]byte, geoPlaceInfo](geoCacheSize)}, nil
}

// Close releases the database.
func (g *Geo) Close() error {
	if err := g.r.Close(); err != nil {
		return fmt.Errorf("geoDB.Close: %w", err)
	}
	return nil
}

// lookup returns what the database knows of ip; an address it does not know
// gives the zero geoPlaceInfo.
func (g *Geo) lookup(ip net.IP) (geoPlaceInfo, error) {
	ip16 := ip.To16()
	if ip16 == nil {
		return geoPlaceInfo{}, nil
	}
	key := [16]byte(ip16)
	if p, ok := g.cache.get(key); ok {
		return p, nil
	}
	rec, err := g.r.City(ip)
	if err != nil {
		return geoPlaceInfo{}, fmt.Errorf("geoDB.lookup: %w", err)
	}
	p := geoPlaceInfo{country: rec.Country.IsoCode, city: rec.City.Names["en"], timeZone: rec.Location.TimeZone}
	if len(rec.Subdivisions) > 0 {
		sub := rec.Subdivisions[0]
		p.region = sub.Names["en"]
		if p.region == "" {
			p.region = sub.IsoCode
		}
	}
	g.cache.put(key, p)
	return p, nil
}

// geoStep fills country, region, city and the location's time zone from the
// client IP. Without a database (no geoip configured) it does nothing, and an
// address the database does not know leaves the fields empty.
type geoStep struct {
	geo *Geo
}

func (g *geoStep) Enrich(v *visit.Visit, h *Hit) error {
	if g.geo == nil {
		return nil
	}
	ip := net.ParseIP(h.IP)
	if ip == nil {
		return nil
	}
	p, err := g.geo.lookup(ip)
	if err != nil {
		// A lookup fails only on a corrupt database; the visit is still worth
		// keeping without geo.
		return nil
	}
	v.Country, v.Region, v.City, v.GeoTimeZone = p.country, p.region, p.city, p.timeZone
	return nil
}
