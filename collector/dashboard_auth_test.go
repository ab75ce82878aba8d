package collector

import (
	"context"
	"github.com/messtrack/messtrack/collector/dashboard"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/store"
)

func TestDashboardSignIn(t *testing.T) {
	w := newTestWorld(t)
	d := newDashClient(w)

	resp, _ := d.get(t, "/dashboard/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/signin" {
		t.Fatalf("without a session: %d to %q, want 303 to the sign-in form", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := d.get(t, "/dashboard/signin")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="key"`) {
		t.Fatalf("sign-in form: %d\n%s", resp.StatusCode, page)
	}
	login := d.cookies[dashboard.LoginCookie]
	if login == nil || !login.HttpOnly || login.SameSite != http.SameSiteLaxMode || login.Path != "/dashboard/" {
		t.Fatalf("login cookie = %+v, want HttpOnly, SameSite=Lax, Path=/dashboard/", login)
	}
	resp, body := d.post(t, "/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "site": {"demo"}, "key": {"demo-key-123"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/" {
		t.Fatalf("sign in: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	sess := d.cookies[dashboard.SessionCookie]
	if sess == nil || !sess.HttpOnly || sess.Secure || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/dashboard/" {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, not Secure over plain http", sess)
	}
	if sess.MaxAge != int(dashboard.SessionTTL/time.Second) {
		t.Errorf("session cookie Max-Age = %d, want %d", sess.MaxAge, int(dashboard.SessionTTL/time.Second))
	}
	if d.cookies[dashboard.LoginCookie] != nil {
		t.Error("the login token cookie outlived the sign-in")
	}
	resp, page = d.get(t, "/dashboard/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<span class="site"`) || !strings.Contains(page, "+15551234567") {
		t.Fatalf("overview: %d\n%s", resp.StatusCode, page)
	}
	for header, want := range map[string]string{
		"Content-Security-Policy": "script-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(header); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to hold %q", header, got, want)
		}
	}

	// Redis keeps a hash of the cookie's secret, never the secret itself.
	_, secret, _ := strings.Cut(sess.Value, ".")
	keys := w.keys(t, "*dash*")
	if len(keys) != 1 || keys[0] != store.DashboardSession("demo", secretHash(secret)) {
		t.Fatalf("dashboard keys = %v, want the one session keyed by the secret's hash", keys)
	}
	ttl := w.rdb.TTL(context.Background(), keys[0]).Val()
	if ttl <= 0 || ttl > dashboard.SessionTTL {
		t.Errorf("session TTL = %v, want within (0, %v]", ttl, dashboard.SessionTTL)
	}
}

func TestDashboardSignInRefusals(t *testing.T) {
	tests := []struct {
		name       string
		site, key  string
		csrf       string // "" sends none; "page" sends the form's token
		wantStatus int
	}{
		{name: "wrong key", site: "demo", key: "demo-key-124", csrf: "page", wantStatus: http.StatusUnauthorized},
		{name: "other site's key", site: "demo", key: "shop-key-456", csrf: "page", wantStatus: http.StatusUnauthorized},
		{name: "empty key", site: "demo", key: "", csrf: "page", wantStatus: http.StatusUnauthorized},
		{name: "unknown site", site: "nosuch", key: "demo-key-123", csrf: "page", wantStatus: http.StatusUnauthorized},
		{name: "hostile site name", site: `<script>alert(1)</script>`, key: "demo-key-123", csrf: "page", wantStatus: http.StatusUnauthorized},
		{name: "no login token", site: "demo", key: "demo-key-123", csrf: "", wantStatus: http.StatusForbidden},
		{name: "wrong login token", site: "demo", key: "demo-key-123", csrf: "forged-token", wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t)
			d := newDashClient(w)
			_, page := d.get(t, "/dashboard/signin")
			form := url.Values{"site": {tt.site}, "key": {tt.key}}
			switch tt.csrf {
			case "page":
				form.Set("csrf", csrfOf(t, page))
			case "":
			default:
				form.Set("csrf", tt.csrf)
			}
			resp, body := d.post(t, "/dashboard/signin", form)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tt.wantStatus, body)
			}
			if strings.Contains(body, "<script>alert") {
				t.Error("the page echoes the hostile site name unescaped")
			}
			if d.cookies[dashboard.SessionCookie] != nil || d.hasSession(t) {
				t.Fatal("a refused sign-in left a session")
			}
		})
	}
}

func TestDashboardSignInLockout(t *testing.T) {
	w := newTestWorld(t)
	d := newDashClient(w)
	for i := 0; i < dashboard.FailLimit; i++ {
		_, page := d.get(t, "/dashboard/signin")
		resp, _ := d.post(t, "/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "site": {"demo"}, "key": {"guess"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d, want 401", i, resp.StatusCode)
		}
	}
	_, page := d.get(t, "/dashboard/signin")
	resp, body := d.post(t, "/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "site": {"demo"}, "key": {"demo-key-123"}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many wrong keys") {
		t.Fatalf("after %d wrong keys the right one answered %d, want 429", dashboard.FailLimit, resp.StatusCode)
	}
	// The lock-out is per site: the other site still signs in.
	newDashClient(w).signIn(t, "shop", "shop-key-456")
}

func TestDashboardCSRF(t *testing.T) {
	tests := []struct {
		name       string
		token      string // "session" sends the session's own token
		origin     string
		wantStatus int
	}{
		{name: "no token", token: "", wantStatus: http.StatusForbidden},
		{name: "wrong token", token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", wantStatus: http.StatusForbidden},
		{name: "another session's token", token: "other", wantStatus: http.StatusForbidden},
		{name: "right token from another origin", token: "session", origin: "http://evil.test", wantStatus: http.StatusForbidden},
		{name: "right token", token: "session", wantStatus: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t)
			d := newDashClient(w)
			d.signIn(t, "demo", "demo-key-123")
			form := url.Values{}
			switch tt.token {
			case "session":
				form.Set("csrf", d.csrf(t))
			case "other":
				other := newDashClient(w)
				other.signIn(t, "demo", "demo-key-123")
				form.Set("csrf", other.csrf(t))
			case "":
			default:
				form.Set("csrf", tt.token)
			}
			var headers []string
			if tt.origin != "" {
				headers = []string{"Origin", tt.origin}
			}
			resp, body := d.post(t, "/dashboard/signout", form, headers...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("sign-out POST: %d, want %d\n%s", resp.StatusCode, tt.wantStatus, body)
			}
			if signedOut := tt.wantStatus == http.StatusSeeOther; d.hasSession(t) == signedOut {
				t.Fatalf("session alive = %v after a POST answered %d", !signedOut, resp.StatusCode)
			}
		})
	}
}

func TestDashboardSignOutEndsTheSessionOnTheServer(t *testing.T) {
	w := newTestWorld(t)
	d := newDashClient(w)
	d.signIn(t, "demo", "demo-key-123")
	stolen := *d.cookies[dashboard.SessionCookie]
	resp, _ := d.post(t, "/dashboard/signout", url.Values{"csrf": {d.csrf(t)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	replay := newDashClient(w)
	replay.cookies[dashboard.SessionCookie] = &stolen
	if replay.hasSession(t) {
		t.Fatal("a copy of the cookie still works after sign-out")
	}
}

func TestDashboardSessionExpires(t *testing.T) {
	w := newTestWorld(t)
	d := newDashClient(w)
	d.signIn(t, "demo", "demo-key-123")
	w.clock.Advance(dashboard.SessionTTL - time.Minute)
	if !d.hasSession(t) {
		t.Fatal("session ended before its lifetime")
	}
	w.clock.Advance(time.Minute)
	if d.hasSession(t) {
		t.Fatal("session outlived its lifetime")
	}
}

func TestDashboardSessionIsBoundToItsSite(t *testing.T) {
	w := newTestWorld(t)
	d := newDashClient(w)
	d.signIn(t, "demo", "demo-key-123")
	c := d.cookies[dashboard.SessionCookie]
	_, secret, _ := strings.Cut(c.Value, ".")
	forged := newDashClient(w)
	forged.cookies[dashboard.SessionCookie] = &http.Cookie{Name: dashboard.SessionCookie, Value: "shop." + secret}
	if forged.hasSession(t) {
		t.Fatal("a demo session opened the shop site's dashboard")
	}
}

func TestDashboardSecureCookie(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		headers []string
		want    bool
	}{
		{name: "plain http", config: testConfigYAML, want: false},
		{name: "https public_url", config: strings.Replace(testConfigYAML, "public_url: http://127.0.0.1:8080", "public_url: https://track.example", 1), want: true},
		{name: "TLS ended by a trusted proxy", config: "trusted_proxies: [0.0.0.0/0, \"::/0\"]\n" + testConfigYAML, headers: []string{"X-Forwarded-Proto", "https"}, want: true},
		{name: "a client claiming TLS", config: testConfigYAML, headers: []string{"X-Forwarded-Proto", "https"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t, tt.config)
			d := newDashClient(w)
			req := request("GET", "/dashboard/signin", nil, tt.headers...)
			_, page := d.do(t, req)
			form := url.Values{"csrf": {csrfOf(t, page)}, "site": {"demo"}, "key": {"demo-key-123"}}
			req = request("POST", "/dashboard/signin", []byte(form.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, tt.headers...)...)
			resp, _ := d.do(t, req)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", resp.StatusCode)
			}
			if c := d.cookies[dashboard.SessionCookie]; c == nil || c.Secure != tt.want || !c.HttpOnly {
				t.Fatalf("session cookie %+v: Secure want %v", c, tt.want)
			}
		})
	}
}
