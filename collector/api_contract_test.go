package collector

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// siteRoutes is every /v1/sites/{site}/... route of the HTTP surface, with a
// body its handler would accept, under the placeholder site SITE.
var siteRoutes = []struct {
	name, method, path, body string
}{
	{name: "messages", method: "POST", path: "/v1/sites/SITE/messages", body: `{"channel":"whatsapp","from":"16505551234","text":"hi"}`},
	{name: "events", method: "POST", path: "/v1/sites/SITE/events", body: `{"chat":"whatsapp:16505551234","category":"purchase"}`},
	{name: "chat list", method: "GET", path: "/v1/sites/SITE/chats"},
	{name: "chat record", method: "GET", path: "/v1/sites/SITE/chats/whatsapp:16505551234"},
	{name: "confirm", method: "POST", path: "/v1/sites/SITE/chats/whatsapp:16505551234/confirm", body: `{"visit":"AAAA"}`},
	{name: "visit", method: "GET", path: "/v1/sites/SITE/visits/AAAA"},
	{name: "conversion event", method: "GET", path: "/v1/sites/SITE/conversion-event"},
	{name: "set conversion event", method: "PUT", path: "/v1/sites/SITE/conversion-event", body: `{"category":"won"}`},
	{name: "costs", method: "POST", path: "/v1/sites/SITE/costs", body: "date,ad_id,cost,reach,impressions,clicks,currency\n2026-11-01,ad-1,10,100,200,5,USD\n"},
	{name: "ads report", method: "GET", path: "/v1/sites/SITE/reports/ads"},
	{name: "channels report", method: "GET", path: "/v1/sites/SITE/reports/channels"},
	{name: "pages report", method: "GET", path: "/v1/sites/SITE/reports/pages"},
	{name: "new-repeat report", method: "GET", path: "/v1/sites/SITE/reports/new-repeat"},
	{name: "dynamics report", method: "GET", path: "/v1/sites/SITE/reports/dynamics"},
	{name: "QR PNG", method: "GET", path: "/v1/sites/SITE/qr/flyer.png"},
	{name: "QR SVG", method: "GET", path: "/v1/sites/SITE/qr/flyer.svg"},
	{name: "heuristic", method: "GET", path: "/v1/sites/SITE/heuristic"},
	{name: "heuristic refit", method: "POST", path: "/v1/sites/SITE/heuristic/refit"},
}

// TestEverySiteRouteNeedsThatSitesKey tries each /v1/sites route of site
// demo without a key, with a wrong key and with the other site's key (both
// ways round): each is refused with 401, a JSON error and the Bearer
// challenge, and nothing is stored.
func TestEverySiteRouteNeedsThatSitesKey(t *testing.T) {
	w := newTestWorld(t)
	auths := []struct {
		name, site, auth string
	}{
		{name: "no key", site: "demo"},
		{name: "wrong key", site: "demo", auth: "Bearer demo-key-124"},
		{name: "key without scheme", site: "demo", auth: "demo-key-123"},
		{name: "basic scheme", site: "demo", auth: "Basic demo-key-123"},
		{name: "shop's key on demo", site: "demo", auth: "Bearer shop-key-456"},
		{name: "demo's key on shop", site: "shop", auth: "Bearer demo-key-123"},
	}
	for _, r := range siteRoutes {
		for _, a := range auths {
			t.Run(r.name+"/"+a.name, func(t *testing.T) {
				path := strings.Replace(r.path, "SITE", a.site, 1)
				var headers []string
				if a.auth != "" {
					headers = append(headers, "Authorization", a.auth)
				}
				resp, b := w.do(t, request(r.method, path, []byte(r.body), headers...))
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("%s %s: status %d (%s), want 401", r.method, path, resp.StatusCode, b)
				}
				var e struct {
					Error string `json:"error"`
				}
				if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
					t.Errorf("body %s is not {\"error\": ...}", b)
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	keys := w.keys(t, "*chat*")
	if len(keys) != 0 {
		t.Errorf("refused requests stored chats: %v", keys)
	}
}

// TestOneSitesKeyNeverReadsAnothersData stores a chat, a visit, costs and a
// conversation on site demo, then reads every route of site shop with
// shop's key: none of demo's data shows.
func TestOneSitesKeyNeverReadsAnothersData(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, func(v *visit.Visit) { v.UTMCampaign, v.Channel = "demo-secret-campaign", reports.ChannelPaidSocial })
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505551234", "to": "15551234567",
		"text": "Hello! My request code: " + w.code(v)})
	resp, b := w.do(t, request("POST", "/v1/sites/demo/costs",
		[]byte("date,ad_id,cost,reach,impressions,clicks,currency\n2026-11-02,demo-secret-campaign,10,100,200,5,USD\n"),
		"Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("costs: %d %s", resp.StatusCode, b)
	}
	demoVisit := w.visitID(v)
	reads := []struct {
		name, path string
		want       int
	}{
		{name: "chat record", path: "/v1/sites/shop/chats/whatsapp:16505551234", want: 404},
		{name: "chat list", path: "/v1/sites/shop/chats", want: 200},
		{name: "visit", path: "/v1/sites/shop/visits/" + demoVisit, want: 400},
		{name: "ads report", path: "/v1/sites/shop/reports/ads?from=2026-11-01&to=2026-11-02", want: 200},
		{name: "ads report CSV", path: "/v1/sites/shop/reports/ads?from=2026-11-01&to=2026-11-02&format=csv", want: 200},
		{name: "channels report", path: "/v1/sites/shop/reports/channels?from=2026-11-01&to=2026-11-02", want: 200},
		{name: "pages report", path: "/v1/sites/shop/reports/pages?from=2026-11-01&to=2026-11-02", want: 200},
		{name: "dynamics report", path: "/v1/sites/shop/reports/dynamics?from=2026-11-01&to=2026-11-02", want: 200},
		{name: "demo's QR source", path: "/v1/sites/shop/qr/flyer.svg", want: 404},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			resp, b := w.do(t, request("GET", r.path, nil, "Authorization", "Bearer shop-key-456"))
			if resp.StatusCode != r.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, r.want)
			}
			// Error answers may echo what was asked; answers with data
			// must hold nothing of demo's.
			for _, leak := range []string{"16505551234", "demo-secret-campaign", demoVisit} {
				if r.want == 200 && strings.Contains(string(b), leak) {
					t.Errorf("shop's answer shows demo's %q: %s", leak, b)
				}
			}
		})
	}
	t.Run("the same reads with demo's key see it", func(t *testing.T) {
		resp, b := w.do(t, request("GET", "/v1/sites/demo/reports/ads?from=2026-11-01&to=2026-11-02", nil, "Authorization", demoAuth))
		if resp.StatusCode != 200 || !strings.Contains(string(b), "demo-secret-campaign") {
			t.Errorf("%d %s", resp.StatusCode, b)
		}
	})
}

// TestUnknownRoutesAndMethodsAnswerJSON checks fiber's own answers go
// through the error handler: 404 for a path no route has, 405 for a known
// path with another method, both as {"error": "..."}.
func TestUnknownRoutesAndMethodsAnswerJSON(t *testing.T) {
	w := newTestWorld(t)
	tests := []struct {
		name, method, path string
		want               int
	}{
		{name: "unknown path", method: "GET", path: "/nowhere", want: 404},
		{name: "unknown path, POST", method: "POST", path: "/nowhere", want: 404},
		{name: "unknown site route", method: "GET", path: "/v1/sites/demo/everything", want: 404},
		{name: "GET on messages", method: "GET", path: "/v1/sites/demo/messages", want: 405},
		{name: "GET on events", method: "GET", path: "/v1/sites/demo/events", want: 405},
		{name: "DELETE on costs", method: "DELETE", path: "/v1/sites/demo/costs", want: 405},
		{name: "POST on a report", method: "POST", path: "/v1/sites/demo/reports/ads", want: 405},
		{name: "PUT on visits", method: "PUT", path: "/v1/visits", want: 405},
		{name: "GET on clicks", method: "GET", path: "/v1/clicks", want: 405},
		{name: "POST on the snippet", method: "POST", path: "/s/demo.js", want: 405},
		{name: "POST on healthz", method: "POST", path: "/healthz", want: 405},
		{name: "PUT on the Telegram hook", method: "PUT", path: "/hooks/telegram/demo", want: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := w.do(t, request(tc.method, tc.path, nil, "Authorization", demoAuth))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
				t.Errorf("body %s is not {\"error\": ...}", b)
			}
		})
	}
}

// TestBearerSchemeIsCaseInsensitive: HTTP authentication schemes are
// case-insensitive (RFC 9110, 11.1), so clients that send "bearer" or
// "BEARER" with the right key are let in; the key itself stays exact.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	w := newTestWorld(t)
	tests := []struct {
		name, auth string
		want       int
	}{
		{name: "Bearer", auth: "Bearer demo-key-123", want: 200},
		{name: "lower case scheme", auth: "bearer demo-key-123", want: 200},
		{name: "upper case scheme", auth: "BEARER demo-key-123", want: 200},
		{name: "key in another case", auth: "Bearer DEMO-KEY-123", want: 401},
		{name: "scheme glued to the key", auth: "Bearerdemo-key-123", want: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := w.do(t, request("GET", "/v1/sites/demo/conversion-event", nil, "Authorization", tc.auth))
			if resp.StatusCode != tc.want {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
		})
	}
}
