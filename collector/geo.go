package collector

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/oschwald/maxminddb-golang"
)

// geoDB is an open GeoLite2/GeoIP2 City database with a cache of the
// records it has decoded. The database is normalised: every network of one
// city points at the same record, so a few thousand records answer most
// visits, and the cache is keyed by the record's offset. That keeps each
// answer exactly what the database says for the address (networks smaller
// than a /24 included) while sparing the decoding, which is most of a
// lookup's cost.
type geoDB struct {
	r     *maxminddb.Reader
	cache *boundedCache[uintptr, geoPlaceInfo]
}

// geoCacheSize bounds the decoded records kept: a record is a few short
// strings, so even a full cache is well under a megabyte.
const geoCacheSize = 8192

// geoRecord is the part of a City record the visit uses; the decoder skips
// everything else (other languages' names, coordinates, postal codes).
type geoRecord struct {
	City struct {
		Names struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		IsoCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Location struct {
		TimeZone string `maxminddb:"time_zone"`
	} `maxminddb:"location"`
	Subdivisions []struct {
		IsoCode string `maxminddb:"iso_code"`
		Names   struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
}

// geoPlaceInfo is what a visit takes from a City record.
type geoPlaceInfo struct {
	country, region, city, timeZone string
}

// openGeo opens the GeoLite2/GeoIP2 City database at path and checks it is
// one: a Country database would answer without cities or time zones.
func openGeo(path string) (*geoDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if t := r.Metadata.DatabaseType; !strings.Contains(t, "City") {
		r.Close()
		return nil, fmt.Errorf("%s is a %q database; a City database is needed", path, t)
	}
	return &geoDB{r: r, cache: newBoundedCache[uintptr, geoPlaceInfo](geoCacheSize)}, nil
}

// Close releases the database's memory map.
func (g *geoDB) Close() error {
	if err := g.r.Close(); err != nil {
		return fmt.Errorf("geoDB.Close: %w", err)
	}
	return nil
}

// lookup returns what the database knows of ip; an address it does not know
// gives the zero geoPlaceInfo.
func (g *geoDB) lookup(ip net.IP) (geoPlaceInfo, error) {
	off, err := g.r.LookupOffset(ip)
	if err != nil {
		return geoPlaceInfo{}, fmt.Errorf("geoDB.lookup: %w", err)
	}
	if off == maxminddb.NotFound {
		return geoPlaceInfo{}, nil
	}
	if p, ok := g.cache.get(off); ok {
		return p, nil
	}
	var rec geoRecord
	if err := g.r.Decode(off, &rec); err != nil {
		return geoPlaceInfo{}, fmt.Errorf("geoDB.lookup: decode: %w", err)
	}
	p := geoPlaceInfo{country: rec.Country.IsoCode, city: rec.City.Names.En, timeZone: rec.Location.TimeZone}
	if len(rec.Subdivisions) > 0 {
		sub := rec.Subdivisions[0]
		p.region = sub.Names.En
		if p.region == "" {
			p.region = sub.IsoCode
		}
	}
	g.cache.put(off, p)
	return p, nil
}

// geoStep fills country, region, city and the location's time zone from the
// client IP. Without a database (no geoip configured) it does nothing, and an
// address the database does not know leaves the fields empty.
type geoStep struct {
	geo *geoDB
}

func (g *geoStep) enrich(_ context.Context, _ *site, v *Visit, h *hit) error {
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
