// Package person answers a person's requests about their data: what is kept
// about a chat (Export), and its erasure (Erase), recorded in an audit list
// that holds no personal data. It also enforces the sites' retention
// (Sweep): chats silent for retention.chat_days are erased the same way,
// and history entries older than retention.history_days are trimmed.
//
// An erasure removes the chat's record, history and index entry, the visits
// matched to it (IP, location, device, pages) with their claims, the
// outbound deliveries of its events (collector/outbound's EraseChat), and renames
// the reports' per-chat state to a salted hash, so that every report figure
// stays as it was and a recount counts the same. On a site of one shard it
// runs as one Lua script on the site's slot; on a site of several, in
// ordered steps on the visits' shards, the chat's shard and the site's slot
// (eraseSharded). Either way it is checked against the chat's version like
// every ledger commit, so a message stored meanwhile makes it run again on
// fresh state.
package person

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/outbound"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// auditCap bounds the audit list.
const auditCap = 100000

// ErrUnknownSite is a site the config does not name.
var ErrUnknownSite = errors.New("unknown site")

// Service answers export and erasure requests and sweeps retention.
type Service struct {
	rdb     redis.UniversalClient
	cfg     *config.Config
	reports *reports.Store
	ledger  *ledger.Ledger
	clock   store.Clock
	visitID func(site string, n uint64) string
}

// Options are what a Service needs.
type Options struct {
	Redis   redis.UniversalClient
	Config  *config.Config
	Reports *reports.Store
	Clock   store.Clock
	// VisitID turns a visit number into its code for exports; nil leaves
	// the codes out.
	VisitID func(site string, n uint64) string
}

// New returns a Service. Conversation facts a chat left pending are handed
// to the reports store before its erasure, so they stay counted.
func New(opt Options) *Service {
	if opt.Clock == nil {
		opt.Clock = store.SystemClock{}
	}
	if opt.Reports == nil {
		opt.Reports = reports.New(opt.Redis, opt.Clock, opt.Config)
	}
	l := ledger.New(opt.Redis, opt.Reports.RecordConversation)
	l.SetLayout(Layout(opt.Config))
	return &Service{
		rdb: opt.Redis, cfg: opt.Config, reports: opt.Reports, clock: opt.Clock, visitID: opt.VisitID,
		ledger: l,
	}
}

// Layout is the shards of the config's sites.
func Layout(cfg *config.Config) store.Layout {
	counts := make(map[string]int, len(cfg.Sites))
	for name, st := range cfg.Sites {
		counts[name] = st.Shards
	}
	return store.NewLayout(counts)
}

func (s *Service) site(name string) (*config.Site, error) {
	st := s.cfg.Site(name)
	if st == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownSite, name)
	}
	return st, nil
}

// salt returns the site's salt for person hashes, making it at first use.
func (s *Service) salt(ctx context.Context, site string) ([]byte, error) {
	return outbound.PersonSalt(ctx, s.rdb, site)
}

// Hash is the salted hash that names a chat in the audit list and in the
// reports state kept after its erasure. Someone who holds the Redis data
// and a chat key can recompute it (to show that chat's erasure); it cannot
// be turned back into the chat key. The outbound router names the chat's
// erasure marker by it too.
func (s *Service) Hash(ctx context.Context, site, chat string) (string, error) {
	salt, err := s.salt(ctx, site)
	if err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	return outbound.PersonHash(salt, chat), nil
}

// visitNumbers are the visits the chat's record names: its current visit
// and the visits of its conversation starts.
func visitNumbers(r *ledger.Record) []uint64 {
	if r == nil {
		return nil
	}
	var out []uint64
	seen := map[uint64]bool{}
	add := func(n uint64) {
		if n != 0 && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	add(r.VisitN)
	for _, st := range ledger.StartsOf(r) {
		add(st.VisitN)
	}
	return out
}

// markers are the reports' legacy markers of the chat's unattributed
// conversations (ReportSeen "u", "<chat>@<ms>"), found by a scan of the
// site's keys; only earlier versions wrote them.
func (s *Service) markers(ctx context.Context, site, chat string) ([]string, error) {
	prefix := strings.TrimSuffix(store.ReportSeenPattern(site, "u"), "*")
	pattern := globEscape(store.ReportSeen(site, "u", chat+"@")) + "*"
	var out []string
	err := store.ScanSite(ctx, s.rdb, site, pattern, func(keys []string) error {
		for _, k := range keys {
			if ch, _, ok := strings.Cut(store.Unpart(strings.TrimPrefix(k, prefix)), "@"); ok && ch == chat && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("markers: %w", err)
	}
	return out, nil
}

// globEscape escapes the characters SCAN's MATCH reads as a pattern.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// markerTime is the "@<ms>" of a legacy marker key.
func markerTime(key string) (string, bool) {
	i := strings.LastIndexByte(key, '@')
	if i < 0 {
		return "", false
	}
	ms := key[i+1:]
	if _, err := strconv.ParseInt(ms, 10, 64); err != nil {
		return "", false
	}
	return ms, true
}

// clickTarget reads the target of a visit's last click (store.VisitClick).
func clickTarget(raw string) string {
	var c struct {
		Target string `json:"t"`
	}
	if json.Unmarshal([]byte(raw), &c) != nil {
		return ""
	}
	return c.Target
}
