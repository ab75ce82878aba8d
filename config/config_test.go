package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/config"
)

const good = `
listen: 127.0.0.1:9090
public_url: http://127.0.0.1:9090/
sites:
  demo:
    api_key: demo-key-1
    origins: [http://127.0.0.1:9090]
    whatsapp:
      - number: "+1 (555) 123-4567"
    telegram:
      bots: ["@Demo_Bot"]
      users: [demo_manager]
    sources:
      flyer: {channel: offline, number: "15551234567"}
      billboard: {channel: offline, dedicated_number: "+1 555 765 4321"}
`

func TestParseGood(t *testing.T) {
	env := map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/2"}
	cfg, err := config.Parse("messtrack.yaml", []byte(good), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Site("demo")
	checks := []struct {
		name, got, want string
	}{
		{name: "listen", got: cfg.Listen, want: "127.0.0.1:9090"},
		{name: "public url trimmed", got: cfg.PublicURL, want: "http://127.0.0.1:9090"},
		{name: "redis from env", got: cfg.Redis, want: "redis://127.0.0.1:6379/2"},
		{name: "number digits", got: s.WhatsApp[0].Number, want: "15551234567"},
		{name: "bot lower, no @", got: s.Telegram.Bots[0], want: "demo_bot"},
		{name: "default format", got: s.IDFormat, want: "token"},
		{name: "default message", got: s.Message, want: config.DefaultMessage},
		{name: "default timezone", got: s.Location.String(), want: "UTC"},
		{name: "dedicated digits", got: s.Sources["billboard"].DedicatedNumber, want: "15557654321"},
		{name: "source name", got: s.Sources["flyer"].Name, want: "flyer"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if cfg.IPv6Prefix != 64 || cfg.ForwardedHeader != config.ForwardedXFF {
		t.Errorf("defaults: ipv6_prefix %d, forwarded_header %q", cfg.IPv6Prefix, cfg.ForwardedHeader)
	}
	if cfg.WaitReplicas() != -1 || cfg.WaitTimeout() != time.Second {
		t.Errorf("defaults: wait for %d replicas, at most %v; want -1 (automatic), 1s", cfg.WaitReplicas(), cfg.WaitTimeout())
	}
	if s.SessionDays != 90 || s.MatchWindowMinutes != 30 || s.MatchPrecision != 0.95 {
		t.Errorf("defaults: session_days %d, match window %d, match precision %g", s.SessionDays, s.MatchWindowMinutes, s.MatchPrecision)
	}
}

func TestParseErrorsNameFileKeyAndProblem(t *testing.T) {
	site := func(extra string) string {
		return "sites:\n  demo:\n    api_key: demo-key-1\n" + extra
	}
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{name: "no sites", yaml: "listen: 127.0.0.1:1\n", want: "m.yaml: sites: no site is configured"},
		{name: "unknown key", yaml: site("    colour: red\n"), want: "sites.demo.colour: not a site key"},
		{name: "unknown messenger key", yaml: site("    vk: {groups: [a]}\n"), want: "field groups not found"},
		{name: "unknown account key", yaml: site("    vk: {communities: [{name: a, colour: red}]}\n"), want: "field colour not found"},
		{name: "messenger not a mapping", yaml: site("    max: demo_bot\n"), want: "sites.demo.max: the messenger has no settings"},
		{name: "two account lists", yaml: site("    line: {bots: [a], accounts: [{id: \"@b\"}]}\n"), want: "sites.demo.line: give its accounts in one list"},
		{name: "control character", yaml: site("    viber: {bots: [{uri: \"a\\tb\"}]}\n"), want: "sites.demo.viber.bots[0].uri: holds control characters"},
		{name: "bad format", yaml: site("    id_format: morse\n"), want: "sites.demo.id_format: \"morse\" is not one of"},
		{name: "short key", yaml: "sites:\n  demo:\n    api_key: x\n", want: "sites.demo.api_key"},
		{name: "bad number", yaml: site("    whatsapp:\n      - number: \"call me\"\n"), want: "sites.demo.whatsapp[0].number"},
		{name: "national number", yaml: site("    whatsapp:\n      - number: \"0712345678\"\n"), want: "starts with 0"},
		{name: "bad zone", yaml: site("    timezone: Mars/Olympus\n"), want: "sites.demo.timezone"},
		{name: "template without id", yaml: site("    message: hello\n"), want: "sites.demo.message"},
		{name: "bad origin", yaml: site("    origins: [shop.example]\n"), want: "sites.demo.origins[0]"},
		{name: "bad site name", yaml: "sites:\n  Demo Site:\n    api_key: demo-key-1\n", want: "sites.Demo Site"},
		{name: "bad proxy", yaml: "trusted_proxies: [nope]\n" + site(""), want: "trusted_proxies[0]"},
		{name: "ipv6 prefix too short", yaml: "ipv6_prefix: 16\n" + site(""), want: "m.yaml: ipv6_prefix: 16 is outside 32..128"},
		{name: "ipv6 prefix too long", yaml: "ipv6_prefix: 129\n" + site(""), want: "m.yaml: ipv6_prefix: 129 is outside 32..128"},
		{name: "unknown forwarded header", yaml: "forwarded_header: X-Real-IP\n" + site(""), want: "m.yaml: forwarded_header: \"X-Real-IP\" is neither X-Forwarded-For nor Forwarded"},
		{name: "bad telegram secret", yaml: site("    telegram_secret_token: \"a b\"\n"), want: "telegram_secret_token"},
		{name: "shared key", yaml: site("  shop:\n    api_key: demo-key-1\n"), want: "the same key as site"},
		{name: "dedicated twice", yaml: site("    sources:\n      a: {dedicated_number: \"15557654321\"}\n      b: {dedicated_number: \"15557654321\"}\n"), want: "already dedicated"},
		{name: "precision too low", yaml: site("    match_precision: 0.3\n"), want: "sites.demo.match_precision: 0.3 is outside 0.5..0.999"},
		{name: "precision of one", yaml: site("    match_precision: 1\n"), want: "sites.demo.match_precision: 1 is outside 0.5..0.999"},
		{name: "not yaml", yaml: "sites: [\n", want: "m.yaml:"},
		{name: "missing geoip", yaml: "geoip: /nonexistent/City.mmdb\n" + site(""), want: "m.yaml: geoip: /nonexistent/City.mmdb cannot be read (run `make geoip`"},
		{name: "store file folder", yaml: "store_file: /\n" + site(""), want: "m.yaml: store_file: / is a folder"},
		{name: "geoip folder", yaml: "geoip: /\n" + site(""), want: "m.yaml: geoip: / is a folder"},
		{name: "negative replicas", yaml: "redis_wait_replicas: -1\n" + site(""), want: "m.yaml: redis_wait_replicas: -1 is not a number of replicas from 0 to 16"},
		{name: "wait past the read timeout", yaml: "redis_wait_timeout_ms: 5000\n" + site(""), want: "m.yaml: redis_wait_timeout_ms: 5000 is not from 1 to 2000 milliseconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("m.yaml", []byte(tt.yaml), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGeoIPFromEnvIsNamed(t *testing.T) {
	env := map[string]string{"MESSTRACK_GEOIP": "/nonexistent/env.mmdb"}
	_, err := config.Parse("m.yaml", []byte(good), func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "m.yaml: geoip (from MESSTRACK_GEOIP): /nonexistent/env.mmdb cannot be read") {
		t.Fatalf("Parse error = %v, want the env variable and path named", err)
	}
}

func TestListenAndRedisErrorsNameKeyAndSource(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string
	}{
		{name: "listen without port", yaml: "listen: localhost\n" + good[strings.Index(good, "sites:"):], want: "m.yaml: listen: \"localhost\" is not a host:port address"},
		{name: "listen from env", yaml: good, env: map[string]string{"MESSTRACK_ADDR": "nonsense"}, want: "m.yaml: listen (from MESSTRACK_ADDR): \"nonsense\" is not a host:port"},
		{name: "redis scheme", yaml: "redis: http://127.0.0.1:6379\n" + good, want: "m.yaml: redis: \"http://127.0.0.1:6379\": the scheme is http://; use redis:// or rediss://"},
		{name: "redis from env", yaml: good, env: map[string]string{"REDIS_URL": "127.0.0.1:6379"}, want: "m.yaml: redis (from REDIS_URL): \"127.0.0.1:6379\" has no scheme: write redis://127.0.0.1:6379/0 for one server"},
		{name: "cluster node without port", yaml: good, env: map[string]string{"REDIS_URL": "10.0.0.1:7000,10.0.0.2"}, want: "redis (from REDIS_URL): \"10.0.0.2\" is neither"},
		{name: "url without host", yaml: good, env: map[string]string{"REDIS_URL": "redis://"}, want: "\"redis://\" is not a URL like redis://127.0.0.1:6379/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("m.yaml", []byte(tt.yaml), func(k string) string { return tt.env[k] })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRedisForms(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{name: "embedded", url: ""},
		{name: "one server", url: "redis://127.0.0.1:6379/0"},
		{name: "tls with password", url: "rediss://:secret@redis.example:6380/1"},
		{name: "cluster nodes", url: "10.0.0.1:7000, 10.0.0.2:7000,10.0.0.3:7000"},
		{name: "cluster of urls", url: "redis://10.0.0.1:7000,redis://10.0.0.2:7000"},
		{name: "cluster of one", url: "10.0.0.1:7000,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"REDIS_URL": tt.url}
			cfg, err := config.Parse("m.yaml", []byte(good), func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("Parse with REDIS_URL %q: %v", tt.url, err)
			}
			if cfg.Redis != tt.url {
				t.Fatalf("Redis = %q, want %q", cfg.Redis, tt.url)
			}
		})
	}
}

func TestLoadNamesMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "absent.yaml"), os.Getenv)
	if err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Fatalf("Load error = %v, want the file named", err)
	}
}

func TestDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "+7 (999) 123-45-67", want: "79991234567"},
		{in: "00 44 7700 900123", want: "447700900123"},
		{in: "15551234567", want: "15551234567"},
	}
	for _, tt := range tests {
		got, err := config.Digits(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Digits(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDesktopQR(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    bool
		wantErr string
	}{
		{name: "off by default", line: "", want: false},
		{name: "on", line: "    desktop_qr: true\n", want: true},
		{name: "off", line: "    desktop_qr: false\n", want: false},
		{name: "not a boolean", line: "    desktop_qr: sometimes\n", wantErr: "line 13: cannot unmarshal !!str `sometimes` into bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := strings.Replace(good, "    sources:\n", tt.line+"    sources:\n", 1)
			cfg, err := config.Parse("messtrack.yaml", []byte(raw), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "messtrack.yaml") {
					t.Fatalf("err = %v, want the file and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Site("demo").DesktopQR; got != tt.want {
				t.Errorf("DesktopQR = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLinkExtras: link_extras is a per-site boolean, off unless set.
func TestLinkExtras(t *testing.T) {
	for line, want := range map[string]bool{"": false, "    link_extras: true\n": true, "    link_extras: false\n": false} {
		raw := strings.Replace(good, "    sources:\n", line+"    sources:\n", 1)
		cfg, err := config.Parse("messtrack.yaml", []byte(raw), nil)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got := cfg.Site("demo").LinkExtras; got != want {
			t.Errorf("%q: LinkExtras = %v, want %v", line, got, want)
		}
	}
	raw := strings.Replace(good, "    sources:\n", "    link_extras: sometimes\n    sources:\n", 1)
	if _, err := config.Parse("messtrack.yaml", []byte(raw), nil); err == nil || !strings.Contains(err.Error(), "cannot unmarshal !!str `sometimes` into bool") {
		t.Errorf("link_extras: sometimes: err = %v, want a type error", err)
	}
}

func TestForwardedHeaderAndIPv6Prefix(t *testing.T) {
	cfg, err := config.Parse("m.yaml", []byte("forwarded_header: forwarded\nipv6_prefix: 56\n"+good), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ForwardedHeader != config.ForwardedRFC7239 || cfg.IPv6Prefix != 56 {
		t.Fatalf("forwarded_header %q, ipv6_prefix %d; want Forwarded, 56", cfg.ForwardedHeader, cfg.IPv6Prefix)
	}
}

func TestRetention(t *testing.T) {
	cfg, err := config.Parse("m.yaml", []byte(good), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Site("demo")
	want := config.Retention{HistoryDays: config.DefaultHistoryDays, ChatDays: config.DefaultChatDays, DeliveryDays: config.DefaultDeliveryDays}
	if s.Retention != want || !s.KeepsMessageText() {
		t.Errorf("defaults: %+v keep text %v; want %+v and true", s.Retention, s.KeepsMessageText(), want)
	}
	if got := s.VisitTTL(); got != time.Duration(config.DefaultSessionDays+7)*24*time.Hour {
		t.Errorf("default visit TTL %v", got)
	}
	set := good + "    retention: {history_days: 30, visit_days: 14, chat_days: -1, delivery_days: 7}\n    keep_message_text: false\n"
	cfg, err = config.Parse("m.yaml", []byte(set), nil)
	if err != nil {
		t.Fatal(err)
	}
	s = cfg.Site("demo")
	if want := (config.Retention{HistoryDays: 30, VisitDays: 14, ChatDays: -1, DeliveryDays: 7}); s.Retention != want || s.KeepsMessageText() {
		t.Errorf("set: %+v keep text %v", s.Retention, s.KeepsMessageText())
	}
	if got := s.VisitTTL(); got != 14*24*time.Hour {
		t.Errorf("visit TTL %v", got)
	}
	for _, bad := range []string{"{visit_days: -1}", "{history_days: -2}", "{chat_days: 4000}"} {
		_, err := config.Parse("m.yaml", []byte(good+"    retention: "+bad+"\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "sites.demo.retention.") {
			t.Errorf("%s: error %v; want one naming the retention key", bad, err)
		}
	}
}

func TestMessages(t *testing.T) {
	base := "sites:\n  s:\n    api_key: key-12345678\n"
	tests := []struct {
		name, yaml, err string
		weights         []int
	}{
		{name: "message alone is the one template", yaml: base + "    message: \"Hi {id}\"\n", weights: []int{1}},
		{name: "weighted templates", yaml: base + "    messages:\n      - {text: \"Hi {id}\", weight: 3}\n      - {text: \"Order {id}\"}\n      - {text: \"Old {id}\", weight: 0}\n", weights: []int{3, 1, 0}},
		{name: "both", yaml: base + "    message: \"Hi {id}\"\n    messages:\n      - {text: \"Yo {id}\"}\n", err: "not both"},
		{name: "no code", yaml: base + "    messages:\n      - {text: \"Hi\"}\n", err: "messages[0].text"},
		{name: "all zero", yaml: base + "    messages:\n      - {text: \"Hi {id}\", weight: 0}\n", err: "every weight is 0"},
		{name: "same text twice", yaml: base + "    messages:\n      - {text: \"Hi {id}\"}\n      - {text: \"Hi {id}\"}\n", err: "the same text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("test.yaml", []byte(tt.yaml), func(string) string { return "" })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := cfg.Site("s")
			var got []int
			for _, m := range st.Messages {
				got = append(got, m.TemplateWeight())
			}
			if !slices.Equal(got, tt.weights) || st.Message != st.Messages[0].Text {
				t.Errorf("weights %v message %q, want %v", got, st.Message, tt.weights)
			}
		})
	}
}
