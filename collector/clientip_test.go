package collector

import (
	"encoding/json"
	"fmt"
	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/collector/intake"
	"net/http"
	"net/url"
	"testing"
)

// TestClientIPFromForwardingHeaders checks, through POST /v1/visits, which
// address a visit is stored and located under when a trusted proxy (the
// in-process peer 0.0.0.0) writes the client's address.
func TestClientIPFromForwardingHeaders(t *testing.T) {
	const rfc = "forwarded_header: Forwarded"
	tests := []struct {
		name           string
		top            string
		header, value  string
		wantIP, wantCC string
	}{
		{name: "X-Forwarded-For: IPv4-mapped IPv6", header: "X-Forwarded-For", value: "::ffff:81.2.69.160", wantIP: "81.2.69.160", wantCC: "GB"},
		{name: "X-Forwarded-For: mapped trusted hop skipped", top: "trusted_proxies: [0.0.0.0, 10.0.0.0/8]",
			header: "X-Forwarded-For", value: "89.160.20.112, ::ffff:10.1.2.3", wantIP: "89.160.20.112", wantCC: "SE"},
		{name: "X-Forwarded-For: IPv4 with a port", header: "X-Forwarded-For", value: "81.2.69.160:51234", wantIP: "81.2.69.160", wantCC: "GB"},
		{name: "X-Forwarded-For: bracketed IPv6 with a port", header: "X-Forwarded-For", value: "[2a02:6b8:1234:5678::1]:443", wantIP: "2a02:6b8:1234:5678::1", wantCC: "RU"},
		{name: "X-Forwarded-For: Forwarded is not read", header: "Forwarded", value: "for=81.2.69.160", wantIP: "0.0.0.0"},
		{name: "Forwarded: plain", top: rfc, header: "Forwarded", value: "for=81.2.69.160;proto=https;by=10.0.0.1", wantIP: "81.2.69.160", wantCC: "GB"},
		{name: "Forwarded: quoted IPv6 with a port", top: rfc, header: "Forwarded", value: `for="[2a02:6b8:1234:5678::1]:4711"`, wantIP: "2a02:6b8:1234:5678::1", wantCC: "RU"},
		{name: "Forwarded: quoted IPv4-mapped", top: rfc, header: "Forwarded", value: `for="[::ffff:81.2.69.160]"`, wantIP: "81.2.69.160", wantCC: "GB"},
		{name: "Forwarded: forged left element ignored", top: rfc, header: "Forwarded", value: `for=89.160.20.112, For="81.2.69.160:80"`, wantIP: "81.2.69.160", wantCC: "GB"},
		{name: "Forwarded: quoted comma does not split", top: rfc, header: "Forwarded", value: `for=89.160.20.112;host="a,b", for=81.2.69.160`, wantIP: "81.2.69.160", wantCC: "GB"},
		{name: "Forwarded: trusted hops skipped", top: rfc + "\ntrusted_proxies: [0.0.0.0, 10.0.0.0/8]", header: "Forwarded",
			value: `for=89.160.20.112, for="[::ffff:10.1.2.3]";proto=http`, wantIP: "89.160.20.112", wantCC: "SE"},
		{name: "Forwarded: unknown ends the walk", top: rfc, header: "Forwarded", value: "for=89.160.20.112, for=unknown", wantIP: "0.0.0.0"},
		{name: "Forwarded: X-Forwarded-For is not read", top: rfc, header: "X-Forwarded-For", value: "81.2.69.160", wantIP: "0.0.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := tt.top
			if top == "" {
				top = "trusted_proxies: [0.0.0.0]"
			} else if tt.top == rfc {
				top = rfc + "\ntrusted_proxies: [0.0.0.0]"
			}
			w := newGeoWorld(t, top)
			body := jsonBody(t, map[string]string{"site": "demo", "url": "https://shop.test/"})
			resp, b := w.do(t, request("POST", "/v1/visits", body, visitHeaders(tt.header, tt.value)...))
			if resp.StatusCode != 200 {
				t.Fatalf("visit: %d %s", resp.StatusCode, b)
			}
			var ans intake.VisitResponse
			if err := json.Unmarshal(b, &ans); err != nil {
				t.Fatal(err)
			}
			v := w.storedVisit(t, "demo", ans.Visit)
			if v.IP != tt.wantIP || v.Country != tt.wantCC {
				t.Fatalf("stored IP %q country %q, want %q %q", v.IP, v.Country, tt.wantIP, tt.wantCC)
			}
		})
	}
}

// TestRateLimitCountsClientsBehindAProxy: IPv4 clients written as
// IPv4-mapped addresses each get their own bucket, not the proxy's.
func TestRateLimitCountsClientsBehindAProxy(t *testing.T) {
	w := newTestWorld(t, "trusted_proxies: [0.0.0.0]\nrate_limit_per_minute: 1\n"+testConfigYAML)
	for i := 1; i <= 3; i++ {
		resp, b := w.do(t, request("GET", "/s/demo.js", nil, "X-Forwarded-For", fmt.Sprintf("::ffff:198.51.100.%d", i)))
		if resp.StatusCode != 200 {
			t.Fatalf("client %d: %d %s, want 200: each client has its own limit", i, resp.StatusCode, clip(string(b), 200))
		}
	}
	if resp, _ := w.do(t, request("GET", "/s/demo.js", nil, "X-Forwarded-For", "198.51.100.2")); resp.StatusCode != 429 {
		t.Fatalf("client 2 again, unmapped: %d, want 429", resp.StatusCode)
	}
}

// TestRateLimitCountsIPv6ByNetwork: the addresses of one /64 share a limit;
// ipv6_prefix changes the network.
func TestRateLimitCountsIPv6ByNetwork(t *testing.T) {
	tests := []struct {
		name, top string
		want      []int
	}{
		{name: "default /64", want: []int{200, 200, 429, 200}},
		{name: "ipv6_prefix 128", top: "ipv6_prefix: 128\n", want: []int{200, 200, 200, 200}},
		{name: "ipv6_prefix 48", top: "ipv6_prefix: 48\n", want: []int{200, 200, 429, 429}},
	}
	addrs := []string{"2001:db8:1:2::1", "2001:db8:1:2:aaaa::2", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:3::1"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t, "trusted_proxies: [0.0.0.0]\nrate_limit_per_minute: 2\n"+tt.top+testConfigYAML)
			var got []int
			for _, a := range addrs {
				resp, _ := w.do(t, request("GET", "/s/demo.js", nil, "X-Forwarded-For", a))
				got = append(got, resp.StatusCode)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("statuses for %v = %v, want %v", addrs, got, tt.want)
			}
		})
	}
}

// TestDashboardLockoutCountsIPv6ByNetwork: wrong keys from many addresses of
// one /64 lock that network out, and only that network; clients behind a
// proxy are told apart even when it writes them IPv4-mapped.
func TestDashboardLockoutCountsIPv6ByNetwork(t *testing.T) {
	w := newTestWorld(t, "trusted_proxies: [0.0.0.0]\n"+testConfigYAML)
	try := func(from, key string) int {
		d := newDashClient(w)
		_, page := d.do(t, request("GET", "/dashboard/signin", nil, "X-Forwarded-For", from))
		resp, _ := d.post(t, "/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "site": {"demo"}, "key": {key}}, "X-Forwarded-For", from)
		return resp.StatusCode
	}
	for i := 0; i < dashboard.FailLimit; i++ {
		if got := try(fmt.Sprintf("2001:db8:5:6::%x", i+1), "guess"); got != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, got)
		}
	}
	if got := try("2001:db8:5:6:1234::9", "demo-key-123"); got != http.StatusTooManyRequests {
		t.Fatalf("the right key from the same /64: %d, want 429", got)
	}
	if got := try("2001:db8:5:7::1", "demo-key-123"); got != http.StatusSeeOther {
		t.Fatalf("the right key from the next /64: %d, want 303", got)
	}
	if got := try("::ffff:198.51.100.77", "demo-key-123"); got != http.StatusSeeOther {
		t.Fatalf("the right key from an IPv4 client written IPv4-mapped: %d, want 303", got)
	}
}
