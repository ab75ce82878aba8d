package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/oschwald/geoip2-golang"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

const checkUsage = `Usage: messtrack check [--config messtrack.yaml]
Checks the config and the world around it: Redis (reachable, persistence on,
eviction off, cluster slots covered, data format), the GeoIP database
(readable, fresh), every site's secrets and public_url answering /healthz.
One line per finding: ok, warn or fail, with what to fix. Exits 1 when a
finding loses data (fail).
`

// geoMaxAge is the age past which the GeoIP database is called stale:
// GeoLite2 is rebuilt twice a week and its licence asks for updates within
// 30 days.
const geoMaxAge = 35 * 24 * time.Hour

// checkTimeout bounds each network check.
const checkTimeout = 5 * time.Second

// errCheckFailed is check's answer when a finding loses data.
var errCheckFailed = errors.New("check: a finding loses data (the fail lines above)")

type checkLevel string

const (
	checkOK   checkLevel = "ok"
	checkWarn checkLevel = "warn"
	checkFail checkLevel = "fail"
)

// checker prints findings as they are made and remembers the worst.
type checker struct {
	out    io.Writer
	failed int
}

func (c *checker) add(level checkLevel, subject, format string, args ...any) {
	if level == checkFail {
		c.failed++
	}
	fmt.Fprintf(c.out, "%-4s %s: %s\n", level, subject, fmt.Sprintf(format, args...))
}

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkUsage) }
	cfgPath := fs.String("config", "messtrack.yaml", "the YAML config file")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		fmt.Fprint(stderr, checkUsage)
		return errUsage
	}
	c := &checker{out: stdout}
	cfg, err := readConfig(fs, *cfgPath, getenv)
	if err != nil {
		c.add(checkFail, "config", "%v", err)
		return errCheckFailed
	}
	c.add(checkOK, "config", "%s: %d site(s)", cfg.Path, len(cfg.Sites))
	c.checkRedis(ctx, cfg, stderr)
	c.checkGeoIP(cfg)
	for _, name := range cfg.SiteNames() {
		c.checkSite(cfg.Sites[name])
	}
	c.checkPublicURL(ctx, cfg)
	if c.failed > 0 {
		return errCheckFailed
	}
	return nil
}

func (c *checker) checkRedis(ctx context.Context, cfg *config.Config, stderr io.Writer) {
	if strings.TrimSpace(cfg.Redis) == "" {
		c.add(checkFail, "redis", "none configured: the embedded store is for trying messtrack out and keeps its data in one file written every minute; set redis: (or REDIS_URL) to a Redis set up as docs/deploy.md says")
		return
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	db, err := store.Open(ctx, cfg.Redis, log)
	if err != nil {
		c.add(checkFail, "redis", "cannot reach %s: %v; start redis-server or fix redis: in %s", redactURL(cfg.Redis), err, cfg.Path)
		return
	}
	defer db.Close()
	rctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	all, err := store.ReadSettings(rctx, db.Client)
	if err != nil {
		c.add(checkFail, "redis", "reachable but its settings cannot be read: %v", err)
		return
	}
	for _, s := range all {
		subject := "redis " + s.Addr
		c.add(checkOK, subject, "answers (Redis %s)", s.Version)
		switch {
		case s.Evicts():
			c.add(checkFail, subject, "maxmemory %d with maxmemory-policy %s deletes visits and chats when memory is full; set `maxmemory-policy noeviction` (serve refuses to start until then)", s.MaxMemory, s.Policy)
		case s.Policy != "noeviction":
			c.add(checkWarn, subject, "no maxmemory, so nothing is evicted today, but maxmemory-policy %s would evict once a limit is set; set `maxmemory-policy noeviction`", s.Policy)
		default:
			c.add(checkOK, subject, "eviction off (maxmemory-policy noeviction)")
		}
		switch {
		case !s.LastBgsaveOK:
			c.add(checkFail, subject, "the last RDB snapshot failed (rdb_last_bgsave_status:err): Redis refuses writes or loses them on restart; see its log (disk full? permissions of dir?)")
		case !s.LastAOFWriteOK:
			c.add(checkFail, subject, "the last AOF write failed (aof_last_write_status:err); see its log (disk full?)")
		case !s.Persists() && !s.SaveKnown:
			c.add(checkWarn, subject, "AOF is off and the snapshot schedule cannot be read (CONFIG GET refused): make sure RDB snapshots or AOF are on, or a restart loses everything")
		case !s.Persists():
			c.add(checkFail, subject, "no persistence (appendonly no, save \"\"): a restart loses every visit and chat; set `appendonly yes`, `appendfsync everysec` and `save 3600 1 300 100 60 10000`")
		case s.AOF && s.AppendFsync == "no":
			c.add(checkWarn, subject, "AOF on with appendfsync no: the kernel decides when data reaches the disk; set `appendfsync everysec`")
		case s.AOF && s.Save == "" && s.SaveKnown:
			c.add(checkWarn, subject, "AOF on (appendfsync %s) but no RDB snapshots: backups copy the RDB file; set `save 3600 1 300 100 60 10000`", s.AppendFsync)
		case !s.AOF:
			c.add(checkWarn, subject, "RDB snapshots only (save %q): a crash loses the writes since the last one; set `appendonly yes` and `appendfsync everysec`", s.Save)
		default:
			c.add(checkOK, subject, "persistence on: AOF (appendfsync %s) and RDB (save %q)", s.AppendFsync, s.Save)
		}
	}
	if cc, ok := db.Client.(*redis.ClusterClient); ok {
		n, err := store.SlotsCovered(rctx, cc)
		switch {
		case err != nil:
			c.add(checkFail, "redis cluster", "slots cannot be read: %v", err)
		case n < 16384:
			c.add(checkFail, "redis cluster", "%d of 16384 slots are served: sites whose keys hash to the others cannot be written; assign every slot (redis-cli --cluster fix)", n)
		default:
			c.add(checkOK, "redis cluster", "all 16384 slots served")
		}
	}
	f, err := store.ReadFormat(rctx, db.Client)
	switch {
	case err != nil:
		c.add(checkFail, "data format", "%v", err)
	case f > store.FormatVersion:
		c.add(checkFail, "data format", "Redis holds format %d, newer than this messtrack (%s) reads (%d): run the messtrack that wrote it", f, version, store.FormatVersion)
	case f == 0:
		c.add(checkOK, "data format", "empty store; serve writes format %d at its first start", store.FormatVersion)
	case f < store.FormatVersion:
		c.add(checkWarn, "data format", "format %d: serve upgrades it to %d at start, in batches, printing its progress", f, store.FormatVersion)
	default:
		c.add(checkOK, "data format", "format %d", f)
	}
	for _, name := range cfg.SiteNames() {
		want := cfg.Sites[name].Shards
		kept, err := store.KeptShards(rctx, db.Client, name)
		switch {
		case err != nil:
			c.add(checkFail, "site "+name, "%v", err)
		case kept != 0 && kept != want:
			c.add(checkFail, "site "+name, "shards is %d in the config, but its visits are stored over %d: serve refuses to start; set shards: %d", want, kept, kept)
		case want > 1:
			c.add(checkOK, "site "+name, "visits, clicks and chats spread over %d shards", want)
		}
	}
}

func (c *checker) checkGeoIP(cfg *config.Config) {
	if cfg.GeoIP == "" {
		c.add(checkWarn, "geoip", "not set: visits get no country, region, city or time zone, and the matcher loses its country evidence; download GeoLite2-City.mmdb and set geoip:")
		return
	}
	r, err := geoip2.Open(cfg.GeoIP)
	if err != nil {
		c.add(checkFail, "geoip", "%s cannot be read: %v; serve will not start", cfg.GeoIP, err)
		return
	}
	defer r.Close()
	md := r.Metadata()
	if !strings.Contains(md.DatabaseType, "City") {
		c.add(checkFail, "geoip", "%s is a %q database; a City database is needed and serve will not start", cfg.GeoIP, md.DatabaseType)
		return
	}
	built := time.Unix(int64(md.BuildEpoch), 0)
	age := time.Since(built)
	if age > geoMaxAge {
		c.add(checkWarn, "geoip", "%s was built %s, %d days ago: countries and cities drift; fetch a fresh one (weekly, e.g. geoipupdate)", cfg.GeoIP, built.UTC().Format("2006-01-02"), int(age.Hours()/24))
		return
	}
	c.add(checkOK, "geoip", "%s (%s, built %s)", cfg.GeoIP, md.DatabaseType, built.UTC().Format("2006-01-02"))
}

func (c *checker) checkSite(s *config.Site) {
	subject := "site " + s.Name
	if len(s.APIKey) < 24 {
		c.add(checkWarn, subject, "api_key is %d characters: anyone who guesses it reads the site's chats; use a long random one (openssl rand -hex 24)", len(s.APIKey))
	} else {
		c.add(checkOK, subject, "api_key set")
	}
	if len(s.Origins) == 0 {
		c.add(checkWarn, subject, "no origins: any page may register visits for this site; list the site's origins (https://shop.example)")
	}
	wa := len(s.WhatsApp) > 0
	tg := len(s.Telegram.Bots) > 0 || len(s.Telegram.Users) > 0
	for _, src := range s.Sources {
		wa = wa || src.Number != "" || src.DedicatedNumber != ""
		tg = tg || src.Bot != "" || src.User != ""
	}
	if wa {
		switch {
		case s.WhatsAppAppSecret == "":
			c.add(checkFail, subject, "WhatsApp numbers but no whatsapp_app_secret: the WhatsApp webhook answers 403 to every message; set it to the Meta app's App Secret")
		case s.WhatsAppVerifyToken == "":
			c.add(checkFail, subject, "WhatsApp numbers but no whatsapp_verify_token: Meta cannot verify the webhook URL, so no message arrives; set a random token and enter the same in the app's webhook settings")
		default:
			c.add(checkOK, subject, "WhatsApp webhook secrets set")
		}
	}
	for _, w := range s.Webhooks {
		u, err := url.Parse(w.URL)
		if err == nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
			c.add(checkWarn, subject, "webhook %s is plain http: its deliveries carry the chats' source records unencrypted; use https", redactURL(w.URL))
		}
	}
	if tg {
		if s.TelegramSecretToken == "" {
			c.add(checkFail, subject, "Telegram bots or users but no telegram_secret_token: the Telegram webhook answers 403 to every update; set one and pass it as secret_token to setWebhook")
		} else {
			c.add(checkOK, subject, "Telegram secret token set")
		}
	}
	problems, err := collector.MessengerProblems(s)
	if err != nil {
		c.add(checkFail, subject, "%v", err)
	}
	for _, p := range problems {
		c.add(checkFail, subject, "%s", p)
	}
}

func (c *checker) checkPublicURL(ctx context.Context, cfg *config.Config) {
	u, _ := url.Parse(cfg.PublicURL) // config checked it
	host := u.Hostname()
	ip := net.ParseIP(host)
	local := host == "localhost" || (ip != nil && ip.IsLoopback())
	if u.Scheme != "https" && !local {
		c.add(checkFail, "public_url", "%s is not HTTPS: WhatsApp refuses webhook URLs without a trusted certificate and https pages block the snippet's calls; put Caddy or nginx with TLS in front (docs/deploy.md)", cfg.PublicURL)
	}
	if lh, _, err := net.SplitHostPort(cfg.Listen); err == nil && u.Scheme == "https" && len(cfg.TrustedProxies) == 0 {
		if lip := net.ParseIP(lh); lh == "localhost" || (lip != nil && lip.IsLoopback()) {
			c.add(checkWarn, "trusted_proxies", "empty while serving on %s behind %s: every visitor counts as the proxy's address (geo, rate limits); list the proxy, e.g. [127.0.0.1, ::1]", cfg.Listen, cfg.PublicURL)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(hctx, http.MethodGet, cfg.PublicURL+"/healthz", nil)
	if err != nil {
		c.add(checkFail, "public_url", "%v", err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.add(checkFail, "public_url", "%s/healthz does not answer: %v; start the collector and its proxy, check DNS, the certificate and the firewall", cfg.PublicURL, err)
		return
	}
	defer resp.Body.Close()
	var h struct{ Status, Version string }
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &h) != nil || h.Status != "ok" {
		c.add(checkFail, "public_url", "%s/healthz answered %d %q: it is not a healthy messtrack (a proxy pointing elsewhere, or the collector cannot reach Redis)", cfg.PublicURL, resp.StatusCode, strings.TrimSpace(string(body)))
		return
	}
	c.add(checkOK, "public_url", "%s/healthz answers (messtrack %s)", cfg.PublicURL, h.Version)
}

// redactURL hides a password in a Redis URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// isLoopbackHost tells whether host names this machine.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
