package collector

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDashboardSignInNamesNoSite: the sign-in page asks for the site's name
// and names no configured site, before or after a failed attempt, so a
// stranger cannot read off who the collector's customers are.
func TestDashboardSignInNamesNoSite(t *testing.T) {
	w := newTestWorld(t)
	d := newDashClient(w)
	noNames := func(step, page string) {
		t.Helper()
		for _, name := range w.cfg.SiteNames() {
			if strings.Contains(page, ">"+name+"<") || strings.Contains(page, `"`+name+`"`) {
				t.Errorf("%s: the page names site %q:\n%s", step, name, clip(page, 2000))
			}
		}
		if strings.Contains(page, "<option") || strings.Contains(page, "<select") {
			t.Errorf("%s: the page offers a list of sites", step)
		}
		if !strings.Contains(page, `<input type="text" name="site"`) {
			t.Errorf("%s: no text field for the site's name:\n%s", step, clip(page, 2000))
		}
	}
	resp, page := d.get(t, "/dashboard/signin")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in form: %d", resp.StatusCode)
	}
	noNames("the form", page)
	resp, page = d.post(t, "/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "site": {"nosuch"}, "key": {"guess"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown site: %d, want 401", resp.StatusCode)
	}
	noNames("after an unknown site", page)
	if !strings.Contains(page, `value="nosuch"`) {
		t.Errorf("an unknown site's name is not kept in the form as a known one's would be")
	}
	d.signIn(t, "demo", "demo-key-123")
}
