package enrich

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"

	"github.com/messtrack/messtrack/collector/enrich/geotest"
	"github.com/messtrack/messtrack/collector/visit"
)

func TestGeoStep(t *testing.T) {
	geo, err := OpenGeo(geotest.WriteDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geo.Close() })
	tests := []struct {
		name string
		ip   string
		want visit.Visit
	}{
		{name: "IPv4 with city", ip: "81.2.69.160", want: visit.Visit{Country: "GB", Region: "England", City: "London", GeoTimeZone: "Europe/London"}},
		{name: "non-ASCII names", ip: "89.160.20.112", want: visit.Visit{Country: "SE", Region: "Östergötland County", City: "Linköping", GeoTimeZone: "Europe/Stockholm"}},
		{name: "IPv6", ip: "2a02:6b8::feed:0ff", want: visit.Visit{Country: "RU", Region: "Moscow", City: "Moscow", GeoTimeZone: "Europe/Moscow"}},
		{name: "country only", ip: "203.0.113.9", want: visit.Visit{Country: "BR", GeoTimeZone: "America/Sao_Paulo"}},
		{name: "unknown address", ip: "198.51.100.1", want: visit.Visit{}},
		{name: "not an address", ip: "<script>", want: visit.Visit{}},
		{name: "no address", ip: "", want: visit.Visit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v visit.Visit
			if err := (&geoStep{geo: geo}).Enrich(&v, &Hit{IP: tt.ip}); err != nil {
				t.Fatal(err)
			}
			if v != tt.want {
				t.Fatalf("geo = %+v, want %+v", v, tt.want)
			}
		})
	}
	t.Run("no database", func(t *testing.T) {
		var v visit.Visit
		if err := (&geoStep{}).Enrich(&v, &Hit{IP: "81.2.69.160"}); err != nil || v != (visit.Visit{}) {
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
			_, err := OpenGeo(tt.path)
			if err == nil || !contains(err.Error(), tt.want) {
				t.Fatalf("openGeo = %v, want %q", err, tt.want)
			}
		})
	}
}
