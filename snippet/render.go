package snippet

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Settings are the parts of one site's configuration that the snippet needs.
type Settings struct {
	// Site is the site's name, as in /s/{site}.js.
	Site string
	// PublicURL is the collector's base URL the snippet sends visits and
	// clicks to; empty means where the script was loaded from (the URL two
	// levels above /s/{site}.js).
	PublicURL string
	// WhatsApp lists the site's WhatsApp numbers, digits only.
	WhatsApp []string
	// TelegramBots lists bot usernames; their links get ?start=PAYLOAD.
	TelegramBots []string
	// TelegramUsers lists user usernames; their links get ?text=.
	TelegramUsers []string
	// IDFormat is the code format (token, emoji, invisible+token,
	// invisible+emoji). The collector mints the code, so the script only
	// checks it is one of these.
	IDFormat string
	// ConsentRequired makes the script store and send nothing until the
	// page calls messtrack('consent').
	ConsentRequired bool
	// DesktopQR makes the script fill data-messtrack-qr elements, on
	// desktops, with the QR code of a chat link carrying the visit's code.
	DesktopQR bool
	// LinkExtras makes the script also reach chats opened by forms, inline
	// onclick handlers, links in same-origin iframes and popups opened
	// empty and pointed at a chat later: the build that carries them.
	LinkExtras bool
	// More are the chat targets of messengers beyond WhatsApp and Telegram
	// ("max:demo_shop_bot", "vk:demoshop", "line:demoshop"), each with the
	// link parameter that carries the code: "start", "ref" or "context"
	// for the hidden code, "text" for the prefilled text. A site without
	// any gets a build without their link forms.
	More map[string]string
	// Analytics makes the script send the page's Google Analytics and
	// Yandex Metrica client IDs (_ga, _ym_uid) with the visit, for a site
	// that sends its chats to GA4 or Metrica.
	Analytics bool
	// SendBack makes the script render the send-back widget in
	// data-messtrack-sendback elements and on messtrack('sendback', el).
	SendBack bool
}

// Script is the snippet rendered for one site.
type Script struct {
	// Body is the minified JavaScript with the site's settings inlined.
	Body []byte
	// ETag is a strong entity tag of Body, quoted as it goes in the header.
	ETag string
}

// ContentType is the media type the snippet is served with.
const ContentType = "text/javascript; charset=utf-8"

// CacheControl lets browsers and proxies keep the snippet for five minutes
// and then revalidate it with the ETag, so a settings change reaches
// visitors within minutes while most page views cost no request.
const CacheControl = "public, max-age=300, stale-while-revalidate=3600"

// ErrSettings is wrapped by every error Render returns for settings it
// cannot serve.
var ErrSettings = errors.New("invalid snippet settings")

var (
	siteNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	digitsPattern   = regexp.MustCompile(`^[0-9]{5,20}$`)
	// Telegram usernames: letters, digits and underscores, 4 to 32 long
	// (five for new names; older and collectible ones are shorter).
	usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{4,32}$`)
	// Other messengers' targets: a channel name and an account's name.
	moreKindPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	moreNamePattern = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)
)

// jsSettings is the Settings typedef in messtrack.js. It goes out as a
// positional array (see MarshalJSON), since every visitor downloads it.
type jsSettings struct {
	Site  string
	URL   string
	WA    []string
	Bots  []string
	Users []string
	More  map[string]string
}

// MarshalJSON writes the settings in the order messtrack.js destructures
// them: [site, url, targets], where targets maps each of the site's chats,
// as the click beacon names it, to the query parameter that carries the
// code: "text" for numbers and users, "start" for bots. The script then
// needs no list per kind of chat. The message is not among them: the
// collector fills its template and sends the text with each visit.
func (c jsSettings) MarshalJSON() ([]byte, error) {
	targets := make(map[string]string, len(c.WA)+len(c.Bots)+len(c.Users))
	for _, n := range c.WA {
		targets["whatsapp:"+n] = "text"
	}
	for _, name := range c.Users {
		targets["telegram:"+name] = "text"
	}
	// A name listed as both bot and user is a bot: start is what Telegram
	// passes on to a bot.
	for _, name := range c.Bots {
		targets["telegram:"+name] = "start"
	}
	for t, p := range c.More {
		targets[t] = p
	}
	return json.Marshal([]any{c.Site, c.URL, targets})
}

// Render inlines the site's settings into the build that has just the
// features the site uses, and tags the result. Settings are written as JSON
// with <, >, &, U+2028 and U+2029 escaped, so the body is safe inside a
// <script> element and in every JavaScript parser.
func (b *Builder) Render(s Settings) (Script, error) {
	cfg, err := s.normalize()
	if err != nil {
		return Script{}, fmt.Errorf("snippet.Render %q: %w", s.Site, err)
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return Script{}, fmt.Errorf("snippet.Render %q: %w", s.Site, err)
	}
	f := features{whatsapp: len(cfg.WA) > 0, telegram: len(cfg.Bots)+len(cfg.Users) > 0, consent: s.ConsentRequired, qr: s.DesktopQR,
		extras: s.LinkExtras, more: len(cfg.More) > 0, analytics: s.Analytics, sendback: s.SendBack}
	code, err := b.code(f)
	if err != nil {
		return Script{}, fmt.Errorf("snippet.Render %q: %w", s.Site, err)
	}
	body := []byte(strings.Replace(code, settingsPlaceholder, string(js), 1) + "\n")
	sum := sha256.Sum256(body)
	return Script{Body: body, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

// normalize checks the settings and brings them into the form the script
// compares with: digits for numbers, lower case for usernames.
func (s Settings) normalize() (jsSettings, error) {
	cfg := jsSettings{Site: s.Site, WA: []string{}, Bots: []string{}, Users: []string{}}
	if !siteNamePattern.MatchString(s.Site) {
		return cfg, fmt.Errorf("%w: site name %q: want 1-64 letters, digits, _ or -", ErrSettings, s.Site)
	}
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return cfg, fmt.Errorf("%w: public_url %q: want an http(s) base URL", ErrSettings, s.PublicURL)
		}
		// The script appends paths ("v1/visits") to it.
		cfg.URL = strings.TrimRight(s.PublicURL, "/") + "/"
	}
	for _, n := range s.WhatsApp {
		if !digitsPattern.MatchString(n) {
			return cfg, fmt.Errorf("%w: WhatsApp number %q: want 5-20 digits, country code first", ErrSettings, n)
		}
		cfg.WA = append(cfg.WA, n)
	}
	for _, list := range []struct {
		kind  string
		names []string
		out   *[]string
	}{
		{kind: "bot", names: s.TelegramBots, out: &cfg.Bots},
		{kind: "user", names: s.TelegramUsers, out: &cfg.Users},
	} {
		for _, name := range list.names {
			name = strings.TrimPrefix(name, "@")
			if !usernamePattern.MatchString(name) {
				return cfg, fmt.Errorf("%w: Telegram %s %q: want 4-32 letters, digits or _", ErrSettings, list.kind, name)
			}
			*list.out = append(*list.out, strings.ToLower(name))
		}
	}
	for t, p := range s.More {
		kind, name, _ := strings.Cut(t, ":")
		if !moreKindPattern.MatchString(kind) || !moreNamePattern.MatchString(name) {
			return cfg, fmt.Errorf("%w: chat target %q: want a messenger and a lower-case name, like vk:demoshop", ErrSettings, t)
		}
		switch p {
		case "start", "ref", "context", "text":
		default:
			return cfg, fmt.Errorf("%w: chat target %q: parameter %q is none of start, ref, context, text", ErrSettings, t, p)
		}
		if cfg.More == nil {
			cfg.More = map[string]string{}
		}
		cfg.More[t] = p
	}
	switch s.IDFormat {
	case "", "token", "emoji", "invisible+token", "invisible+emoji":
	default:
		return cfg, fmt.Errorf("%w: id_format %q: want token, emoji, invisible+token or invisible+emoji", ErrSettings, s.IDFormat)
	}
	return cfg, nil
}

// Headers are the response headers the snippet is served with: its type,
// caching with revalidation, CORS so any page may load it, and nosniff.
// Cross-Origin-Resource-Policy lets pages with COEP load it too.
func (s Script) Headers() map[string]string {
	return map[string]string{
		"Content-Type":                 ContentType,
		"Cache-Control":                CacheControl,
		"ETag":                         s.ETag,
		"Access-Control-Allow-Origin":  "*",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"X-Content-Type-Options":       "nosniff",
	}
}

// NotModified reports whether a request's If-None-Match header names this
// script, so the answer can be 304 with no body.
func (s Script) NotModified(ifNoneMatch string) bool {
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == s.ETag || tag == "*" {
			return true
		}
	}
	return false
}
