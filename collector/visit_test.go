package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

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
			b, err := encodeVisit(&in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := decodeVisit(42, b)
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
	good, err := encodeVisit(&Visit{Time: testStart, Landing: typicalLanding, IP: "81.2.69.160", City: "London"})
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
			if _, err := decodeVisit(1, tt.b); !errors.Is(err, errVisitFormat) {
				t.Fatalf("decodeVisit = %v, want errVisitFormat", err)
			}
		})
	}
}

// TestTypicalVisitFitsIn512Bytes registers a typical ad visit through the
// whole intake (geo, user agent, a 100-character landing URL) and measures
// the key with MEMORY USAGE on the real Redis.
func TestTypicalVisitFitsIn512Bytes(t *testing.T) {
	if len(typicalLanding) != 100 {
		t.Fatalf("typical landing is %d characters, want 100", len(typicalLanding))
	}
	w := newGeoWorld(t)
	got := w.postTypicalVisit(t)
	st := w.srv.sites["demo"]
	n, err := st.codec.ParseVisitID(got.Visit)
	if err != nil {
		t.Fatal(err)
	}
	key := store.Visit("demo", n)
	ctx := context.Background()
	mem, err := w.rdb.MemoryUsage(ctx, key, 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	raw := w.rdb.Get(ctx, key).Val()
	v, err := w.srv.loadVisit(ctx, st, n)
	if err != nil {
		t.Fatal(err)
	}
	if v.City != "London" || v.Browser != "Chrome 120" || v.Channel != reports.ChannelPaidSearch || v.Page != typicalLanding {
		t.Fatalf("typical visit not fully enriched: %+v", v)
	}
	asJSON, _ := json.Marshal(v)
	t.Logf("typical visit: %d bytes stored, MEMORY USAGE %d bytes (the same visit as JSON: %d bytes)", len(raw), mem, len(asJSON))
	if mem > 512 {
		t.Fatalf("MEMORY USAGE of a typical visit = %d bytes, budget 512", mem)
	}
}

func TestVisitWriterBatchesConcurrentVisits(t *testing.T) {
	w := newTestWorld(t)
	st := w.srv.sites["demo"]
	const n = 300
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- w.srv.saveVisit(context.Background(), st, &Visit{Time: testStart, Landing: fmt.Sprintf("https://shop.test/p%d", i)})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	keys := w.rdb.Keys(context.Background(), "mt:{demo}:v:*").Val()
	if len(keys) != n {
		t.Fatalf("%d visits stored, want %d", len(keys), n)
	}
	for _, k := range keys[:5] {
		if ttl := w.rdb.TTL(context.Background(), k).Val(); ttl < 96*24*time.Hour {
			t.Fatalf("%s TTL %v, want the session window plus margin", k, ttl)
		}
	}
	w.srv.Close()
	err := w.srv.saveVisit(context.Background(), st, &Visit{Time: testStart})
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("saveVisit after Close = %v, want a closed error", err)
	}
}
