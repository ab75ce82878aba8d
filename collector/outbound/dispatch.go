package outbound

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// group is the consumer group that routes a site's stream.
const group = "route"

// Options configure a Dispatcher.
type Options struct {
	Redis  redis.UniversalClient
	Config *config.Config
	Clock  store.Clock
	Log    *slog.Logger
	// Registry takes the per-target metrics; nil registers nothing.
	Registry prometheus.Registerer
	// Sessions reads a chat's sessions (reports.Store.ChatSessions), for
	// session.converted and session.closed; nil sends none.
	Sessions func(ctx context.Context, site, chat string) ([]reports.Session, error)
	// ChatRecord answers a chat's record as the chats API shows it, the
	// data of chat.attributed; nil sends the conversation fact instead.
	ChatRecord func(ctx context.Context, site, chat string) (json.RawMessage, error)
	// Targets builds a site's targets; nil builds them from its config
	// (TargetsWith in targets.go).
	Targets func(st *config.Site) []Target
	// Name names this collector among those sharing the queue; empty
	// makes a random one.
	Name string
	// Concurrency is how many deliveries run at once (default 16).
	Concurrency int
	// Timeout bounds one delivery (default 10 s).
	Timeout time.Duration
	// Poll is how long an idle dispatcher waits before looking again
	// (default 250 ms).
	Poll time.Duration
	// Backoff decides the waits between attempts; zero values take the
	// defaults.
	Backoff Backoff
	// RouteLease is how long one collector keeps the right to route a
	// site's stream after it last routed (default 30 s); one router at a
	// time keeps each chat's events in order.
	RouteLease time.Duration
}

// Backoff is the retry schedule: the n-th retry waits Base·2^(n-1), at most
// Max, jittered to between half and all of it; a delivery still failing
// MaxAge after it was queued goes to the dead letters.
type Backoff struct {
	Base   time.Duration
	Max    time.Duration
	MaxAge time.Duration
	// Rand answers a number in [0,1) for the jitter; nil uses math/rand.
	Rand func() float64
}

// Default retry schedule: waits of 15 s, 30 s, 1 min … up to an hour, for
// 26 hours (a day and a margin).
const (
	DefaultBackoffBase = 15 * time.Second
	DefaultBackoffMax  = time.Hour
	DefaultMaxAge      = 26 * time.Hour
)

// Delay is the wait before retry n (1 for the first retry).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d/2 + time.Duration(b.Rand()*float64(d/2))
}

// Dispatcher routes events to deliveries and delivers them.
type Dispatcher struct {
	opt     Options
	token   string
	metrics *metrics
	mu      sync.Mutex
	targets map[string]map[string]Target // site -> target name -> target
	groups  map[string]bool              // sites whose group exists
}

// New returns a Dispatcher; Run starts it.
func New(opt Options) (*Dispatcher, error) {
	if opt.Redis == nil || opt.Config == nil {
		return nil, errors.New("outbound.New: Redis and Config are required")
	}
	if opt.Clock == nil {
		opt.Clock = store.SystemClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Targets == nil {
		opt.Targets = TargetsWith(TargetOptions{Clock: opt.Clock, ChatRecord: opt.ChatRecord})
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Poll <= 0 {
		opt.Poll = 250 * time.Millisecond
	}
	if opt.RouteLease <= 0 {
		opt.RouteLease = 30 * time.Second
	}
	b := &opt.Backoff
	if b.Base <= 0 {
		b.Base = DefaultBackoffBase
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.MaxAge <= 0 {
		b.MaxAge = DefaultMaxAge
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	var tok [8]byte
	if _, err := crand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("outbound.New: token: %w", err)
	}
	d := &Dispatcher{opt: opt, token: hex.EncodeToString(tok[:]), targets: map[string]map[string]Target{}, groups: map[string]bool{}}
	if d.opt.Name == "" {
		d.opt.Name = "c-" + d.token
	}
	m, err := newMetrics(opt.Registry)
	if err != nil {
		return nil, fmt.Errorf("outbound.New: %w", err)
	}
	d.metrics = m
	for _, name := range opt.Config.SiteNames() {
		st := opt.Config.Site(name)
		if !Active(st) {
			continue
		}
		ts := map[string]Target{}
		for _, t := range opt.Targets(st) {
			ts[t.Name()] = t
		}
		d.targets[name] = ts
	}
	return d, nil
}

// Run routes and delivers until ctx ends, then waits for the deliveries
// under way (each bounded by Timeout). It looks again as soon as an
// attempt finishes, and every Poll when idle.
func (d *Dispatcher) Run(ctx context.Context) {
	slots := make(chan struct{}, d.opt.Concurrency)
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		busy := false
		for _, site := range d.sites() {
			n, err := d.Route(ctx, site, 100)
			if err != nil && ctx.Err() == nil {
				d.opt.Log.Warn("outbound: route", "site", site, "err", err)
			}
			busy = busy || n > 0
			free := cap(slots) - len(slots)
			if free == 0 {
				continue
			}
			claimed, err := d.claim(ctx, site, free)
			if err != nil && ctx.Err() == nil {
				d.opt.Log.Warn("outbound: claim", "site", site, "err", err)
			}
			for _, g := range d.batchesOf(site, claimed) {
				busy = true
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.attemptGroup(context.WithoutCancel(ctx), site, g)
					<-slots
					select {
					case freed <- struct{}{}:
					default:
					}
				}()
			}
		}
		if busy && len(slots) < cap(slots) {
			continue
		}
		timer := time.NewTimer(d.opt.Poll)
		select {
		case <-ctx.Done():
		case <-freed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// sites are the sites that send anything out, in order.
func (d *Dispatcher) sites() []string {
	var out []string
	for _, name := range d.opt.Config.SiteNames() {
		if d.targets[name] != nil {
			out = append(out, name)
		}
	}
	return out
}

// routeLockScript takes or keeps the right to route a site's stream.
// KEYS: the lock. ARGV: token, lease (ms). Returns 1 when this token holds
// it.
var routeLockScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`)

// Route moves up to count of the site's stream entries into deliveries,
// first those a stopped collector had read but not routed, then new ones,
// and answers how many it routed. Only the collector holding the site's
// routing lease routes (others answer 0), so entries are routed in the
// order they were added.
func (d *Dispatcher) Route(ctx context.Context, site string, count int64) (int, error) {
	stream := store.OutboundEvents(site)
	held, err := routeLockScript.Run(ctx, d.opt.Redis, []string{store.OutboundRouter(site)}, d.token, d.opt.RouteLease.Milliseconds()).Int()
	if err != nil {
		return 0, fmt.Errorf("route %s: lease: %w", site, err)
	}
	if held != 1 {
		return 0, nil
	}
	if err := d.ensureGroup(ctx, site); err != nil {
		return 0, err
	}
	msgs, _, err := d.opt.Redis.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: stream, Group: group, Consumer: d.opt.Name, MinIdle: 0, Start: "0-0", Count: count,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, d.groupLost(site, fmt.Errorf("route %s: claim: %w", site, err))
	}
	if len(msgs) == 0 {
		res, err := d.opt.Redis.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: d.opt.Name, Streams: []string{stream, ">"}, Count: count, Block: -1,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, d.groupLost(site, fmt.Errorf("route %s: read: %w", site, err))
		}
		for _, r := range res {
			msgs = append(msgs, r.Messages...)
		}
	}
	var calls []routeCall
	for _, m := range msgs {
		c, err := d.routeOne(ctx, site, m)
		if err != nil {
			// What was prepared goes; the entry that failed stays pending
			// and is routed at the next round.
			if rerr := d.runRoutes(ctx, site, calls); rerr != nil {
				return 0, errors.Join(err, rerr)
			}
			return 0, err
		}
		calls = append(calls, c...)
	}
	if err := d.runRoutes(ctx, site, calls); err != nil {
		return 0, err
	}
	return len(msgs), nil
}

// ensureGroup creates the site's consumer group once (and again after a
// Redis that lost it).
func (d *Dispatcher) ensureGroup(ctx context.Context, site string) error {
	d.mu.Lock()
	ok := d.groups[site]
	d.mu.Unlock()
	if ok {
		return nil
	}
	err := d.opt.Redis.XGroupCreateMkStream(ctx, store.OutboundEvents(site), group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("route %s: create group: %w", site, err)
	}
	d.mu.Lock()
	d.groups[site] = true
	d.mu.Unlock()
	return nil
}

// groupLost forgets that the group exists when Redis says it does not, so
// the next round creates it again.
func (d *Dispatcher) groupLost(site string, err error) error {
	if strings.Contains(err.Error(), "NOGROUP") {
		d.mu.Lock()
		delete(d.groups, site)
		d.mu.Unlock()
	}
	return err
}

// envelope is the JSON every delivery carries, and the body of a webhook.
type envelope struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Site string          `json:"site"`
	Time string          `json:"time"`
	Data json.RawMessage `json:"data"`
}

// routeCall is one run of routeScript.
type routeCall struct {
	keys []string
	args []any
}

// routeOne prepares the calls that route one stream entry: the entry's
// event and the events it implies for the chat's sessions (a conversation
// that began closes the session before it; a business event may convert
// one), in the order a receiver should see them. The last call
// acknowledges the entry.
func (d *Dispatcher) routeOne(ctx context.Context, site string, m redis.XMessage) ([]routeCall, error) {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	ev := Event{ID: str("id"), Type: str("type"), Site: site, Chat: str("chat"), Data: json.RawMessage(str("data"))}
	t, err := strconv.ParseInt(str("time"), 10, 64)
	if err != nil || ev.ID == "" || !json.Valid(ev.Data) {
		d.opt.Log.Error("outbound: unreadable stream entry dropped", "site", site, "entry", m.ID)
		return []routeCall{d.routeCall(ctx, site, m.ID, nil, false, false)}, nil
	}
	ev.Time = time.UnixMilli(t).UTC()
	confirmed := false
	if ev.Type == TypeChatAttributed && d.opt.ChatRecord != nil {
		rec, err := d.opt.ChatRecord(ctx, site, ev.Chat)
		switch {
		case err == nil && rec != nil:
			ev.Data = rec
			var c struct {
				Confirmed bool `json:"confirmed"`
			}
			if json.Unmarshal(rec, &c) == nil {
				confirmed = c.Confirmed
			}
		case err != nil:
			return nil, fmt.Errorf("route %s: chat record %s: %w", site, ev.Chat, err)
		}
	}
	// The sessions are read as they stand now, which may be ahead of this
	// entry: what happened after it (a session closed by a later
	// conversation, a conversion by a later event) waits for the entry of
	// its own fact, so that the chat's events keep their order. A
	// conversation's entry brings the closings up to its time, before it;
	// an event's entry the conversions and closings up to its time, after
	// it. (A conversion that a late-delivered conversation gives an
	// earlier event goes with the chat's next event.)
	var before, after []Event
	if (ev.Type == TypeConversationStarted || ev.Type == TypeEventReceived) && d.opt.Sessions != nil && d.wantsSessions(site) {
		ss, err := d.opt.Sessions(ctx, site, ev.Chat)
		if err != nil {
			return nil, fmt.Errorf("route %s: sessions of %s: %w", site, ev.Chat, err)
		}
		all, err := sessionEvents(d.opt.Config.Site(site), ev.Chat, ss, d.opt.Clock.Now())
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", site, err)
		}
		for _, e := range all {
			switch {
			case e.Type == TypeSessionClosed && !e.Time.After(ev.Time) && ev.Type == TypeConversationStarted:
				before = append(before, e)
			case ev.Type == TypeEventReceived && !e.Time.After(ev.Time):
				after = append(after, e)
			}
		}
	}
	var calls []routeCall
	for i := range before {
		calls = append(calls, d.routeCall(ctx, site, "", &before[i], false, true))
	}
	calls = append(calls, d.routeCall(ctx, site, "", &ev, confirmed, false))
	for i := range after {
		calls = append(calls, d.routeCall(ctx, site, "", &after[i], false, true))
	}
	// The entry is acknowledged last, with everything it brought routed.
	return append(calls, d.routeCall(ctx, site, m.ID, nil, false, false)), nil
}

// wantsSessions tells whether any of the site's targets takes session
// events, which are worth a read of the chat's sessions.
func (d *Dispatcher) wantsSessions(site string) bool {
	for _, tg := range d.targets[site] {
		if tg.Wants(TypeSessionConverted) || tg.Wants(TypeSessionClosed) {
			return true
		}
	}
	return false
}

// routeCall prepares one run of routeScript: ev's deliveries (none when ev
// is nil), and the acknowledgement of stream entry entry (none when "").
// A derived event (not from the stream) is routed only the first time its
// marker is set.
func (d *Dispatcher) routeCall(ctx context.Context, site, entry string, ev *Event, confirmed, derived bool) routeCall {
	now := d.opt.Clock.Now()
	st := d.opt.Config.Site(site)
	marker := store.OutboundEvents(site) // a key of the slot; unused
	check := 0
	if derived {
		marker, check = store.OutboundEventSeen(site, ev.ID), 1
	}
	keys := []string{store.OutboundEvents(site), store.OutboundDue(site), store.OutboundIndex(site), marker}
	args := []any{group, entry, now.UnixMilli(), now.Add(-keepFor(st)).UnixMilli(), "", "", "", 0, check, int64(keepFor(st) / time.Second)}
	if ev == nil {
		return routeCall{keys: keys, args: args}
	}
	body, err := json.Marshal(envelope{ID: ev.ID, Type: ev.Type, Site: site, Time: ev.Time.Format(time.RFC3339Nano), Data: ev.Data})
	if err != nil {
		// Data is valid JSON, so this cannot fail; the event goes nowhere.
		d.opt.Log.Error("outbound: event unencodable", "site", site, "event", ev.ID, "err", err)
		return routeCall{keys: keys, args: args}
	}
	args[4], args[5], args[6], args[7] = string(body), ev.ID, ev.Chat, ev.Time.UnixMilli()
	for _, name := range sortedTargets(d.targets[site]) {
		tg := d.targets[site][name]
		typ := ev.Type
		if confirmed && tg.Wants(TypeChatConfirmed) && !tg.Wants(TypeChatAttributed) {
			typ = TypeChatConfirmed
		}
		if !tg.Wants(typ) {
			continue
		}
		if f, ok := tg.(Filter); ok && !f.Accepts(ctx, ev) {
			continue
		}
		id := ev.ID + "." + name
		lane := store.OutboundLaneName(name, ev.Chat)
		keys = append(keys, store.OutboundDelivery(site, id), store.OutboundLane(site, lane))
		args = append(args, id, lane, name, typ)
	}
	return routeCall{keys: keys, args: args}
}

// runRoutes runs the calls in order in one pipeline.
func (d *Dispatcher) runRoutes(ctx context.Context, site string, calls []routeCall) error {
	if len(calls) == 0 {
		return nil
	}
	for try := 0; ; try++ {
		pipe := d.opt.Redis.Pipeline()
		for _, c := range calls {
			routeScript.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		_, err := pipe.Exec(ctx)
		if err == nil {
			return nil
		}
		if try > 0 || !strings.Contains(err.Error(), "NOSCRIPT") {
			return fmt.Errorf("route %s: %w", site, err)
		}
		// Routing twice is safe: a delivery already made is left alone
		// and an entry already acknowledged is gone.
		if err := routeScript.Load(ctx, d.opt.Redis).Err(); err != nil {
			return fmt.Errorf("route %s: load script: %w", site, err)
		}
	}
}

// Delivery is one event on its way to one target.
type Delivery struct {
	Site     string
	ID       string
	Lane     string
	Type     string
	Event    string
	Target   string
	Chat     string
	Time     time.Time
	Created  time.Time
	Body     []byte
	Attempts int
}

func (d *Dispatcher) claim(ctx context.Context, site string, limit int) ([]Delivery, error) {
	now := d.opt.Clock.Now()
	lease := now.Add(d.opt.Timeout + 30*time.Second)
	rows, err := claimScript.Run(ctx, d.opt.Redis, []string{store.OutboundDue(site), store.OutboundLeases(site)},
		now.UnixMilli(), lease.UnixMilli(), d.token, limit, store.OutboundLanePrefix(site), store.OutboundDelivery(site, "")).Slice()
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", site, err)
	}
	out := make([]Delivery, 0, len(rows))
	for _, r := range rows {
		f, _ := r.([]any)
		if len(f) != 10 {
			return nil, fmt.Errorf("claim %s: unexpected reply %v", site, r)
		}
		s := func(i int) string { v, _ := f[i].(string); return v }
		n := func(i int) int64 { v, _ := strconv.ParseInt(s(i), 10, 64); return v }
		out = append(out, Delivery{
			Site: site, Lane: s(0), ID: s(1), Type: s(2), Event: s(3), Target: s(4), Chat: s(5),
			Time: time.UnixMilli(n(6)).UTC(), Created: time.UnixMilli(n(7)).UTC(), Body: []byte(s(8)), Attempts: int(n(9)),
		})
	}
	return out, nil
}

// attempt delivers one claimed delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, site string, dl Delivery) {
	d.attemptGroup(ctx, site, []Delivery{dl})
}

// batchesOf splits claimed deliveries into what one attempt sends: a batch
// target's deliveries together (at most its batch size), any other's one
// by one.
func (d *Dispatcher) batchesOf(site string, claimed []Delivery) [][]Delivery {
	var out [][]Delivery
	batches := map[string]int{} // target -> index in out of its open batch
	for _, c := range claimed {
		bt, ok := d.targets[site][c.Target].(BatchTarget)
		if !ok {
			out = append(out, []Delivery{c})
			continue
		}
		i, open := batches[c.Target]
		if !open || len(out[i]) >= bt.BatchSize() {
			out = append(out, nil)
			i = len(out) - 1
			batches[c.Target] = i
		}
		out[i] = append(out[i], c)
	}
	return out
}

// attemptGroup sends a group (one delivery, or a batch for one target)
// and records the outcome of each.
func (d *Dispatcher) attemptGroup(ctx context.Context, site string, group []Delivery) {
	tg := d.targets[site][group[0].Target]
	start := time.Now()
	results := make([]Result, len(group))
	actx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	switch t := tg.(type) {
	case nil:
		for i := range results {
			results[i] = Result{Err: &PermanentError{Reason: fmt.Sprintf("target %q is no longer configured", group[0].Target)}}
		}
	case BatchTarget:
		ptrs := make([]*Delivery, len(group))
		for i := range group {
			ptrs[i] = &group[i]
		}
		rs := t.SendBatch(actx, ptrs)
		for i := range results {
			if i < len(rs) {
				results[i] = rs[i]
			} else {
				results[i] = Result{Err: fmt.Errorf("target %s answered no result for a batched delivery", group[0].Target)}
			}
		}
	default:
		results[0] = t.Send(actx, &group[0])
	}
	cancel()
	elapsed := time.Since(start)
	for i, dl := range group {
		d.record(ctx, site, dl, results[i], elapsed)
	}
}

// record stores one delivery's outcome: delivered, retried after a
// backoff, or dead.
func (d *Dispatcher) record(ctx context.Context, site string, dl Delivery, res Result, elapsed time.Duration) {
	st := d.opt.Config.Site(site)
	now := d.opt.Clock.Now()
	dl.Attempts++
	outcome, next, errText := "delivered", now, ""
	var perm *PermanentError
	d.metrics.age.WithLabelValues(site, dl.Target).Observe(now.Sub(dl.Created).Seconds())
	switch {
	case res.Err == nil:
		errText = res.Note
		d.metrics.delivered.WithLabelValues(site, dl.Target).Inc()
		d.metrics.latency.WithLabelValues(site, dl.Target).Observe(elapsed.Seconds())
	case errors.As(res.Err, &perm) || now.Sub(dl.Created) >= d.opt.Backoff.MaxAge:
		outcome, errText = "dead", res.Err.Error()
		d.metrics.dead.WithLabelValues(site, dl.Target).Inc()
		d.opt.Log.Warn("outbound: delivery dead", "site", site, "target", dl.Target, "delivery", dl.ID, "attempts", dl.Attempts, "err", res.Err)
	default:
		outcome, errText = "retry", res.Err.Error()
		next = now.Add(d.opt.Backoff.Delay(dl.Attempts))
		d.metrics.retried.WithLabelValues(site, dl.Target).Inc()
	}
	keys := []string{store.OutboundDue(site), store.OutboundLeases(site), store.OutboundLane(site, dl.Lane),
		store.OutboundDelivery(site, dl.ID), store.OutboundDead(site)}
	err := finishScript.Run(ctx, d.opt.Redis, keys, d.token, dl.Lane, dl.ID, outcome, now.UnixMilli(), next.UnixMilli(),
		clip(errText, 500), res.Status, int64(keepFor(st)/time.Second), dl.Attempts, now.Add(-keepFor(st)).UnixMilli()).Err()
	if err != nil {
		// The lease runs out and the delivery is attempted again: at
		// least once.
		d.opt.Log.Warn("outbound: record outcome", "site", site, "delivery", dl.ID, "err", err)
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Result is what one attempt came to.
type Result struct {
	// Status is the HTTP status answered, 0 when none was.
	Status int
	// Err is nil on success; a *PermanentError sends the delivery to the
	// dead letters at once, any other error is retried.
	Err error
	// Note says why a success sent nothing (an event the platform cannot
	// take, such as one older than it accepts); it is listed with the
	// delivery.
	Note string
}

// PermanentError is a failure that no retry can mend (a rejected token, an
// event the platform refuses).
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return e.Reason }

// Target is one place deliveries go.
type Target interface {
	// Name identifies the target in keys, metrics and listings:
	// [a-z0-9_-].
	Name() string
	// Wants tells whether events of the type go to the target.
	Wants(typ string) bool
	// Send makes one attempt.
	Send(ctx context.Context, d *Delivery) Result
}

// BatchTarget is a target that takes several deliveries in one request;
// the request's outcome is each one's.
type BatchTarget interface {
	Target
	BatchSize() int
	// SendBatch answers one result per delivery, in order.
	SendBatch(ctx context.Context, ds []*Delivery) []Result
}

// Filter is a target that takes only some events of the types it wants
// (a chat from an ad, a visit with an analytics client ID); it is asked at
// routing, with the event's data, and may look things up (an error to look
// up counts as taking the event, which then fails or is reported at
// sending).
type Filter interface {
	Accepts(ctx context.Context, ev *Event) bool
}

func sortedTargets(m map[string]Target) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slicesSort(out)
	return out
}

// Step runs one round for every site and waits for it: it routes every new
// event, then makes the attempts that are due (up to Concurrency per site)
// in parallel. It answers how many attempts it made.
func (d *Dispatcher) Step(ctx context.Context) (int, error) {
	total := 0
	var errs []error
	for _, site := range d.sites() {
		for {
			n, err := d.Route(ctx, site, 100)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if n == 0 {
				break
			}
		}
		claimed, err := d.claim(ctx, site, d.opt.Concurrency)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var wg sync.WaitGroup
		for _, g := range d.batchesOf(site, claimed) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.attemptGroup(ctx, site, g)
			}()
		}
		wg.Wait()
		total += len(claimed)
	}
	return total, errors.Join(errs...)
}
