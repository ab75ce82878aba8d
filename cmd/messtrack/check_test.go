package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// writeMMDB writes an empty MaxMind database of the given type and build time.
func writeMMDB(t *testing.T, path, dbType string, built time.Time) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, BuildEpoch: built.Unix(), RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

const checkConfig = `public_url: http://ADDR
listen: ADDR
geoip: GEOIP
trusted_proxies: [127.0.0.1]
sites:
  shop:
    api_key: 0123456789abcdef0123456789abcdef
    origins: [https://shop.example]
    whatsapp: [{number: "15551234567"}]
    telegram: {bots: [shop_bot]}
    whatsapp_app_secret: app-secret
    whatsapp_verify_token: verify-token
    telegram_secret_token: tg-secret
SECOND`

// checkWorld is a config on a private Redis whose public_url is a running
// collector.
type checkWorld struct {
	fw   *formatWorld
	path string
	env  map[string]string
}

func newCheckWorld(t *testing.T, second string) *checkWorld {
	t.Helper()
	// A private server, on the cluster pass too: the tests change its
	// eviction and persistence settings, which would outlive them on a
	// shared cluster.
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	dir := t.TempDir()
	geo := filepath.Join(dir, "GeoLite2-City.mmdb")
	writeMMDB(t, geo, "GeoLite2-City", time.Now().Add(-48*time.Hour))
	addr := freeAddr(t)
	cfg := strings.NewReplacer("ADDR", addr, "GEOIP", geo, "SECOND", second).Replace(checkConfig)
	path := filepath.Join(dir, "messtrack.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	url := srv.URL(rdb.Options().DB)
	return &checkWorld{fw: &formatWorld{cfg: path, rdb: rdb, url: url}, path: path,
		env: map[string]string{"REDIS_URL": url}}
}

func (w *checkWorld) check(t *testing.T) (string, error) {
	t.Helper()
	out := &syncBuffer{}
	err := run(context.Background(), []string{"check", "--config", w.path}, out, out, func(k string) string { return w.env[k] })
	return out.String(), err
}

// documented sets Redis up as docs/deploy.md says.
func (w *checkWorld) documented(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, kv := range [][2]string{{"appendonly", "yes"}, {"appendfsync", "everysec"}, {"save", "3600 1 300 100 60 10000"},
		{"maxmemory", "0"}, {"maxmemory-policy", "noeviction"}} {
		if err := w.fw.rdb.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func lines(out, level string) []string {
	var l []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, level+" ") {
			l = append(l, line)
		}
	}
	return l
}

// TestCheckFailsOnDataLossAndPassesTheDocumentedSetup: a Redis that evicts
// or keeps nothing fails the check (exit 1) with what to set; the
// documented Redis with a collector answering at public_url passes.
func TestCheckFailsOnDataLossAndPassesTheDocumentedSetup(t *testing.T) {
	w := newCheckWorld(t, "")
	w.documented(t)
	// The collector's own address, as the config names it.
	_, stop, err := w.fw.serveEnv(t, w.env)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	out, err := w.check(t)
	if err != nil || len(lines(out, "fail")) != 0 {
		t.Fatalf("the documented setup: %v\n%s", err, out)
	}
	for _, want := range []string{"ok   redis 127.0.0.1:", "eviction off", "persistence on: AOF (appendfsync everysec) and RDB (save \"3600 1 300 100 60 10000\")",
		"ok   geoip", "ok   site shop: WhatsApp webhook secrets set", "ok   site shop: Telegram secret token set", "/healthz answers (messtrack dev)",
		"ok   data format: format 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("the documented setup: output lacks %q:\n%s", want, out)
		}
	}

	ctx := context.Background()
	w.fw.rdb.ConfigSet(ctx, "maxmemory", "100mb")
	w.fw.rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru")
	out, err = w.check(t)
	if !errors.Is(err, errCheckFailed) || len(lines(out, "fail")) != 1 ||
		!strings.Contains(lines(out, "fail")[0], "maxmemory-policy allkeys-lru deletes visits and chats when memory is full; set `maxmemory-policy noeviction`") {
		t.Fatalf("allkeys-lru: %v\n%s", err, out)
	}

	w.documented(t)
	w.fw.rdb.ConfigSet(ctx, "appendonly", "no")
	w.fw.rdb.ConfigSet(ctx, "save", "")
	out, err = w.check(t)
	if !errors.Is(err, errCheckFailed) || len(lines(out, "fail")) != 1 ||
		!strings.Contains(lines(out, "fail")[0], "no persistence (appendonly no, save \"\"): a restart loses every visit and chat") {
		t.Fatalf("no persistence: %v\n%s", err, out)
	}
	w.fw.rdb.ConfigSet(ctx, "save", "900 1")
	out, err = w.check(t)
	if err != nil || !strings.Contains(out, "warn redis") || !strings.Contains(out, "RDB snapshots only") {
		t.Fatalf("RDB only is a warning: %v\n%s", err, out)
	}
}

// TestCheckNamesEverySecretAndTheWorldAround: missing webhook secrets, a
// public_url nobody answers, a stale or wrong GeoIP file and a newer data
// format are each a line saying what to fix.
func TestCheckNamesEverySecretAndTheWorldAround(t *testing.T) {
	w := newCheckWorld(t, `  other:
    api_key: short-key
    whatsapp: [{number: "15557654321"}]
    sources: {flyer: {bot: other_bot}}
    webhooks:
      - {url: "http://crm.example/hooks", secret: 0123456789abcdef}
      - {url: "http://127.0.0.1:9000/hooks", secret: 0123456789abcdef}
      - {url: "https://crm.example/hooks", secret: 0123456789abcdef}
    max: {bots: [other_shop_bot]}
    vk: {communities: [{name: othershop, id: 42, confirmation: c0nf1rm}]}
    messenger: {pages: [{name: othershop, id: "4242"}]}
  broken:
    api_key: broken-key-123456789012345
    viber: {bots: [{uri: "no such uri!", token: t}]}
`)
	w.documented(t)
	w.fw.rdb.Set(context.Background(), "mt:format", 9, 0)
	geo := filepath.Join(t.TempDir(), "old.mmdb")
	writeMMDB(t, geo, "GeoLite2-City", time.Now().AddDate(0, -3, 0))
	w.env["MESSTRACK_GEOIP"] = geo
	out, err := w.check(t)
	if !errors.Is(err, errCheckFailed) {
		t.Fatalf("err = %v\n%s", err, out)
	}
	for _, want := range []string{
		"fail site other: WhatsApp numbers but no whatsapp_app_secret",
		"fail site other: Telegram bots or users but no telegram_secret_token",
		"fail site other: MAX bots but no max.secret",
		"fail site other: VK community othershop has no secret",
		"fail site other: Messenger or Instagram accounts but no meta_app_secret",
		"fail site broken: sites.broken.viber.bots[0].uri: \"no such uri!\" is not a bot's chat URI",
		"warn site other: api_key is 9 characters",
		"warn site other: no origins",
		"warn site other: webhook http://crm.example/hooks is plain http",
		"warn geoip: " + geo + " was built ",
		"fail data format: Redis holds format 9, newer than this messtrack",
		"fail public_url: http://",
		"/healthz does not answer",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "is plain http"); n != 1 {
		t.Errorf("%d plain-http findings; a loopback or https webhook is fine:\n%s", n, out)
	}
	writeMMDB(t, geo, "GeoLite2-Country", time.Now())
	out, _ = w.check(t)
	if !strings.Contains(out, "fail geoip: "+geo+" is a \"GeoLite2-Country\" database") {
		t.Errorf("a Country database:\n%s", out)
	}
	w.env["REDIS_URL"] = "redis://127.0.0.1:1/0"
	out, _ = w.check(t)
	if !strings.Contains(out, "fail redis: cannot reach redis://127.0.0.1:1/0") {
		t.Errorf("Redis down:\n%s", out)
	}
}

// TestCheckSaysWhenShardsChanged: a config whose shards differ from those
// the site's visits are stored by fails the check, as it fails serve.
func TestCheckSaysWhenShardsChanged(t *testing.T) {
	w := newCheckWorld(t, "")
	w.documented(t)
	if err := w.fw.rdb.Set(context.Background(), store.SiteShards("shop"), "16", 0).Err(); err != nil {
		t.Fatal(err)
	}
	out, err := w.check(t)
	want := "fail site shop: shards is 1 in the config, but its visits are stored over 16: serve refuses to start; set shards: 16"
	if !errors.Is(err, errCheckFailed) || !strings.Contains(out, want) {
		t.Fatalf("changed shards: %v; want a line %q in\n%s", err, want, out)
	}
}
