package collector

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/intake"
	"github.com/messtrack/messtrack/collector/visit"
)

// TestPositionalVisit: the snippet sends its visit as an array, [site, url,
// referrer, width, height, tz, visitor]; the collector stores the same
// facts as from the object form, which stays accepted.
func TestPositionalVisit(t *testing.T) {
	w := newTestWorld(t)
	st := w.srv.sites["demo"]
	post := func(t *testing.T, body string) intake.VisitResponse {
		t.Helper()
		resp, b := w.do(t, request("POST", "/v1/visits", []byte(body), "Origin", testOrigin, "Content-Type", "text/plain",
			"Accept-Language", "ru-RU,ru;q=0.9,en;q=0.8"))
		if resp.StatusCode != 200 {
			t.Fatalf("visit %s: %d %s", body, resp.StatusCode, b)
		}
		var out intake.VisitResponse
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("answer %s: %v", b, err)
		}
		return out
	}
	load := func(t *testing.T, id string) *visit.Visit {
		t.Helper()
		n, err := st.codec.ParseVisitID(id)
		if err != nil {
			t.Fatal(err)
		}
		v, err := w.srv.loadVisit(context.Background(), st, n)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	first := post(t, `["demo","https://shop.test/spring?utm_source=google&gclid=abc","https://www.google.com/",1920,1080,180,null]`)
	v := load(t, first.Visit)
	if v.Landing != "https://shop.test/spring?utm_source=google&gclid=abc" || v.Referrer != "https://www.google.com/" ||
		v.Screen != "1920x1080" || v.TimeZone != "UTC+03:00" || v.UTMSource != "google" || v.Language != "ru-RU" {
		t.Errorf("stored visit %+v", v)
	}
	if first.Visitor == "" || v.VisitorID != first.Visitor {
		t.Errorf("minted visitor %q, stored %q", first.Visitor, v.VisitorID)
	}
	// The end of the visit, twice: as a date and in Unix milliseconds.
	exp, err := time.Parse(time.RFC3339, first.Expires)
	if err != nil || first.Until != exp.UnixMilli() {
		t.Errorf("expires %q, until %d", first.Expires, first.Until)
	}

	again := post(t, `["demo","https://shop.test/","",390,844,-300,"`+first.Visitor+`"]`)
	v = load(t, again.Visit)
	if again.Visitor != first.Visitor || v.VisitorID != first.Visitor || v.Screen != "390x844" || v.TimeZone != "UTC-05:00" {
		t.Errorf("second visit %+v, answer %+v", v, again)
	}
	// A short array is a visit with fewer facts.
	short := post(t, `["demo","https://shop.test/"]`)
	if v := load(t, short.Visit); v.Screen != "" || v.TimeZone != "" || v.Referrer != "" {
		t.Errorf("short array stored %+v", v)
	}
	// The object form, as documented, gives the same answer's shape.
	obj := post(t, `{"site":"demo","url":"https://shop.test/","screen":"1920x1080","tz":"180"}`)
	if v := load(t, obj.Visit); v.Screen != "1920x1080" || v.TimeZone != "UTC+03:00" || obj.Until == 0 {
		t.Errorf("object form stored %+v, answered %+v", v, obj)
	}
}

// TestPositionalClick: the click beacon as an array, [site, visit, target,
// page, href], records the click as the object form does.
func TestPositionalClick(t *testing.T) {
	w := newTestWorld(t)
	st := w.srv.sites["demo"]
	for i, shape := range []string{
		`["demo","%s","whatsapp:15551234567","https://shop.test/","https://wa.me/15551234567?text=Hi"]`,
		`{"site":"demo","visit":"%s","target":"whatsapp:15551234567","page":"https://shop.test/","href":"https://wa.me/15551234567"}`,
	} {
		visit := w.registerVisit(t, "https://shop.test/")
		body := strings.Replace(shape, "%s", visit.Visit, 1)
		resp, b := w.do(t, request("POST", "/v1/clicks", []byte(body), "Origin", testOrigin, "Content-Type", "text/plain"))
		if resp.StatusCode != 204 {
			t.Fatalf("shape %d: click %d %s", i, resp.StatusCode, b)
		}
		clicks, err := w.srv.recentClicks(context.Background(), st, "whatsapp:15551234567", w.clock.Now().Add(-time.Hour), w.clock.Now().Add(time.Hour))
		n, _ := st.codec.ParseVisitID(visit.Visit)
		found := false
		for _, c := range clicks {
			found = found || c.N == n
		}
		if err != nil || len(clicks) != i+1 || !found {
			t.Errorf("shape %d: clicks %+v (%v), want visit %d among %d", i, clicks, err, n, i+1)
		}
	}
}

// TestPositionalRejects: arrays the script would never send get a clear
// 400 and store nothing.
func TestPositionalRejects(t *testing.T) {
	w := newTestWorld(t)
	tests := []struct {
		name, path, body, errPart string
	}{
		{name: "number for the URL", path: "/v1/visits", body: `["demo",5]`, errPart: "item 1 of the array must be a string"},
		{name: "text for the width", path: "/v1/visits", body: `["demo","https://shop.test/","","wide",1080]`, errPart: "item 3 of the array must be an integer"},
		{name: "fraction for the zone", path: "/v1/visits", body: `["demo","https://shop.test/","",1,1,1.5]`, errPart: "item 5 of the array must be an integer"},
		{name: "no URL", path: "/v1/visits", body: `["demo"]`, errPart: "url is required"},
		{name: "unterminated", path: "/v1/visits", body: `["demo",`, errPart: "malformed JSON"},
		{name: "two arrays", path: "/v1/visits", body: `["demo"]["demo"]`, errPart: "malformed JSON"},
		{name: "object in a click", path: "/v1/clicks", body: `["demo",{}]`, errPart: "item 1 of the array must be a string"},
		{name: "foreign target", path: "/v1/clicks", body: `["demo","` + w.srv.sites["demo"].codec.VisitID(1) + `","whatsapp:19990000000"]`, errPart: "not a chat of this site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := w.do(t, request("POST", tt.path, []byte(tt.body), "Origin", testOrigin, "Content-Type", "text/plain"))
			var e struct{ Error string }
			if resp.StatusCode != 400 || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, tt.errPart) {
				t.Errorf("%s: %d %s, want 400 mentioning %q", tt.body, resp.StatusCode, b, tt.errPart)
			}
		})
	}
}
