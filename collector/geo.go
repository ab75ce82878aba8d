package collector

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/oschwald/geoip2-golang"
)

// openGeo opens the GeoLite2/GeoIP2 City database at path and checks it is
// one: a Country database would answer without cities or time zones.
func openGeo(path string) (*geoip2.Reader, error) {
	r, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if t := r.Metadata().DatabaseType; !strings.Contains(t, "City") {
		r.Close()
		return nil, fmt.Errorf("%s is a %q database; a City database is needed", path, t)
	}
	return r, nil
}

// geoStep fills country, region, city and the location's time zone from the
// client IP. Without a database (no geoip configured) it does nothing, and an
// address the database does not know leaves the fields empty.
type geoStep struct {
	geo *geoip2.Reader
}

func (g *geoStep) enrich(_ context.Context, _ *site, v *Visit, h *hit) error {
	if g.geo == nil {
		return nil
	}
	ip := net.ParseIP(h.IP)
	if ip == nil {
		return nil
	}
	rec, err := g.geo.City(ip)
	if err != nil {
		// A lookup fails only on a corrupt database; the visit is still worth
		// keeping without geo.
		return nil
	}
	v.Country = rec.Country.IsoCode
	if len(rec.Subdivisions) > 0 {
		sub := rec.Subdivisions[0]
		v.Region = sub.Names["en"]
		if v.Region == "" {
			v.Region = sub.IsoCode
		}
	}
	v.City = rec.City.Names["en"]
	v.GeoTimeZone = rec.Location.TimeZone
	return nil
}
