// Package config reads messtrack's YAML file and the environment variables
// that override it, and checks every value before anything starts.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of one messtrack process.
type Config struct {
	// Path is the file the config was read from; errors name it.
	Path string `yaml:"-"`
	// Listen is the address serve binds, host:port.
	Listen string `yaml:"listen"`
	// PublicURL is the collector's address as browsers and phones reach it.
	PublicURL string `yaml:"public_url"`
	// Redis is the REDIS_URL; empty means the embedded store.
	Redis string `yaml:"redis"`
	// RedisWaitReplicas is how many replicas must hold a write before the
	// collector acknowledges it (a webhook's 2xx, a visit's ID): absent
	// means one for a master that has a replica online and none for one
	// without (WaitReplicas gives -1); 0 never waits.
	RedisWaitReplicas *int `yaml:"redis_wait_replicas"`
	// RedisWaitTimeoutMS bounds that wait; past it the collector answers
	// 503 and the sender retries. 0 means DefaultRedisWaitTimeout.
	RedisWaitTimeoutMS int `yaml:"redis_wait_timeout_ms"`
	// StoreFile is where the embedded store is kept across restarts;
	// relative paths are taken from the working folder. Unused with Redis.
	StoreFile string `yaml:"store_file"`
	// GeoIP is the path of a GeoLite2/GeoIP2 City database; empty disables geo.
	GeoIP string `yaml:"geoip"`
	// TrustedProxies lists the addresses or CIDR ranges whose
	// X-Forwarded-For header is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ForwardedHeader is the header trusted proxies write the client's
	// address into: X-Forwarded-For (the default) or Forwarded (RFC 7239).
	// Only that one is read, so a client cannot slip in the other.
	ForwardedHeader string `yaml:"forwarded_header"`
	// IPv6Prefix is the network length by which IPv6 clients are counted
	// for rate limits and sign-in lockouts; 64 unless set.
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// TruncateIPs stores visitors' IPs with the host part zeroed
	// (IPv4 /24, IPv6 /48).
	TruncateIPs bool `yaml:"truncate_ips"`
	// RateLimit is the number of public requests one client IP may make per
	// minute; 0 means the default, negative disables the limit.
	RateLimit int `yaml:"rate_limit_per_minute"`
	// StaticDir is a folder of pages served at "/" (the demo site); relative
	// paths are taken from the config file's folder.
	StaticDir string `yaml:"static_dir"`
	// Sites maps a site name to its settings.
	Sites map[string]*Site `yaml:"sites"`

	// geoIPFromEnv, listenFromEnv and redisFromEnv tell errors to name the
	// environment variable as well as the key.
	geoIPFromEnv  bool
	storeFromEnv  bool
	listenFromEnv bool
	redisFromEnv  bool
}

// MaxShards is the most shards a site's visits may spread over (store.MaxShards).
const MaxShards = 256

// Site is one tracked website and its chat channels.
type Site struct {
	// Name is the site's key in the sites map.
	Name    string   `yaml:"-"`
	APIKey  string   `yaml:"api_key"`
	Origins []string `yaml:"origins"`
	// IDFormat is token | emoji | invisible+token | invisible+emoji.
	IDFormat string `yaml:"id_format"`
	// IDSecret keys the visit codes; empty means a random secret kept in Redis.
	IDSecret string `yaml:"id_secret"`
	// Message is the prefilled text; {id} marks where the code goes.
	Message string `yaml:"message"`
	// Messages, instead of Message, are templates tested against each
	// other: each visitor gets one, picked by weight from the visitor ID.
	// After loading it always holds the site's templates (Message alone
	// becomes the one template), and Message the first.
	Messages []MessageTemplate `yaml:"messages"`
	WhatsApp []WhatsAppNumber  `yaml:"whatsapp"`
	Telegram Telegram          `yaml:"telegram"`

	WhatsAppAppSecret   string `yaml:"whatsapp_app_secret"`
	WhatsAppVerifyToken string `yaml:"whatsapp_verify_token"`
	TelegramSecretToken string `yaml:"telegram_secret_token"`

	ConversionEvent string `yaml:"conversion_event"`
	SessionDays     int    `yaml:"session_days"`
	Timezone        string `yaml:"timezone"`
	Currency        string `yaml:"currency"`
	// ConsentRequired makes the snippet wait for messtrack('consent').
	ConsentRequired bool `yaml:"consent_required"`
	// MatchWindowMinutes is how far before a message the heuristic matcher
	// looks for clicks.
	MatchWindowMinutes int `yaml:"match_window_minutes"`
	// Shards is how many hash tags the site's visits and clicks spread
	// over on a Redis Cluster (1..MaxShards, default 1: every key under the
	// site's one tag). Fixed at the site's first start.
	Shards int `yaml:"shards"`
	// MatchPrecision is the precision the learned heuristic answers at:
	// it takes a visit only when its probability is at least this.
	MatchPrecision float64 `yaml:"match_precision"`
	// Sources are offline sources (QR codes) and dedicated numbers.
	Sources map[string]*Source `yaml:"sources"`
	// DesktopQR makes the snippet fill the page's data-messtrack-qr
	// elements, on desktops, with a QR code of a chat link carrying the
	// visit's code, so that a phone's camera takes the visit along.
	DesktopQR bool `yaml:"desktop_qr"`
	// LinkExtras gives the site the snippet build that also reaches chats
	// opened by forms, inline onclick handlers, links in same-origin
	// iframes and popups opened empty and pointed at a chat later.
	LinkExtras bool `yaml:"link_extras"`
	// Demo marks the demo site (examples/messtrack.yaml): its pages get
	// the simulated phone's endpoints (/demo/SITE/…), and `messtrack demo
	// seed` fills it with a month of made-up data. No other site takes
	// either.
	Demo bool `yaml:"demo"`
	// Meta configures the ad cost sync from the Meta Marketing API.
	Meta Meta `yaml:"meta"`
	// Retention bounds how long each kind of personal data is kept.
	Retention Retention `yaml:"retention"`
	// KeepMessageText keeps the first message of each conversation (and
	// edits' texts) and the contact's name and username for operators'
	// review; false keeps only what matching needs. Nil means true.
	KeepMessageText *bool `yaml:"keep_message_text"`
	// Webhooks, MetaCAPI, GA4 and Metrica are where the site's chats and
	// conversions are sent (config/exchange.go).
	Webhooks []Webhook `yaml:"webhooks"`
	MetaCAPI MetaCAPI  `yaml:"meta_capi"`
	GA4      GA4       `yaml:"ga4"`
	Metrica  Metrica   `yaml:"metrica"`

	// Messengers are the settings of the messengers beyond WhatsApp and
	// Telegram, each under its own site key (MessengerKeys; messengers.go).
	Messengers map[string]*MessengerSettings `yaml:",inline"`
	// MetaAppSecret checks the Messenger and Instagram webhooks'
	// X-Hub-Signature-256; empty: WhatsAppAppSecret.
	MetaAppSecret string `yaml:"meta_app_secret"`
	// MetaVerifyToken answers their subscription handshake; empty:
	// WhatsAppVerifyToken.
	MetaVerifyToken string `yaml:"meta_verify_token"`
	// WhatsAppAPI is the Cloud API the template send endpoint calls, and
	// WhatsAppRates the rate card that prices delivered messages and
	// opened conversations in Currency (whatsapp_business.go).
	WhatsAppAPI   WhatsAppAPI    `yaml:"whatsapp_api"`
	WhatsAppRates []WhatsAppRate `yaml:"whatsapp_rates"`
	// SendBack is the send-back widget: the business writes first to a
	// number the visitor leaves (sendback.go); nil: off.
	SendBack *SendBack `yaml:"sendback"`

	// Location is Timezone loaded.
	Location *time.Location `yaml:"-"`
}

// Retention is how long a site keeps each kind of personal data, in days;
// README.md ("Personal data") gives the defaults' reasons. A value of -1
// keeps that kind for as long as it is useful (no limit).
type Retention struct {
	// HistoryDays: chat history entries older than this are trimmed.
	HistoryDays int `yaml:"history_days"`
	// VisitDays: how long a visit (IP, device, pages) lives; 0 means the
	// session window plus 7 days, which codes need to attribute.
	VisitDays int `yaml:"visit_days"`
	// ChatDays: a chat silent for this long is erased as on request
	// (record, history, sessions' link to the person); reports stay.
	ChatDays int `yaml:"chat_days"`
	// DeliveryDays: how long deliveries sent about a chat are kept.
	DeliveryDays int `yaml:"delivery_days"`
}

// Retention defaults (days).
const (
	DefaultHistoryDays  = 365
	DefaultChatDays     = 730
	DefaultDeliveryDays = 30
)

// MessageTemplate is one prefilled text of a template experiment.
type MessageTemplate struct {
	Text string `yaml:"text"`
	// Weight is the template's share of visitors against the others'
	// (1 when left out); 0 stops giving it to new visitors and keeps it in
	// the reports.
	Weight *int `yaml:"weight"`
}

// Key names the template in stored visits and reports: the first 8 hex
// digits of its text's SHA-256, so reordering the list or adding a
// template keeps every visit's template.
func (m MessageTemplate) Key() string {
	h := sha256.Sum256([]byte(m.Text))
	return hex.EncodeToString(h[:4])
}

// TemplateWeight is the template's weight (1 when not set).
func (m MessageTemplate) TemplateWeight() int {
	if m.Weight == nil {
		return 1
	}
	return *m.Weight
}

// KeepsMessageText tells whether the site keeps message texts and contact
// names.
func (s *Site) KeepsMessageText() bool { return s.KeepMessageText == nil || *s.KeepMessageText }

// VisitTTL is how long the site keeps a visit.
func (s *Site) VisitTTL() time.Duration {
	if s.Retention.VisitDays > 0 {
		return time.Duration(s.Retention.VisitDays) * 24 * time.Hour
	}
	return time.Duration(s.SessionDays+7) * 24 * time.Hour
}

// WhatsAppNumber is one business number whose links the snippet rewrites.
type WhatsAppNumber struct {
	Number string `yaml:"number"`
}

// Telegram lists the bots (start links) and user accounts (text links).
type Telegram struct {
	Bots  []string `yaml:"bots"`
	Users []string `yaml:"users"`
}

// Source is an offline source: a QR code on a flyer, or a dedicated number.
type Source struct {
	Name    string `yaml:"-"`
	Channel string `yaml:"channel"`
	// Number is the WhatsApp number a scan of this source's QR opens.
	Number string `yaml:"number"`
	// Bot or User send the scan to Telegram instead.
	Bot  string `yaml:"bot"`
	User string `yaml:"user"`
	// DedicatedNumber is a number used by this source alone: every new chat
	// on it without a code belongs to the source.
	DedicatedNumber string `yaml:"dedicated_number"`
	// Title is a human name for reports ("Spring flyer").
	Title string `yaml:"title"`
}

// Meta holds the Marketing API settings for `messtrack costs sync`.
type Meta struct {
	AdAccountID string `yaml:"ad_account_id"`
	AccessToken string `yaml:"access_token"`
	// BaseURL defaults to https://graph.facebook.com/v25.0.
	BaseURL string `yaml:"base_url"`
}

// WaitReplicas is redis_wait_replicas, or -1 when absent (one replica
// where a master has one).
func (c *Config) WaitReplicas() int {
	if c.RedisWaitReplicas == nil {
		return -1
	}
	return *c.RedisWaitReplicas
}

// WaitTimeout is redis_wait_timeout_ms as a duration.
func (c *Config) WaitTimeout() time.Duration {
	return time.Duration(c.RedisWaitTimeoutMS) * time.Millisecond
}

// Defaults applied when a key is absent.
const (
	DefaultListen      = "127.0.0.1:8080"
	DefaultMessage     = "Hello! My request code: {id}"
	DefaultSessionDays = 90
	DefaultMatchWindow = 30
	DefaultRateLimit   = 600
	DefaultMetaBaseURL = "https://graph.facebook.com/v25.0"
	DefaultIPv6Prefix  = 64
	DefaultStoreFile   = "var/messtrack-store.gob"
	// DefaultRedisWaitTimeout is redis_wait_timeout_ms when absent.
	DefaultRedisWaitTimeout = 1000
	// MaxRedisWaitTimeout keeps the wait well under the Redis client's
	// 5-second read timeout and inside the 5-second budget of a request a
	// sender waits on.
	MaxRedisWaitTimeout = 2000
)

// DefaultMatchPrecision is the learned heuristic's precision target when a
// site sets no match_precision.
const DefaultMatchPrecision = 0.95

// The values of forwarded_header, as the collector reads them.
const (
	ForwardedXFF     = "X-Forwarded-For"
	ForwardedRFC7239 = "Forwarded"
)

// IDFormats are the accepted values of id_format.
var idFormats = []string{"token", "emoji", "invisible+token", "invisible+emoji"}

var (
	siteNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	usernameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,31}$`)
	secretRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// Load reads the file at path, applies environment overrides from getenv
// (MESSTRACK_ADDR, REDIS_URL, MESSTRACK_GEOIP, MESSTRACK_STORE_FILE) and validates the result.
func Load(path string, getenv func(string) string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config.Load: %w", err)
	}
	return Parse(path, raw, getenv)
}

// Parse is Load for bytes already read; path only names them in errors.
func Parse(path string, raw []byte, getenv func(string) string) (*Config, error) {
	cfg := &Config{Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF; it then fails below for having no site.
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.Path = path
	if getenv != nil {
		if v := getenv("MESSTRACK_ADDR"); v != "" {
			cfg.Listen = v
			cfg.listenFromEnv = true
		}
		if v := getenv("REDIS_URL"); v != "" {
			cfg.Redis = v
			cfg.redisFromEnv = true
		}
		if v := getenv("MESSTRACK_STORE_FILE"); v != "" {
			cfg.StoreFile = v
			cfg.storeFromEnv = true
		}
		if v := getenv("MESSTRACK_GEOIP"); v != "" {
			cfg.GeoIP = v
			cfg.geoIPFromEnv = true
		}
	}
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// fieldError names the file, the key and the problem.
func (c *Config) fieldError(key, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %s", c.Path, key, fmt.Sprintf(format, args...))
}

func (c *Config) normalize() error {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		return c.fieldError(envKey("listen", "MESSTRACK_ADDR", c.listenFromEnv),
			"%q is not a host:port address like 127.0.0.1:8080", c.Listen)
	}
	if err := checkRedis(c.Redis); err != nil {
		return c.fieldError(envKey("redis", "REDIS_URL", c.redisFromEnv), "%v", err)
	}
	if n := c.RedisWaitReplicas; n != nil && (*n < 0 || *n > 16) {
		return c.fieldError("redis_wait_replicas", "%d is not a number of replicas from 0 to 16", *n)
	}
	if c.RedisWaitTimeoutMS == 0 {
		c.RedisWaitTimeoutMS = DefaultRedisWaitTimeout
	}
	if c.RedisWaitTimeoutMS < 1 || c.RedisWaitTimeoutMS > MaxRedisWaitTimeout {
		return c.fieldError("redis_wait_timeout_ms", "%d is not from 1 to %d milliseconds", c.RedisWaitTimeoutMS, MaxRedisWaitTimeout)
	}
	if c.StoreFile == "" {
		c.StoreFile = DefaultStoreFile
	}
	if fi, err := os.Stat(c.StoreFile); err == nil && fi.IsDir() {
		return c.fieldError(envKey("store_file", "MESSTRACK_STORE_FILE", c.storeFromEnv), "%s is a folder; name a file", c.StoreFile)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c.fieldError("public_url", "%q is not an http(s) URL", c.PublicURL)
	}
	if c.StaticDir != "" && !filepath.IsAbs(c.StaticDir) {
		c.StaticDir = filepath.Join(filepath.Dir(c.Path), c.StaticDir)
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.GeoIP != "" {
		key := envKey("geoip", "MESSTRACK_GEOIP", c.geoIPFromEnv)
		// The database is opened by the collector; a missing file is caught
		// here so that the error names the key and the cure.
		fi, err := os.Stat(c.GeoIP)
		switch {
		case err != nil:
			return c.fieldError(key, "%s cannot be read (run `make geoip` to fetch the City database): %v", c.GeoIP, err)
		case fi.IsDir():
			return c.fieldError(key, "%s is a folder; give the .mmdb file", c.GeoIP)
		}
	}
	for i, p := range c.TrustedProxies {
		if !validProxy(p) {
			return c.fieldError(fmt.Sprintf("trusted_proxies[%d]", i), "%q is neither an IP address nor a CIDR range", p)
		}
	}
	switch strings.ToLower(c.ForwardedHeader) {
	case "", "x-forwarded-for":
		c.ForwardedHeader = ForwardedXFF
	case "forwarded":
		c.ForwardedHeader = ForwardedRFC7239
	default:
		return c.fieldError("forwarded_header", "%q is neither X-Forwarded-For nor Forwarded", c.ForwardedHeader)
	}
	if c.IPv6Prefix == 0 {
		c.IPv6Prefix = DefaultIPv6Prefix
	}
	if c.IPv6Prefix < 32 || c.IPv6Prefix > 128 {
		return c.fieldError("ipv6_prefix", "%d is outside 32..128: IPv6 clients are counted by their network of that many bits (64 is one home or phone; 128 counts single addresses)", c.IPv6Prefix)
	}
	if len(c.Sites) == 0 {
		return c.fieldError("sites", "no site is configured")
	}
	keys := map[string]string{}
	for _, name := range c.SiteNames() {
		s := c.Sites[name]
		if s == nil {
			return c.fieldError("sites."+name, "the site has no settings")
		}
		s.Name = name
		if err := c.normalizeSite(s); err != nil {
			return err
		}
		if other, dup := keys[s.APIKey]; dup {
			return c.fieldError("sites."+name+".api_key", "the same key as site %q: each site needs its own", other)
		}
		keys[s.APIKey] = name
	}
	return nil
}

func (c *Config) normalizeSite(s *Site) error {
	at := "sites." + s.Name
	if !siteNameRE.MatchString(s.Name) {
		return c.fieldError(at, "site names are 1-63 of a-z, 0-9, _ and -, starting with a letter or digit")
	}
	if len(s.APIKey) < 8 {
		return c.fieldError(at+".api_key", "missing or shorter than 8 characters")
	}
	for i, o := range s.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return c.fieldError(fmt.Sprintf("%s.origins[%d]", at, i), "%q is not an origin like https://shop.example", o)
		}
		s.Origins[i] = u.Scheme + "://" + u.Host
	}
	if s.IDFormat == "" {
		s.IDFormat = "token"
	}
	if !slices.Contains(idFormats, s.IDFormat) {
		return c.fieldError(at+".id_format", "%q is not one of %s", s.IDFormat, strings.Join(idFormats, ", "))
	}
	if s.IDSecret != "" && len(s.IDSecret) < 16 {
		return c.fieldError(at+".id_secret", "shorter than 16 characters")
	}
	if err := c.normalizeMessages(s, at); err != nil {
		return err
	}
	for i := range s.WhatsApp {
		d, err := Digits(s.WhatsApp[i].Number)
		if err != nil {
			return c.fieldError(fmt.Sprintf("%s.whatsapp[%d].number", at, i), "%v", err)
		}
		s.WhatsApp[i].Number = d
	}
	for i, b := range s.Telegram.Bots {
		b = strings.TrimPrefix(b, "@")
		if !usernameRE.MatchString(b) {
			return c.fieldError(fmt.Sprintf("%s.telegram.bots[%d]", at, i), "%q is not a Telegram username", b)
		}
		s.Telegram.Bots[i] = strings.ToLower(b)
	}
	for i, u := range s.Telegram.Users {
		u = strings.TrimPrefix(u, "@")
		if !usernameRE.MatchString(u) {
			return c.fieldError(fmt.Sprintf("%s.telegram.users[%d]", at, i), "%q is not a Telegram username", u)
		}
		s.Telegram.Users[i] = strings.ToLower(u)
	}
	if s.TelegramSecretToken != "" && !secretRE.MatchString(s.TelegramSecretToken) {
		return c.fieldError(at+".telegram_secret_token", "Telegram allows 1-256 of A-Z, a-z, 0-9, _ and -")
	}
	if s.SessionDays == 0 {
		s.SessionDays = DefaultSessionDays
	}
	if s.SessionDays < 1 || s.SessionDays > 3650 {
		return c.fieldError(at+".session_days", "%d is outside 1..3650", s.SessionDays)
	}
	if s.Shards == 0 {
		s.Shards = 1
	}
	if s.Shards < 1 || s.Shards > MaxShards {
		return c.fieldError(at+".shards", "%d is outside 1..%d", s.Shards, MaxShards)
	}
	if s.MatchWindowMinutes == 0 {
		s.MatchWindowMinutes = DefaultMatchWindow
	}
	if s.MatchWindowMinutes < 1 || s.MatchWindowMinutes > 24*60 {
		return c.fieldError(at+".match_window_minutes", "%d is outside 1..1440", s.MatchWindowMinutes)
	}
	if s.MatchPrecision == 0 {
		s.MatchPrecision = DefaultMatchPrecision
	}
	if s.MatchPrecision < 0.5 || s.MatchPrecision > 0.999 {
		return c.fieldError(at+".match_precision", "%g is outside 0.5..0.999", s.MatchPrecision)
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return c.fieldError(at+".timezone", "%q is not an IANA time zone", s.Timezone)
	}
	s.Location = loc
	if s.Currency == "" {
		s.Currency = "USD"
	}
	if len(s.Currency) != 3 {
		return c.fieldError(at+".currency", "%q is not an ISO 4217 code", s.Currency)
	}
	s.Currency = strings.ToUpper(s.Currency)
	if err := c.normalizeRetention(s, at+".retention"); err != nil {
		return err
	}
	if err := c.normalizeExchange(s, at); err != nil {
		return err
	}
	if err := c.normalizeMessengers(s, at); err != nil {
		return err
	}
	if s.Meta.BaseURL == "" {
		s.Meta.BaseURL = DefaultMetaBaseURL
	}
	s.Meta.BaseURL = strings.TrimRight(s.Meta.BaseURL, "/")
	if err := c.normalizeWhatsAppBusiness(s, at); err != nil {
		return err
	}
	if err := c.normalizeSendBack(s, at); err != nil {
		return err
	}
	dedicated := map[string]string{}
	for _, name := range sortedKeys(s.Sources) {
		src := s.Sources[name]
		sat := at + ".sources." + name
		if src == nil {
			return c.fieldError(sat, "the source has no settings")
		}
		if !siteNameRE.MatchString(name) {
			return c.fieldError(sat, "source names are 1-63 of a-z, 0-9, _ and -")
		}
		src.Name = name
		if src.Channel == "" {
			src.Channel = "offline"
		}
		if src.Number != "" {
			d, err := Digits(src.Number)
			if err != nil {
				return c.fieldError(sat+".number", "%v", err)
			}
			src.Number = d
		}
		if src.DedicatedNumber != "" {
			d, err := Digits(src.DedicatedNumber)
			if err != nil {
				return c.fieldError(sat+".dedicated_number", "%v", err)
			}
			if other, dup := dedicated[d]; dup {
				return c.fieldError(sat+".dedicated_number", "%s is already dedicated to source %q", d, other)
			}
			dedicated[d] = name
			src.DedicatedNumber = d
		}
		src.Bot = strings.ToLower(strings.TrimPrefix(src.Bot, "@"))
		src.User = strings.ToLower(strings.TrimPrefix(src.User, "@"))
		if src.Title == "" {
			src.Title = name
		}
	}
	return nil
}

// normalizeRetention fills the retention defaults and checks the bounds.
func (c *Config) normalizeRetention(s *Site, at string) error {
	r := &s.Retention
	for _, f := range []struct {
		key  string
		v    *int
		def  int
		none bool // -1 (no limit) allowed
	}{
		{"history_days", &r.HistoryDays, DefaultHistoryDays, true},
		{"visit_days", &r.VisitDays, 0, false},
		{"chat_days", &r.ChatDays, DefaultChatDays, true},
		{"delivery_days", &r.DeliveryDays, DefaultDeliveryDays, true},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v == -1 && f.none {
			continue
		}
		if *f.v < 0 || *f.v > 3650 {
			hint := "1..3650, or -1 for no limit"
			if !f.none {
				hint = "1..3650 (0 or absent: the session window plus 7 days)"
			}
			return c.fieldError(at+"."+f.key, "%d is outside %s", *f.v, hint)
		}
	}
	return nil
}

// SiteNames returns the configured site names in order.
func (c *Config) SiteNames() []string { return sortedKeys(c.Sites) }

// Site returns the named site, or nil.
func (c *Config) Site(name string) *Site { return c.Sites[name] }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Digits turns a phone number as people write it ("+7 (999) 123-45-67",
// "00 44 7700 900123") into the digits-only international form WhatsApp uses.
// It does not guess a country for national numbers.
func Digits(number string) (string, error) {
	var b strings.Builder
	for _, r := range number {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '\u00a0':
		default:
			return "", fmt.Errorf("%q holds %q, which is not part of a phone number", number, r)
		}
	}
	d := strings.TrimPrefix(b.String(), "00")
	if len(d) < 8 || len(d) > 15 {
		return "", fmt.Errorf("%q has %d digits; an international number has 8 to 15", number, len(d))
	}
	if d[0] == '0' {
		return "", fmt.Errorf("%q starts with 0: write it in international form with the country code", number)
	}
	return d, nil
}

// envKey names a key in errors, with the environment variable that set it.
func envKey(key, env string, fromEnv bool) string {
	if fromEnv {
		return key + " (from " + env + ")"
	}
	return key
}

// checkRedis accepts what store.Open takes: empty (the embedded store), one
// redis:// or rediss:// URL, or a comma-separated list of cluster nodes, each
// host:port or a redis(s):// URL. A lone host:port is refused: it is more
// likely one server written without its scheme than a cluster of one.
func checkRedis(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var nodes []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			nodes = append(nodes, n)
		}
	}
	for _, n := range nodes {
		if scheme, rest, ok := strings.Cut(n, "://"); ok {
			if scheme != "redis" && scheme != "rediss" {
				return fmt.Errorf("%q: the scheme is %s://; use redis:// or rediss://", n, scheme)
			}
			u, err := url.Parse(n)
			if err != nil || u.Host == "" || rest == "" {
				return fmt.Errorf("%q is not a URL like redis://127.0.0.1:6379/0", n)
			}
			continue
		}
		if _, port, err := net.SplitHostPort(n); err != nil || port == "" {
			return fmt.Errorf("%q is neither a redis:// or rediss:// URL nor a cluster node host:port", n)
		}
		if !strings.Contains(v, ",") {
			return fmt.Errorf("%q has no scheme: write redis://%s/0 for one server, or list the cluster's nodes separated by commas", n, n)
		}
	}
	return nil
}

func validProxy(p string) bool {
	if strings.Contains(p, "/") {
		_, err := parseCIDR(p)
		return err == nil
	}
	return parseIP(p) != nil
}

// normalizeMessages checks message or messages and leaves both filled:
// Messages the templates, Message the first.
func (c *Config) normalizeMessages(s *Site, at string) error {
	if len(s.Messages) == 0 {
		if s.Message == "" {
			s.Message = DefaultMessage
		}
		if !strings.Contains(s.Message, "{id}") {
			return c.fieldError(at+".message", "the template has no {id} to carry the code")
		}
		s.Messages = []MessageTemplate{{Text: s.Message}}
		return nil
	}
	if s.Message != "" && s.Message != s.Messages[0].Text {
		return c.fieldError(at+".message", "set message or messages, not both")
	}
	total := 0
	keys := map[string]int{}
	for i, m := range s.Messages {
		where := fmt.Sprintf("%s.messages[%d]", at, i)
		if !strings.Contains(m.Text, "{id}") {
			return c.fieldError(where+".text", "the template has no {id} to carry the code")
		}
		if w := m.TemplateWeight(); w < 0 || w > 1000 {
			return c.fieldError(where+".weight", "%d is not a weight from 0 to 1000", w)
		}
		if j, dup := keys[m.Key()]; dup {
			return c.fieldError(where+".text", "the same text as messages[%d]", j)
		}
		keys[m.Key()] = i
		total += m.TemplateWeight()
	}
	if total == 0 {
		return c.fieldError(at+".messages", "every weight is 0: at least one template must be given to visitors")
	}
	s.Message = s.Messages[0].Text
	return nil
}
