// Package intake answers the snippet: a page's visit (POST /v1/visits),
// which it checks, enriches and has stored, answering the codes for the
// page's chat links, and a click on a chat link (POST /v1/clicks), which it
// has recorded; the CORS preflights of both; and the snippet's short
// positional bodies beside the objects with named fields. It checks every
// body against the site's origins and limits and reaches the stores only
// through Visits.
package intake

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/codes"
	"github.com/messtrack/messtrack/collector/enrich"
	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/sites"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// maxBody bounds the snippet's bodies, which are small; anything bigger is
// not ours.
const maxBody = 8 << 10

// Visits stores what the intake accepts.
type Visits interface {
	// SaveVisit numbers v and stores it for the site's visit TTL.
	SaveVisit(ctx context.Context, st *sites.Site, v *visit.Visit) error
	// RecordClick adds visit n to target's click index, or answers a
	// not-found error when the visit is gone.
	RecordClick(ctx context.Context, st *sites.Site, n uint64, target, page string) error
}

// Options are what the intake needs from the server.
type Options struct {
	// Config lists the sites whose origins a preflight may come from.
	Config *config.Config
	// Site resolves a site by name, or answers an unknown-site error.
	Site   func(name string) (*sites.Site, error)
	Visits Visits
	// Enrich fills a visit from its hit and may drop it (enrich.Drop).
	Enrich enrich.Step
	// ClientIP is the request's client address.
	ClientIP func(c *fiber.Ctx) string
	// Dropped counts a dropped hit by its reason.
	Dropped func(reason string)
	Clock   store.Clock
	Log     *slog.Logger
}

// Intake answers the snippet's requests.
type Intake struct {
	opt Options
	// origins are every site's origins, for CORS preflights, which do not
	// say which site they are for.
	origins map[string]bool
	// anyOrigin is set when a site lists no origins and so takes any.
	anyOrigin bool
}

// New builds the intake, logging each site that lists no origins.
func New(opt Options) *Intake {
	h := &Intake{opt: opt, origins: map[string]bool{}}
	for _, name := range opt.Config.SiteNames() {
		sc := opt.Config.Sites[name]
		for _, o := range sc.Origins {
			h.origins[o] = true
		}
		if len(sc.Origins) == 0 {
			h.anyOrigin = true
			opt.Log.Warn("site lists no origins: any page may register its visits", "site", name)
		}
	}
	return h
}

// Register adds the intake's routes to r.
func (h *Intake) Register(r fiber.Router) {
	r.Options("/v1/visits", h.preflight)
	r.Options("/v1/clicks", h.preflight)
	r.Post("/v1/visits", h.handleVisit)
	r.Post("/v1/clicks", h.handleClick)
}

// visitRequest is what the snippet sends to register a visit.
type visitRequest struct {
	Site     string `json:"site"`
	URL      string `json:"url"`
	Landing  string `json:"landing"`
	Referrer string `json:"referrer"`
	Screen   string `json:"screen"`
	Lang     string `json:"lang"`
	TZ       string `json:"tz"`
	Visitor  string `json:"visitor"`
	// GA and YM are the page's _ga and _ym_uid cookies, when it has them.
	GA string `json:"ga"`
	YM string `json:"ym"`
}

// VisitResponse gives the snippet the codes for its links. Text is the
// site's message with the code, ending in a line break, so the script needs
// neither the template nor the substitution.
type VisitResponse struct {
	Visit string `json:"visit"`
	Code  string `json:"code"`
	Text  string `json:"text"`
	// Visitor is the first-party visitor ID the snippet sent, or one minted
	// here for a first visit, which the snippet keeps and sends again.
	Visitor string `json:"visitor"`
	Start   string `json:"start"`
	Expires string `json:"expires"`
	// Until is Expires in Unix milliseconds, which the script compares
	// with its clock without parsing a date.
	Until int64 `json:"until"`
}

// clickRequest is the snippet's beacon for a click on a chat link.
type clickRequest struct {
	Site   string `json:"site"`
	Visit  string `json:"visit"`
	Target string `json:"target"`
	Page   string `json:"page"`
	Href   string `json:"href"`
}

// DecodeBody reads the snippet's positional array or a plain object
// without reflection (httperr.BodyDecoder).
func (r *visitRequest) DecodeBody(body []byte) (bool, error) {
	if isArray(body) {
		return true, readPositional(body, r)
	}
	return r.decodeFast(body), nil
}

// DecodeBody reads the snippet's positional array (httperr.BodyDecoder).
func (r *clickRequest) DecodeBody(body []byte) (bool, error) {
	if isArray(body) {
		return true, readPositional(body, r)
	}
	return false, nil
}

// isArray tells a body that is a JSON array.
func isArray(body []byte) bool {
	i := skipSpace(string(body), 0)
	return i < len(body) && body[i] == '['
}

// positionalRequest is a request the snippet sends as a JSON array, its
// fields in a fixed order, because that is shorter to write in the script
// than an object; the object with named fields stays accepted.
type positionalRequest interface {
	// fromItems takes the array's items: a string, nil for null, or a
	// json.Number.
	fromItems(items []any) error
}

// readPositional decodes a JSON array body into p. Items that are plain
// strings, null or integers are read directly; anything else goes through
// encoding/json.
func readPositional(body []byte, p positionalRequest) error {
	items, ok := plainItems(string(body))
	if !ok {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&items); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return httperr.Fail(httperr.ErrBadInput, "malformed JSON array")
			}
			return httperr.Fail(httperr.ErrBadInput, "malformed JSON")
		}
		if dec.More() {
			return httperr.Fail(httperr.ErrBadInput, "malformed JSON: more than one value")
		}
	}
	return p.fromItems(items)
}

// plainItems reads a flat JSON array of plain strings (see plainString),
// nulls and integers, and reports false for anything else.
func plainItems(s string) ([]any, bool) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '[' {
		return nil, false
	}
	items := make([]any, 0, 8)
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return items, skipSpace(s, i+1) == len(s)
	}
	for {
		switch {
		case i < len(s) && s[i] == '"':
			v, j, ok := plainString(s, i)
			if !ok {
				return nil, false
			}
			items, i = append(items, v), j
		case strings.HasPrefix(s[i:], "null"):
			items, i = append(items, nil), i+4
		default:
			j := i
			if j < len(s) && s[j] == '-' {
				j++
			}
			k := j
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			if k == j || k-j > 18 || (s[j] == '0' && k-j > 1) {
				return nil, false
			}
			items, i = append(items, json.Number(s[i:k])), k
		}
		i = skipSpace(s, i)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
			continue
		}
		if i < len(s) && s[i] == ']' {
			return items, skipSpace(s, i+1) == len(s)
		}
		return nil, false
	}
}

// itemString is item n of a positional request as a string: "" when the
// array is shorter or the item is null.
func itemString(items []any, n int) (string, error) {
	if n >= len(items) || items[n] == nil {
		return "", nil
	}
	if v, ok := items[n].(string); ok {
		return v, nil
	}
	return "", httperr.Fail(httperr.ErrBadInput, "item %d of the array must be a string", n)
}

// itemInt is item n of a positional request as an integer; ok is false when
// the array is shorter or the item is null.
func itemInt(items []any, n int) (v int64, ok bool, err error) {
	if n >= len(items) || items[n] == nil {
		return 0, false, nil
	}
	if num, isNum := items[n].(json.Number); isNum {
		if v, err := num.Int64(); err == nil {
			return v, true, nil
		}
	}
	return 0, false, httperr.Fail(httperr.ErrBadInput, "item %d of the array must be an integer", n)
}

// fromItems reads the snippet's visit array: [site, url, referrer, width,
// height, tz, visitor, ga, ym], width and height the screen's in CSS
// pixels, tz minutes east of UTC, visitor null on a first visit, ga and ym
// the page's _ga and _ym_uid cookies (absent or null without them).
func (r *visitRequest) fromItems(items []any) error {
	var out visitRequest
	for n, f := range []*string{&out.Site, &out.URL, &out.Referrer} {
		v, err := itemString(items, n)
		if err != nil {
			return err
		}
		*f = v
	}
	width, okW, err := itemInt(items, 3)
	if err != nil {
		return err
	}
	height, okH, err := itemInt(items, 4)
	if err != nil {
		return err
	}
	if okW && okH {
		out.Screen = strconv.FormatInt(width, 10) + "x" + strconv.FormatInt(height, 10)
	}
	tz, okTZ, err := itemInt(items, 5)
	if err != nil {
		return err
	}
	if okTZ {
		out.TZ = strconv.FormatInt(tz, 10)
	}
	if out.Visitor, err = itemString(items, 6); err != nil {
		return err
	}
	if out.GA, err = itemString(items, 7); err != nil {
		return err
	}
	if out.YM, err = itemString(items, 8); err != nil {
		return err
	}
	*r = out
	return nil
}

// fromItems reads the snippet's click array: [site, visit, target, page,
// href].
func (r *clickRequest) fromItems(items []any) error {
	var out clickRequest
	for n, f := range []*string{&out.Site, &out.Visit, &out.Target, &out.Page, &out.Href} {
		v, err := itemString(items, n)
		if err != nil {
			return err
		}
		*f = v
	}
	*r = out
	return nil
}

// decodeFast reads a flat JSON object of string fields with the exact
// lower-case names of visitRequest, the plain shape the snippet sends, and
// reports false, having changed nothing, for anything else (null, unknown
// keys, other types, invalid UTF-8, an escaped lone surrogate), which
// encoding/json then decodes with its usual answers and errors. The body is copied into one string that
// the fields share, instead of one allocation per field.
func (r *visitRequest) decodeFast(body []byte) bool {
	var out visitRequest
	s := string(body)
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			key, j, ok := readString(s, i)
			if !ok {
				return false
			}
			j = skipSpace(s, j)
			if j >= len(s) || s[j] != ':' {
				return false
			}
			val, j, ok := readString(s, skipSpace(s, j+1))
			if !ok {
				return false
			}
			if f := out.field(key); f != nil {
				*f = val
			} else {
				return false
			}
			i = skipSpace(s, j)
			if i < len(s) && s[i] == ',' {
				i = skipSpace(s, i+1)
				continue
			}
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			return false
		}
	}
	if skipSpace(s, i) != len(s) {
		return false
	}
	*r = out
	return true
}

// field is the visitRequest field named key in JSON, or nil.
func (r *visitRequest) field(key string) *string {
	switch key {
	case "site":
		return &r.Site
	case "url":
		return &r.URL
	case "landing":
		return &r.Landing
	case "referrer":
		return &r.Referrer
	case "screen":
		return &r.Screen
	case "lang":
		return &r.Lang
	case "tz":
		return &r.TZ
	case "visitor":
		return &r.Visitor
	case "ga":
		return &r.GA
	case "ym":
		return &r.YM
	}
	return nil
}

// skipSpace skips JSON whitespace from i.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// readString reads a JSON string at i with its escapes decoded, as
// encoding/json reads it, and returns the contents and the index after the
// closing quote. It reports false for what it leaves to encoding/json: a
// control character, invalid UTF-8, an escaped lone surrogate (which
// encoding/json turns into U+FFFD) or a malformed escape.
func readString(s string, i int) (string, int, bool) {
	if v, j, ok := plainString(s, i); ok {
		return v, j, true
	}
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	var b []byte
	run := i + 1
	for j := run; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '"':
			b = append(b, s[run:j]...)
			// An escape adds whole runes, never a continuation byte, so
			// the result is valid UTF-8 only if every raw run is.
			if !utf8.Valid(b) {
				return "", i, false
			}
			return string(b), j + 1, true
		case c < 0x20:
			return "", i, false
		case c != '\\':
			continue
		}
		b = append(b, s[run:j]...)
		if j+1 >= len(s) {
			return "", i, false
		}
		j++
		switch s[j] {
		case '"', '\\', '/':
			b = append(b, s[j])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s, j+1)
			if !ok {
				return "", i, false
			}
			j += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if j+2 < len(s) && s[j+1] == '\\' && s[j+2] == 'u' {
					r2, ok = hex4(s, j+3)
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return "", i, false
				}
				j += 6
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", i, false
		}
		run = j + 1
	}
	return "", i, false
}

// hex4 reads the four hex digits of a \u escape at i.
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// plainString reads a JSON string at i that needs no unescaping: no
// backslash, no control characters, valid UTF-8. It returns the contents
// and the index after the closing quote.
func plainString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	start := i + 1
	ascii := true
	for j := start; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			v := s[start:j]
			if !ascii && !utf8.ValidString(v) {
				return "", i, false
			}
			return v, j + 1, true
		case c == '\\' || c < 0x20:
			return "", i, false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", i, false
}

// preflight answers CORS preflights for the intake endpoints. A preflight
// carries no body, so it cannot say which site it is for: it is granted to
// the origins of any configured site, and the POST itself is then checked
// against its own site's origins. Other origins get 403 and no CORS headers,
// so the browser never sends the request.
func (h *Intake) preflight(c *fiber.Ctx) error {
	return sites.Preflight(c, func(origin string) bool { return h.anyOrigin || h.origins[origin] })
}

// validURL checks a client's URL: http(s), with a host, of at most
// visit.MaxURL bytes.
func validURL(raw string, field string) error {
	if len(raw) > visit.MaxURL {
		return httperr.Fail(httperr.ErrBadInput, "%s is longer than %d bytes", field, visit.MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return httperr.Fail(httperr.ErrBadInput, "%s is not an http(s) URL", field)
	}
	return nil
}

// readIntake decodes a snippet's body into in and resolves its site,
// refusing pages outside the site's origins.
func (h *Intake) readIntake(c *fiber.Ctx, req interface{ siteName() string }) (*sites.Site, error) {
	if err := httperr.DecodeJSON(c.Body(), maxBody, req); err != nil {
		return nil, err
	}
	st, err := h.opt.Site(req.siteName())
	if err != nil {
		return nil, err
	}
	if err := sites.CheckOrigin(c, st.Config.Origins, "visits are accepted from the site's pages only"); err != nil {
		return nil, err
	}
	return st, nil
}

func (r *visitRequest) siteName() string { return r.Site }
func (r *clickRequest) siteName() string { return r.Site }

func (h *Intake) handleVisit(c *fiber.Ctx) error {
	var in visitRequest
	st, err := h.readIntake(c, &in)
	if err != nil {
		return err
	}
	if in.URL == "" {
		return httperr.Fail(httperr.ErrBadInput, "url is required")
	}
	if err := validURL(in.URL, "url"); err != nil {
		return err
	}
	if in.Landing == "" {
		in.Landing = in.URL
	}
	if in.Landing != in.URL {
		if err := validURL(in.Landing, "landing"); err != nil {
			return err
		}
	}
	if in.Referrer != "" {
		if err := validURL(in.Referrer, "referrer"); err != nil {
			return err
		}
	}
	if in.Lang == "" {
		// The snippet leaves the language to the browser's request header.
		in.Lang = enrich.FirstLanguage(c.Get(fiber.HeaderAcceptLanguage))
	}
	now := h.opt.Clock.Now()
	v := &visit.Visit{
		Time:      now,
		VisitorID: visitorID(in.Visitor),
		Page:      in.URL,
		Landing:   in.Landing,
		Referrer:  in.Referrer,
		Screen:    visit.CleanShort(in.Screen),
		Language:  visit.CleanShort(in.Lang),
		TimeZone:  browserZone(in.TZ),
		// Malformed analytics IDs are dropped, not refused: the visit
		// still counts.
		GAClientID: visit.GAClientID(in.GA),
		YMClientID: visit.YMClientID(in.YM),
	}
	if err := h.opt.Enrich.Enrich(v, enrich.RequestHit(h.opt.ClientIP(c), header(c))); err != nil {
		if reason, ok := enrich.DropReason(err); ok {
			h.opt.Dropped(reason)
			h.opt.Log.Debug("visit dropped", "site", st.Config.Name, "reason", reason)
			return httperr.Fail(enrich.ErrDropped, "%s", reason)
		}
		return fmt.Errorf("visit: %w", err)
	}
	if len(st.Config.Messages) > 1 {
		// The experiment's template, the same for the visitor on every
		// page view; a site with one template stores none.
		v.Template = codes.Pick(st.Config.Name, st.Config.Messages, v.VisitorID).Key()
	}
	if err := h.opt.Visits.SaveVisit(c.UserContext(), st, v); err != nil {
		return err
	}
	ans := visitAnswer(st, v)
	c.Response().SetBodyRaw(ans.appendJSON(make([]byte, 0, 256)))
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	return nil
}

// header reads a request header.
func header(c *fiber.Ctx) func(string) string {
	return func(name string) string { return c.Get(name) }
}

// visitAnswer is the snippet's view of a stored visit.
func visitAnswer(st *sites.Site, v *visit.Visit) VisitResponse {
	code := st.Codec.Code(v.N, st.Style)
	end := v.Time.Add(st.VisitTTL()).UTC().Truncate(time.Second)
	return VisitResponse{
		Visit:   st.Codec.VisitID(v.N),
		Code:    code,
		Text:    sites.MessageOf(codes.TemplateOf(st.Config.Messages, v).Text, code) + "\n",
		Visitor: v.VisitorID,
		Start:   st.Codec.Start(v.N),
		Expires: end.Format(time.RFC3339),
		Until:   end.UnixMilli(),
	}
}

// appendJSON appends the answer as encoding/json writes it, without
// reflection: the same keys in the same order, and strings escaped alike
// (HTML characters, U+2028 and U+2029 included; invalid UTF-8 as U+FFFD).
func (r *VisitResponse) appendJSON(b []byte) []byte {
	for _, f := range []struct{ key, val string }{
		{`{"visit":`, r.Visit}, {`,"code":`, r.Code}, {`,"text":`, r.Text}, {`,"visitor":`, r.Visitor},
		{`,"start":`, r.Start}, {`,"expires":`, r.Expires},
	} {
		b = appendString(append(b, f.key...), f.val)
	}
	b = strconv.AppendInt(append(b, `,"until":`...), r.Until, 10)
	return append(b, '}')
}

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// visitorID is the visitor ID a snippet sent, or a new random one: not a
// secret, only a first-party label that links a person's visits.
func visitorID(sent string) string {
	if id := visit.CleanShort(sent); id != "" {
		return id
	}
	return rand.Text()
}

// browserZone is the visit's browser time zone as stored: the snippet sends
// its UTC offset in minutes east of UTC ("180"), which becomes "UTC+03:00";
// an IANA name from another client is kept as it is.
func browserZone(tz string) string {
	minutes, err := strconv.Atoi(tz)
	if err != nil {
		return visit.CleanShort(tz)
	}
	if minutes < -16*60 || minutes > 16*60 {
		return ""
	}
	sign := '+'
	if minutes < 0 {
		sign, minutes = '-', -minutes
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, minutes/60, minutes%60)
}

func (h *Intake) handleClick(c *fiber.Ctx) error {
	var in clickRequest
	st, err := h.readIntake(c, &in)
	if err != nil {
		return err
	}
	n, err := st.Codec.ParseVisitID(in.Visit)
	if err != nil {
		return httperr.Fail(httperr.ErrBadInput, "visit %q is not a visit ID", httperr.Clip(in.Visit, 32))
	}
	target := inbound.NormalizeTarget(in.Target)
	if target == "" || !st.Targets[target] {
		return httperr.Fail(httperr.ErrBadInput, "target %q is not a chat of this site", httperr.Clip(in.Target, 64))
	}
	if in.Page != "" {
		if err := validURL(in.Page, "page"); err != nil {
			return err
		}
	}
	if err := h.opt.Visits.RecordClick(c.UserContext(), st, n, target, in.Page); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
