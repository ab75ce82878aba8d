// Package geotest writes a small GeoLite2-City database for tests of the
// geo step and of servers that open one.
package geotest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// place is one network of the test City database.
type place struct {
	network, country, regionCode, region, city, timeZone string
}

// places are the networks WriteDB knows. 127.0.0.0/8 is there
// so that loopback tests can see geo too.
var places = []place{
	{network: "81.2.69.0/24", country: "GB", regionCode: "ENG", region: "England", city: "London", timeZone: "Europe/London"},
	{network: "89.160.20.0/24", country: "SE", regionCode: "E", region: "Östergötland County", city: "Linköping", timeZone: "Europe/Stockholm"},
	{network: "2a02:6b8::/32", country: "RU", regionCode: "MOW", region: "Moscow", city: "Moscow", timeZone: "Europe/Moscow"},
	{network: "127.0.0.0/8", country: "US", regionCode: "CA", region: "California", city: "San Jose", timeZone: "America/Los_Angeles"},
	{network: "203.0.113.0/24", country: "BR", timeZone: "America/Sao_Paulo"},
}

// WriteDB writes a small database in the GeoLite2-City record layout
// (country.iso_code, subdivisions[].iso_code/names, city.names,
// location.time_zone) and returns its path.
func WriteDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoLite2-City",
		RecordSize:              28,
		IncludeReservedNetworks: true,
		Languages:               []string{"en"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range places {
		_, network, err := net.ParseCIDR(p.network)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String(p.country), "names": mmdbtype.Map{"en": mmdbtype.String(p.country)}},
			"location": mmdbtype.Map{"time_zone": mmdbtype.String(p.timeZone)},
		}
		if p.regionCode != "" {
			rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{
				"iso_code": mmdbtype.String(p.regionCode),
				"names":    mmdbtype.Map{"en": mmdbtype.String(p.region)},
			}}
		}
		if p.city != "" {
			rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.city)}}
		}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatalf("insert %s: %v", p.network, err)
		}
	}
	path := filepath.Join(t.TempDir(), "GeoLite2-City-test.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
