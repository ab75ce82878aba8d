package visit

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/reports"
)

// testStart is a fixed time the tests encode.
var testStart = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// typicalLanding is a 100-character ad landing URL.
const typicalLanding = "https://shop.test/spring/roses?utm_source=google&utm_medium=cpc&utm_campaign=spring_roses&gclid=Cj0K"

func TestVisitEncodingRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 30, 15, 123e6, time.UTC)
	full := Visit{
		Time: at, VisitorID: "k3J9aQ2mX8pLz0rT5vW1yB", Page: typicalLanding, Landing: typicalLanding,
		Referrer: "https://www.google.com/", UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "spring_roses",
		ClickIDKind: "gclid", ClickID: "Cj0K", Channel: reports.ChannelPaidSearch, Screen: "1920x1080", Language: "en-GB",
		TimeZone: "Europe/London", IP: "81.2.69.160", Country: "GB", Region: "England", City: "London",
		GeoTimeZone: "Europe/London", OS: "Windows 10", Browser: "Chrome 120", Device: "desktop",
	}
	tests := []struct {
		name   string
		change func(v *Visit)
	}{
		{name: "typical", change: func(*Visit) {}},
		{name: "page differs from landing", change: func(v *Visit) { v.Page = "https://shop.test/cart" }},
		{name: "empty page", change: func(v *Visit) { v.Page = "" }},
		{name: "UTM differs from the URL", change: func(v *Visit) { v.UTMSource = "flyer" }},
		{name: "UTM emptied", change: func(v *Visit) { v.UTMCampaign = "" }},
		{name: "click ID emptied", change: func(v *Visit) { v.ClickIDKind, v.ClickID = "", "" }},
		{name: "geo zone differs", change: func(v *Visit) { v.GeoTimeZone = "Europe/Dublin" }},
		{name: "no geo zone", change: func(v *Visit) { v.GeoTimeZone = "" }},
		{name: "IPv6", change: func(v *Visit) { v.IP = "2a02:6b8::" }},
		{name: "no IP", change: func(v *Visit) { v.IP = "" }},
		{name: "offline source without landing", change: func(v *Visit) {
			*v = Visit{Time: at, Source: "flyer", Channel: reports.ChannelOffline, UTMSource: "flyer", IP: "203.0.113.9"}
		}},
		{name: "hostile strings", change: func(v *Visit) {
			v.Screen, v.City = "<script>alert(1)</script>", "=HYPERLINK(\"x\")"
			v.VisitorID = strings.Repeat("é", 60)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := full
			tt.change(&in)
			in.N = 42
			b, err := Encode(&in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Decode(42, b)
			if err != nil {
				t.Fatal(err)
			}
			if *out != in {
				t.Fatalf("round trip changed the visit:\n got %+v\nwant %+v", *out, in)
			}
		})
	}
}

func TestDecodeVisitRejectsMalformed(t *testing.T) {
	good, err := Encode(&Visit{Time: testStart, Landing: typicalLanding, IP: "81.2.69.160", City: "London"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{name: "empty", b: nil},
		{name: "old JSON form", b: []byte(`{"l":"https://shop.test/","t":1}`)},
		{name: "truncated", b: good[:len(good)-3]},
		{name: "header only", b: good[:2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(1, tt.b); !errors.Is(err, ErrFormat) {
				t.Fatalf("Decode = %v, want ErrFormat", err)
			}
		})
	}
}

// FuzzReadQuery: the landing's tags are read from its query as
// url.ParseQuery and Values.Get read them.
func FuzzReadQuery(f *testing.F) {
	for _, s := range []string{
		"utm_source=google&utm_medium=cpc&gclid=abc", "utm_source=a&utm_source=b", "utm_source=&utm_source=b",
		"utm_source=%zz&utm_source=ok", "utm%5Fsource=x", "utm_source=a;b&utm_term=c", "&&utm_term=a+b%20c",
		"fbclid", "utm_campaign=%E2%9C%93", "yclid=1=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		want, _ := url.ParseQuery(raw)
		got := readQuery(raw)
		for _, p := range landingParams {
			if got.Get(p) != want.Get(p) {
				t.Fatalf("%q: %s = %q, url.ParseQuery %q", raw, p, got.Get(p), want.Get(p))
			}
		}
	})
}
