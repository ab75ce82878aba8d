package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// dashClient is a browser-like client of the dashboard for handler tests:
// it keeps the cookies the collector sets and sends them back.
type dashClient struct {
	w       *testWorld
	cookies map[string]*http.Cookie
}

func newDashClient(w *testWorld) *dashClient {
	return &dashClient{w: w, cookies: map[string]*http.Cookie{}}
}

// do sends req with the kept cookies and keeps the ones set in the answer.
func (d *dashClient) do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	for _, c := range d.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, body := d.w.do(t, req)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(d.cookies, c.Name)
			continue
		}
		d.cookies[c.Name] = c
	}
	return resp, string(body)
}

func (d *dashClient) get(t testing.TB, path string) (*http.Response, string) {
	t.Helper()
	return d.do(t, request("GET", path, nil))
}

// post sends a form; headers are extra pairs.
func (d *dashClient) post(t testing.TB, path string, form url.Values, headers ...string) (*http.Response, string) {
	t.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)
	return d.do(t, request("POST", path, []byte(form.Encode()), h...))
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the first form on a page.
func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the page:\n%s", clip(page, 2000))
	}
	return m[1]
}

// signIn signs d in to site with key and fails the test unless it works.
func (d *dashClient) signIn(t testing.TB, site, key string) {
	t.Helper()
	_, page := d.get(t, "/dashboard/signin")
	resp, body := d.post(t, "/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "site": {site}, "key": {key}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/" {
		t.Fatalf("sign in: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), clip(body, 500))
	}
}

// csrf returns the signed-in session's token from the overview page.
func (d *dashClient) csrf(t testing.TB) string {
	t.Helper()
	resp, page := d.get(t, "/dashboard/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("overview: %d", resp.StatusCode)
	}
	return csrfOf(t, page)
}

// hasSession reports whether d can open a signed-in page.
func (d *dashClient) hasSession(t testing.TB) bool {
	t.Helper()
	resp, _ := d.get(t, "/dashboard/")
	switch {
	case resp.StatusCode == http.StatusOK:
		return true
	case resp.StatusCode == http.StatusSeeOther && strings.HasSuffix(resp.Header.Get("Location"), "/dashboard/signin"):
		return false
	}
	t.Fatalf("overview answered %d", resp.StatusCode)
	return false
}

// secretHash is how the dashboard keys a session in Redis: the SHA-256 of
// the cookie's secret, in hex.
func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
