package collector

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// geoPlace is one network of the test City database.
type geoPlace struct {
	network, country, regionCode, region, city, timeZone string
}

// testGeoPlaces are the networks writeTestGeoDB knows. 127.0.0.0/8 is there
// so that loopback tests can see geo too.
var testGeoPlaces = []geoPlace{
	{network: "81.2.69.0/24", country: "GB", regionCode: "ENG", region: "England", city: "London", timeZone: "Europe/London"},
	{network: "89.160.20.0/24", country: "SE", regionCode: "E", region: "Östergötland County", city: "Linköping", timeZone: "Europe/Stockholm"},
	{network: "2a02:6b8::/32", country: "RU", regionCode: "MOW", region: "Moscow", city: "Moscow", timeZone: "Europe/Moscow"},
	{network: "127.0.0.0/8", country: "US", regionCode: "CA", region: "California", city: "San Jose", timeZone: "America/Los_Angeles"},
	{network: "203.0.113.0/24", country: "BR", timeZone: "America/Sao_Paulo"},
}

// writeTestGeoDB writes a small database in the GeoLite2-City record layout
// (country.iso_code, subdivisions[].iso_code/names, city.names,
// location.time_zone) and returns its path.
func writeTestGeoDB(t testing.TB) string {
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
	for _, p := range testGeoPlaces {
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

func TestGeoStep(t *testing.T) {
	geo, err := openGeo(writeTestGeoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geo.Close() })
	tests := []struct {
		name string
		ip   string
		want Visit
	}{
		{name: "IPv4 with city", ip: "81.2.69.160", want: Visit{Country: "GB", Region: "England", City: "London", GeoTimeZone: "Europe/London"}},
		{name: "non-ASCII names", ip: "89.160.20.112", want: Visit{Country: "SE", Region: "Östergötland County", City: "Linköping", GeoTimeZone: "Europe/Stockholm"}},
		{name: "IPv6", ip: "2a02:6b8::feed:0ff", want: Visit{Country: "RU", Region: "Moscow", City: "Moscow", GeoTimeZone: "Europe/Moscow"}},
		{name: "country only", ip: "203.0.113.9", want: Visit{Country: "BR", GeoTimeZone: "America/Sao_Paulo"}},
		{name: "unknown address", ip: "198.51.100.1", want: Visit{}},
		{name: "not an address", ip: "<script>", want: Visit{}},
		{name: "no address", ip: "", want: Visit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Visit
			if err := (&geoStep{geo: geo}).enrich(context.Background(), nil, &v, &hit{IP: tt.ip}); err != nil {
				t.Fatal(err)
			}
			if v != tt.want {
				t.Fatalf("geo = %+v, want %+v", v, tt.want)
			}
		})
	}
	t.Run("no database", func(t *testing.T) {
		var v Visit
		if err := (&geoStep{}).enrich(context.Background(), nil, &v, &hit{IP: "81.2.69.160"}); err != nil || v != (Visit{}) {
			t.Fatalf("without a database: %+v, %v", v, err)
		}
	})
}

func TestOpenGeoRefusesOtherDatabases(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "asn.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	notDB := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notDB, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{name: "ASN database", path: path, want: `"GeoLite2-ASN" database; a City database is needed`},
		{name: "not a database", path: notDB, want: "open " + notDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openGeo(tt.path)
			if err == nil || !contains(err.Error(), tt.want) {
				t.Fatalf("openGeo = %v, want %q", err, tt.want)
			}
		})
	}
}
