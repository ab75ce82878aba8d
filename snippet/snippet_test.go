package snippet

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

// SizeBudget is the most the snippet may weigh gzipped, for any site.
const SizeBudget = 1500

// SizeBudgetQR is the budget of a site that turns on desktop_qr: the QR
// placeholders cost about 220 bytes gzipped, paid only by the sites that
// ask for them, so every other site stays within SizeBudget.
const SizeBudgetQR = 1750

// SizeBudgetExtras is what link_extras may add to a variant's budget:
// forms, inline onclick handlers, same-origin iframes and popups opened
// empty cost about 320 bytes gzipped, which no build within SizeBudget
// has to spare, so only the sites that ask for them pay it.
const SizeBudgetExtras = 350

// SizeBudgetAnalytics is what reading the analytics client IDs may add, for
// a site that sends its chats to GA4 or Metrica; other sites carry none of
// it.
const SizeBudgetAnalytics = 60

// SizeBudgetSendBack is what the send-back widget may add to a variant's
// budget: the form, its texts and its calls cost about 1,050 bytes gzipped,
// paid only by the sites that turn sendback on.
const SizeBudgetSendBack = 1100

// demoSettings is a realistic site: the demo site of examples/messtrack.yaml
// with a public collector address.
func demoSettings() Settings {
	return Settings{
		Site:          "demo",
		PublicURL:     "https://track.flowers-on-main.example",
		WhatsApp:      []string{"15551234567"},
		TelegramBots:  []string{"demo_bot"},
		TelegramUsers: []string{"demo_manager"},
		IDFormat:      "token",
	}
}

func newBuilder(t testing.TB) *Builder {
	t.Helper()
	b, err := NewBuilder()
	if err != nil {
		t.Fatalf("NewBuilder: %v", err)
	}
	return b
}

func gzipSize(t testing.TB, body []byte) int {
	t.Helper()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

// variants are the demo settings reduced to each feature combination, and
// a site as sites are set up in the wild: two numbers, a bot and a user.
// The message, Cyrillic or not, is not in the script: the collector sends
// its text with the visit.
func variants() map[string]Settings {
	wild := demoSettings()
	wild.WhatsApp = []string{"79991234567", "79997654321"}
	out := map[string]Settings{"two numbers, a bot and a user": wild}
	analytics := demoSettings()
	analytics.Analytics = true
	out["whatsapp=true,telegram=true,consent=false,analytics=true"] = analytics
	analytics.DesktopQR, analytics.ConsentRequired = true, true
	out["whatsapp=true,telegram=true,consent=true,qr=true,analytics=true"] = analytics
	for _, consent := range []bool{false, true} {
		for _, wa := range []bool{false, true} {
			for _, tg := range []bool{false, true} {
				for _, qr := range []bool{false, true} {
					for _, extras := range []bool{false, true} {
						s := demoSettings()
						s.ConsentRequired = consent
						s.DesktopQR = qr
						s.LinkExtras = extras
						if !wa {
							s.WhatsApp = nil
						}
						if !tg {
							s.TelegramBots, s.TelegramUsers = nil, nil
						}
						name := fmt.Sprintf("whatsapp=%v,telegram=%v,consent=%v", wa, tg, consent)
						if qr {
							name += ",qr=true"
						}
						if extras {
							name += ",extras=true"
						}
						out[name] = s
					}
				}
			}
		}
	}
	// Every variant once more with the send-back widget.
	for name, v := range maps.Clone(out) {
		v.SendBack = true
		out[name+",sendback=true"] = v
	}
	return out
}

// TestSizeBudget builds the snippet for every feature combination of a
// realistic site and fails if any is heavier than SizeBudget gzipped.
func TestSizeBudget(t *testing.T) {
	b := newBuilder(t)
	for name, s := range variants() {
		t.Run(name, func(t *testing.T) {
			script, err := b.Render(s)
			if err != nil {
				t.Fatal(err)
			}
			size := gzipSize(t, script.Body)
			t.Logf("%d bytes, %d gzipped", len(script.Body), size)
			budget := SizeBudget
			if s.DesktopQR {
				budget = SizeBudgetQR
			}
			if s.LinkExtras {
				budget += SizeBudgetExtras
			}
			if s.SendBack {
				budget += SizeBudgetSendBack
			}
			if s.Analytics {
				budget += SizeBudgetAnalytics
			}
			if size > budget {
				t.Errorf("snippet is %d bytes gzipped, budget %d", size, budget)
			}
		})
	}
}

// TestBuildHasNoDevResidue checks that every build is minified code only:
// no flag names, comments, type annotations or debugging aids, and no code
// of a feature that is off.
func TestBuildHasNoDevResidue(t *testing.T) {
	b := newBuilder(t)
	for name, s := range variants() {
		t.Run(name, func(t *testing.T) {
			script, err := b.Render(s)
			if err != nil {
				t.Fatal(err)
			}
			body := string(script.Body)
			for _, residue := range []string{
				"WHATSAPP", "TELEGRAM", "CONSENT", "QR&&", "EXTRAS", settingsPlaceholder, "WAIT_MS",
				"/**", "@typedef", "@param", "console.", "debugger", "sourceMappingURL",
				"settings", "pending", "storeKey", "\n\n", "  ",
			} {
				if strings.Contains(body, residue) {
					t.Errorf("build contains %q", residue)
				}
			}
			absent := map[string]bool{
				`"whatsapp:"`: len(s.WhatsApp) == 0,
				`"telegram:"`: len(s.TelegramBots) == 0,
				`"consent"`:   !s.ConsentRequired,
				`"qr/"`:       !s.DesktopQR,
				`"submit"`:    !s.LinkExtras && !s.SendBack,
				`v1/sendback`: !s.SendBack,
				`onclick`:     !s.LinkExtras,
				`Proxy`:       !s.LinkExtras,
			}
			for marker, off := range absent {
				if got := strings.Contains(body, marker); got == off {
					t.Errorf("build contains %s: %v, want %v", marker, got, !off)
				}
			}
		})
	}
}

// parses checks that esbuild accepts body as JavaScript.
func parses(t *testing.T, body []byte) {
	t.Helper()
	result := api.Transform(string(body), api.TransformOptions{Loader: api.LoaderJS, LogLevel: api.LogLevelSilent})
	for _, m := range result.Errors {
		t.Errorf("rendered script does not parse: %s", m.Text)
	}
}

// inlined extracts the settings array Render put into the body.
func inlined(t *testing.T, body []byte) []any {
	t.Helper()
	start := bytes.Index(body, []byte(`=["`))
	if start < 0 {
		t.Fatalf("no settings array in %s", body)
	}
	dec := json.NewDecoder(bytes.NewReader(body[start+1:]))
	var out []any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("settings array: %v", err)
	}
	return out
}

// TestRenderEscapesHostileText feeds a collector URL whose path would end
// a <script> element or a JavaScript string if written raw (the other
// settings are names and digits, checked by pattern).
func TestRenderEscapesHostileText(t *testing.T) {
	b := newBuilder(t)
	tests := []struct {
		name   string
		path   string
		banned []string
	}{
		{name: "script end tag", path: `/</script><script>alert(1)</script>`, banned: []string{"</script", "<script"}},
		{name: "html comment", path: `/<!--x-->`, banned: []string{"<!--", "-->"}},
		{name: "line separators", path: "/line\u2028sep\u2029", banned: []string{"\u2028", "\u2029"}},
		{name: "quotes and backslashes", path: `/"];alert(1);//\`},
		{name: "ampersand", path: `/a&b`, banned: []string{"a&b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := demoSettings()
			s.PublicURL = "https://track.example" + tt.path
			script, err := b.Render(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, banned := range tt.banned {
				if bytes.Contains(script.Body, []byte(banned)) {
					t.Errorf("body contains %q raw", banned)
				}
			}
			parses(t, script.Body)
			got := inlined(t, script.Body)
			if got[1] != s.PublicURL+"/" {
				t.Errorf("URL round trip = %q, want %q", got[1], s.PublicURL+"/")
			}
		})
	}
}

// TestRenderSettings checks what the script is given: normalized names,
// the collector URL without a trailing slash, the default template.
func TestRenderSettings(t *testing.T) {
	b := newBuilder(t)
	tests := []struct {
		name     string
		settings Settings
		want     string
	}{
		{
			name:     "demo site",
			settings: demoSettings(),
			want: `["demo","https://track.flowers-on-main.example/",` +
				`{"telegram:demo_bot":"start","telegram:demo_manager":"text","whatsapp:15551234567":"text"}]`,
		},
		{
			name:     "a name that is both bot and user is a bot",
			settings: Settings{Site: "shop", TelegramBots: []string{"flower_bot"}, TelegramUsers: []string{"Flower_Bot"}},
			want:     `["shop","",{"telegram:flower_bot":"start"}]`,
		},
		{
			name: "usernames lower-cased, @ dropped, one trailing slash",
			settings: Settings{Site: "shop", PublicURL: "http://127.0.0.1:8080/", TelegramBots: []string{"@Flower_Bot"},
				TelegramUsers: []string{"Anna_Florist"}},
			want: `["shop","http://127.0.0.1:8080/",{"telegram:anna_florist":"text","telegram:flower_bot":"start"}]`,
		},
		{
			name:     "no public URL: the script's own origin",
			settings: Settings{Site: "shop", WhatsApp: []string{"447700900123", "79991234567"}},
			want:     `["shop","",{"whatsapp:447700900123":"text","whatsapp:79991234567":"text"}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script, err := b.Render(tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(script.Body, []byte("="+tt.want)) {
				t.Errorf("body does not inline %s:\n%s", tt.want, script.Body)
			}
			parses(t, script.Body)
		})
	}
}

// TestRenderRejectsBadSettings: settings the script cannot serve are a
// clear error, never a script that silently rewrites nothing.
func TestRenderRejectsBadSettings(t *testing.T) {
	b := newBuilder(t)
	tests := []struct {
		name   string
		change func(*Settings)
		reason string
	}{
		{name: "empty site", change: func(s *Settings) { s.Site = "" }, reason: "site name"},
		{name: "site with a slash", change: func(s *Settings) { s.Site = "demo/../x" }, reason: "site name"},
		{name: "number with a plus", change: func(s *Settings) { s.WhatsApp = []string{"+15551234567"} }, reason: "WhatsApp number"},
		{name: "number with spaces", change: func(s *Settings) { s.WhatsApp = []string{"1 555 123"} }, reason: "WhatsApp number"},
		{name: "empty number", change: func(s *Settings) { s.WhatsApp = []string{""} }, reason: "WhatsApp number"},
		{name: "bot with a dash", change: func(s *Settings) { s.TelegramBots = []string{"demo-bot"} }, reason: "Telegram bot"},
		{name: "user with html", change: func(s *Settings) { s.TelegramUsers = []string{"<b>anna</b>"} }, reason: "Telegram user"},
		{name: "unknown id format", change: func(s *Settings) { s.IDFormat = "qr" }, reason: "id_format"},
		{name: "public URL without scheme", change: func(s *Settings) { s.PublicURL = "track.example" }, reason: "public_url"},
		{name: "public URL javascript:", change: func(s *Settings) { s.PublicURL = "javascript:alert(1)" }, reason: "public_url"},
		{name: "public URL with query", change: func(s *Settings) { s.PublicURL = "https://track.example/?x=1" }, reason: "public_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := demoSettings()
			tt.change(&s)
			script, err := b.Render(s)
			if err == nil {
				t.Fatalf("Render accepted %+v", s)
			}
			if !errors.Is(err, ErrSettings) {
				t.Errorf("error %v does not wrap ErrSettings", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not name %q", err, tt.reason)
			}
			if script.Body != nil {
				t.Errorf("Render returned a body with its error")
			}
		})
	}
}

// TestETag: the tag follows the body, so a settings change reaches browsers
// that revalidate, and an unchanged site answers 304.
func TestETag(t *testing.T) {
	b := newBuilder(t)
	first, err := b.Render(demoSettings())
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.Render(demoSettings())
	if err != nil {
		t.Fatal(err)
	}
	changed := demoSettings()
	changed.WhatsApp = []string{"15557654321"}
	other, err := b.Render(changed)
	if err != nil {
		t.Fatal(err)
	}
	if first.ETag != again.ETag || !bytes.Equal(first.Body, again.Body) {
		t.Errorf("same settings rendered differently: %s vs %s", first.ETag, again.ETag)
	}
	if first.ETag == other.ETag {
		t.Errorf("changed number kept ETag %s", first.ETag)
	}
	if !strings.HasPrefix(first.ETag, `"`) || !strings.HasSuffix(first.ETag, `"`) {
		t.Errorf("ETag %s is not quoted", first.ETag)
	}
	tests := []struct {
		name        string
		ifNoneMatch string
		want        bool
	}{
		{name: "empty", ifNoneMatch: "", want: false},
		{name: "same", ifNoneMatch: first.ETag, want: true},
		{name: "weak same", ifNoneMatch: "W/" + first.ETag, want: true},
		{name: "in a list", ifNoneMatch: `"abc", ` + first.ETag, want: true},
		{name: "star", ifNoneMatch: "*", want: true},
		{name: "other", ifNoneMatch: other.ETag, want: false},
		{name: "unquoted", ifNoneMatch: strings.Trim(first.ETag, `"`), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := first.NotModified(tt.ifNoneMatch); got != tt.want {
				t.Errorf("NotModified(%q) = %v, want %v", tt.ifNoneMatch, got, tt.want)
			}
		})
	}
	h := first.Headers()
	for name, want := range map[string]string{
		"Content-Type":                "text/javascript; charset=utf-8",
		"ETag":                        first.ETag,
		"X-Content-Type-Options":      "nosniff",
		"Access-Control-Allow-Origin": "*",
	} {
		if h[name] != want {
			t.Errorf("header %s = %q, want %q", name, h[name], want)
		}
	}
	if !strings.Contains(h["Cache-Control"], "max-age=") {
		t.Errorf("Cache-Control %q has no max-age", h["Cache-Control"])
	}
}

// BenchmarkRender measures serving one site's script, against building
// every variant at start as the baseline.
func BenchmarkRender(b *testing.B) {
	builder := newBuilder(b)
	s := demoSettings()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := builder.Render(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild is the cost of running esbuild for one feature
// combination: what the first site with that combination pays once.
func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		if _, err := build(features{whatsapp: true, telegram: true, consent: true}); err != nil {
			b.Fatal(err)
		}
	}
}
