package collector

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/codes"
	"github.com/messtrack/messtrack/collector/enrich"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/store"
)

// Public intake limits: the snippet's bodies are small; anything bigger is
// not ours.
const (
	maxIntakeBody = 8 << 10
	maxURL        = 2048
	// clickKeep is how long clicks stay in the per-target index beyond the
	// match window, so a message delivered late (platform retries) still
	// finds the clicks before its own timestamp.
	clickKeep = 24 * time.Hour
	// clickCap bounds one target's click index.
	clickCap = 20000
)

// headerDropped carries the reason a hit was dropped (202, nothing stored).
const headerDropped = "X-Messtrack-Dropped"

func (s *Server) routesIntake(r fiber.Router) {
	r.Options("/v1/visits", s.preflight)
	r.Options("/v1/clicks", s.preflight)
	r.Post("/v1/visits", s.handleVisit)
	r.Post("/v1/clicks", s.handleClick)
	r.Get("/v1/sites/:site/visits/:visit", s.requireKey, s.handleGetVisit)
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

// visitResponse gives the snippet the codes for its links. Text is the
// site's message with the code, ending in a line break, so the script needs
// neither the template nor the substitution.
type visitResponse struct {
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

// readJSON decodes a small JSON body (sent as text/plain by the snippet to
// avoid a preflight) into v.
func readJSON(c *fiber.Ctx, limit int, v any) error {
	body := c.Body()
	if len(body) > limit {
		return fail(ErrTooLarge, "body of %d bytes exceeds the limit of %d", len(body), limit)
	}
	if len(body) == 0 {
		return fail(ErrBadInput, "empty body: a JSON object is required")
	}
	if p, ok := v.(positionalRequest); ok {
		if i := skipSpace(string(body), 0); i < len(body) && body[i] == '[' {
			return readPositional(body, p)
		}
	}
	if f, ok := v.(fastDecoder); ok && f.decodeFast(body) {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fail(ErrBadInput, "malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te) && te.Field == "":
			// The body itself is an array, string or number.
			return fail(ErrBadInput, "the body is a JSON %s; a JSON object is required", te.Value)
		case errors.As(err, &te):
			return fail(ErrBadInput, "field %q must be a %s", te.Field, te.Type)
		default:
			return fail(ErrBadInput, "malformed JSON")
		}
	}
	return nil
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
				return fail(ErrBadInput, "malformed JSON array")
			}
			return fail(ErrBadInput, "malformed JSON")
		}
		if dec.More() {
			return fail(ErrBadInput, "malformed JSON: more than one value")
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
	return "", fail(ErrBadInput, "item %d of the array must be a string", n)
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
	return 0, false, fail(ErrBadInput, "item %d of the array must be an integer", n)
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

// fastDecoder is a request that can read the plain shape the snippet sends
// without reflection. decodeFast reports false, having changed nothing,
// for anything else (escapes, null, unknown keys, other types, invalid
// UTF-8), which encoding/json then decodes with its usual answers and errors.
type fastDecoder interface {
	decodeFast(body []byte) bool
}

// decodeFast reads a flat JSON object of string fields with the exact
// lower-case names of visitRequest. The body is copied into one string that
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
			key, j, ok := plainString(s, i)
			if !ok {
				return false
			}
			j = skipSpace(s, j)
			if j >= len(s) || s[j] != ':' {
				return false
			}
			val, j, ok := plainString(s, skipSpace(s, j+1))
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

// checkOrigin lets only the site's own pages register visits and answers
// with the CORS headers for them.
func (s *Server) checkOrigin(c *fiber.Ctx, st *site) error {
	origin := c.Get(fiber.HeaderOrigin)
	c.Vary(fiber.HeaderOrigin)
	if len(st.cfg.Origins) == 0 {
		return nil
	}
	for _, o := range st.cfg.Origins {
		if o == origin {
			c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
			return nil
		}
	}
	if origin == "" {
		return fail(ErrForbidden, "no Origin header: visits are accepted from the site's pages only")
	}
	return fail(ErrForbidden, "origin %q is not one of the site's origins", clip(origin, 100))
}

// preflight answers CORS preflights for the intake endpoints. A preflight
// carries no body, so it cannot say which site it is for: it is granted to
// the origins of any configured site, and the POST itself is then checked
// against its own site's origins. Other origins get 403 and no CORS headers,
// so the browser never sends the request.
func (s *Server) preflight(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return fail(ErrBadInput, "a CORS preflight needs an Origin header")
	}
	if !s.anyOrigin && !s.origins[origin] {
		return fail(ErrForbidden, "origin %q is not one of any site's origins", clip(origin, 100))
	}
	if m := c.Get(fiber.HeaderAccessControlRequestMethod); m != "" && m != fiber.MethodPost {
		return fail(ErrForbidden, "method %q is not allowed here; use POST", clip(m, 16))
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	c.Set(fiber.HeaderAccessControlAllowMethods, "POST")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type")
	c.Set(fiber.HeaderAccessControlMaxAge, "86400")
	return c.SendStatus(fiber.StatusNoContent)
}

func validURL(raw string, field string) error {
	if len(raw) > maxURL {
		return fail(ErrBadInput, "%s is longer than %d bytes", field, maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail(ErrBadInput, "%s is not an http(s) URL", field)
	}
	return nil
}

// readIntake decodes a snippet's body into in and resolves its site,
// refusing pages outside the site's origins.
func (s *Server) readIntake(c *fiber.Ctx, in interface{ siteName() string }) (*site, error) {
	if err := readJSON(c, maxIntakeBody, in); err != nil {
		return nil, err
	}
	st, err := s.lookupSite(in.siteName())
	if err != nil {
		return nil, err
	}
	if err := s.checkOrigin(c, st); err != nil {
		return nil, err
	}
	return st, nil
}

func (r *visitRequest) siteName() string { return r.Site }
func (r *clickRequest) siteName() string { return r.Site }

func (s *Server) handleVisit(c *fiber.Ctx) error {
	var in visitRequest
	st, err := s.readIntake(c, &in)
	if err != nil {
		return err
	}
	if in.URL == "" {
		return fail(ErrBadInput, "url is required")
	}
	if err := validURL(in.URL, "url"); err != nil {
		return err
	}
	if in.Landing == "" {
		in.Landing = in.URL
	}
	if err := validURL(in.Landing, "landing"); err != nil {
		return err
	}
	if in.Referrer != "" {
		if err := validURL(in.Referrer, "referrer"); err != nil {
			return err
		}
	}
	if in.Lang == "" {
		// The snippet leaves the language to the browser's request header.
		in.Lang = firstLanguage(c.Get(fiber.HeaderAcceptLanguage))
	}
	now := s.clock.Now()
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
	if err := s.pipeline.Enrich(v, requestHit(c, s.clientIP(c))); err != nil {
		if reason, ok := enrich.DropReason(err); ok {
			s.metrics.dropped.WithLabelValues(reason).Inc()
			s.log.Debug("visit dropped", "site", st.cfg.Name, "reason", reason)
			return fail(ErrDropped, "%s", reason)
		}
		return fmt.Errorf("visit: %w", err)
	}
	if len(st.cfg.Messages) > 1 {
		// The experiment's template, the same for the visitor on every
		// page view; a site with one template stores none.
		v.Template = codes.Pick(st.cfg.Name, st.cfg.Messages, v.VisitorID).Key()
	}
	if err := s.saveVisit(c.UserContext(), st, v); err != nil {
		return err
	}
	return c.JSON(s.visitAnswer(st, v))
}

// requestHit gathers what the request itself says about a visit. The
// strings are copied: fiber reuses their memory after the handler returns.
func requestHit(c *fiber.Ctx, ip string) *enrich.Hit {
	purpose := c.Get("Sec-Purpose")
	for _, h := range []string{"Purpose", "X-Purpose", "X-Moz"} {
		if purpose != "" {
			break
		}
		purpose = c.Get(h)
	}
	return &enrich.Hit{
		IP:        strings.Clone(ip),
		UserAgent: strings.Clone(c.Get(fiber.HeaderUserAgent)),
		Purpose:   strings.Clone(purpose),
	}
}

// handleGetVisit answers GET /v1/sites/{site}/visits/{visit}: the stored
// visit, for operators and for checking what the snippet registered.
func (s *Server) handleGetVisit(c *fiber.Ctx) error {
	st := authedSite(c)
	id := c.Params("visit")
	n, err := st.codec.ParseVisitID(id)
	if err != nil {
		return fail(ErrBadInput, "%q is not a visit ID", clip(id, 32))
	}
	ctx := c.UserContext()
	v, err := s.loadVisit(ctx, st, n)
	if errors.Is(err, ErrNotFound) {
		return fail(ErrNotFound, "visit %s is unknown or expired", st.codec.VisitID(n))
	}
	if err != nil {
		return err
	}
	ttl, err := s.rdb.PTTL(ctx, store.Visit(st.cfg.Name, n)).Result()
	if err != nil {
		return fmt.Errorf("handleGetVisit: pttl: %w", err)
	}
	view := viewVisit(st, v)
	if ttl > 0 {
		// A static source's visit never expires and has no end to show.
		view.Expires = s.clock.Now().Add(ttl).UTC().Format(time.RFC3339)
	}
	return c.JSON(view)
}

// visitAnswer is the snippet's view of a stored visit.
func (s *Server) visitAnswer(st *site, v *visit.Visit) visitResponse {
	code := st.codec.Code(v.N, st.style)
	end := v.Time.Add(st.visitTTL()).UTC().Truncate(time.Second)
	return visitResponse{
		Visit:   st.codec.VisitID(v.N),
		Code:    code,
		Text:    st.messageOf(codes.TemplateOf(st.cfg.Messages, v).Text, code) + "\n",
		Visitor: v.VisitorID,
		Start:   st.codec.Start(v.N),
		Expires: end.Format(time.RFC3339),
		Until:   end.UnixMilli(),
	}
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

// clickRequest is the snippet's beacon for a click on a chat link.
type clickRequest struct {
	Site   string `json:"site"`
	Visit  string `json:"visit"`
	Target string `json:"target"`
	Page   string `json:"page"`
	Href   string `json:"href"`
}

// clickInfo is the stored last click of a visit.
type clickInfo struct {
	Target string `json:"t"`
	Page   string `json:"p,omitempty"`
	At     int64  `json:"a"`
}

// clickScript records a click if the visit still lives.
//
// KEYS[1] visit, KEYS[2] target's click index, KEYS[3] visit's last click.
// ARGV[1] click time (Unix ms), ARGV[2] visit number (base 36),
// ARGV[3] oldest score to keep, ARGV[4] index cap, ARGV[5] click info JSON,
// ARGV[6] how long the index outlives its newest click (ms).
// Returns 0 when the visit is gone, 1 when recorded, and the stored visit
// when recorded as the visit's first click (for the code-survival counts).
//
// A visit that clicks again moves to its newest click time (ZADD updates the
// score). The index expires as a whole once no click has come for longer
// than the window, so a number taken out of the config leaves nothing behind.
var clickScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1) end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local first = redis.call('EXISTS', KEYS[3]) == 0
redis.call('SET', KEYS[3], ARGV[5], 'PX', ttl)
if first then return redis.call('GET', KEYS[1]) end
return 1
`)

func (s *Server) handleClick(c *fiber.Ctx) error {
	var in clickRequest
	st, err := s.readIntake(c, &in)
	if err != nil {
		return err
	}
	n, err := st.codec.ParseVisitID(in.Visit)
	if err != nil {
		return fail(ErrBadInput, "visit %q is not a visit ID", clip(in.Visit, 32))
	}
	target := inbound.NormalizeTarget(in.Target)
	if target == "" || !st.targets[target] {
		return fail(ErrBadInput, "target %q is not a chat of this site", clip(in.Target, 64))
	}
	if in.Page != "" {
		if err := validURL(in.Page, "page"); err != nil {
			return err
		}
	}
	if err := s.recordClick(c.UserContext(), st, n, target, in.Page); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// recordClick adds the visit to the target's click index.
func (s *Server) recordClick(ctx context.Context, st *site, n uint64, target, page string) error {
	now := s.clock.Now()
	info, err := json.Marshal(clickInfo{Target: target, Page: page, At: now.UnixMilli()})
	if err != nil {
		return fmt.Errorf("recordClick: %w", err)
	}
	keep := st.matchWindow() + clickKeep
	oldest := now.Add(-keep).UnixMilli()
	name := st.cfg.Name
	res, err := clickScript.Run(ctx, s.rdb,
		[]string{store.Visit(name, n), store.Clicks(name, target), store.VisitClick(name, n)},
		now.UnixMilli(), strconv.FormatUint(n, 36), oldest, clickCap, info, keep.Milliseconds()).Result()
	if err != nil {
		return fmt.Errorf("recordClick: script: %w", err)
	}
	if ok, isInt := res.(int64); isInt && ok == 0 {
		return fail(ErrNotFound, "visit %s is unknown or expired", st.codec.VisitID(n))
	}
	s.metrics.clicks.WithLabelValues(name).Inc()
	if raw, first := res.(string); first {
		v, err := visit.Decode(n, []byte(raw))
		if err != nil {
			s.log.Warn("code survival: clicked visit unreadable", "site", name, "err", err)
			return nil
		}
		s.countClick(ctx, st, v, target, page, now)
	}
	return nil
}

// recentClicks returns the visits that clicked target in [from, to], newest
// first, with their click times.
func (s *Server) recentClicks(ctx context.Context, st *site, target string, from, to time.Time) ([]click, error) {
	zs, err := s.rdb.ZRevRangeByScoreWithScores(ctx, store.Clicks(st.cfg.Name, target), &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10),
		Max: strconv.FormatInt(to.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("recentClicks: %w", err)
	}
	out := make([]click, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		n, err := strconv.ParseUint(m, 36, 64)
		if err != nil {
			continue
		}
		out = append(out, click{N: n, At: time.UnixMilli(int64(z.Score)).UTC()})
	}
	return out, nil
}

// click is one entry of a target's click index.
type click struct {
	N  uint64
	At time.Time
}
