package reports

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// The code-survival report: for the chat clicks of visits and the first
// messages of conversations, whether the visit's code came back kept,
// edited or deleted, per code format, message template, language, device,
// channel and page, with the time from click to first message.

// The outcomes of a conversation's first message.
const (
	// CodeKept: the code came back and checked; the chat matched by it.
	CodeKept = "kept"
	// CodeEdited: a code-shaped run that fails its check came back (counted,
	// never matched), linked to its visit by the template's words, the
	// heuristic or an operator.
	CodeEdited = "edited"
	// CodeDeleted: no code, but the heuristic or an operator linked the
	// chat to a clicked visit.
	CodeDeleted = "deleted"
	// CodeUnlinked: a first message linked to no visit (no code, or an
	// edited code whose visit is unknown); counted under its format only.
	CodeUnlinked = "unlinked"
)

// CodeDims are what a click or a first message is counted under.
type CodeDims struct {
	Format, Template, Language, Device, Channel, Page string
}

// codeDims are the dimensions in report order: key, stored short name,
// the member from the dims.
var codeDims = []struct {
	Key, Short string
	Of         func(*CodeDims) string
}{
	{Key: "format", Short: "f", Of: func(d *CodeDims) string { return d.Format }},
	{Key: "template", Short: "t", Of: func(d *CodeDims) string { return d.Template }},
	{Key: "language", Short: "l", Of: func(d *CodeDims) string { return d.Language }},
	{Key: "device", Short: "d", Of: func(d *CodeDims) string { return d.Device }},
	{Key: "channel", Short: "c", Of: func(d *CodeDims) string { return d.Channel }},
	{Key: "page", Short: "p", Of: func(d *CodeDims) string { return d.Page }},
}

// Stored is d with each member as RecordCodes stores it (a page without
// its query string, cleaned text, "(none)" for an empty one): counting
// Stored() counts the same fields as counting d.
func (d CodeDims) Stored() CodeDims {
	return CodeDims{Format: codeMember("f", d.Format), Template: codeMember("t", d.Template), Language: codeMember("l", d.Language),
		Device: codeMember("d", d.Device), Channel: codeMember("c", d.Channel), Page: codeMember("p", d.Page)}
}

// NoTemplate is the template member of clicks whose chat link carries no
// text (a Telegram bot's start link).
const NoTemplate = "(start link)"

// CodeFact is one count for the code-survival report.
type CodeFact struct {
	Site string
	// Time decides the day counted: the click's time, also for the click's
	// first message, so a day's outcomes belong to its clicks.
	Time time.Time
	// Click is a visit's first click on a chat link; otherwise Outcome is
	// the first message's outcome.
	Click   bool
	Outcome string
	Dims    CodeDims
	// Delay is the click-to-message time of a linked first message, when
	// the click is known (HasDelay).
	Delay    time.Duration
	HasDelay bool
	// Undo takes a counted fact back (an operator confirmed another visit,
	// a guess was revoked).
	Undo bool
}

// Delay histogram: bucket i holds times in [2^(i/2), 2^((i+1)/2)) seconds
// (bucket 0 also everything under a second), so each bucket spans a
// factor of √2 and 48 buckets reach 194 days: a bounded sketch whose
// quantiles are within ±19 % before interpolation.
const delayBuckets = 48

func delayBucket(d time.Duration) int {
	s := d.Seconds()
	if s < 1 {
		return 0
	}
	return min(int(math.Floor(2*math.Log2(s))), delayBuckets-1)
}

// bucketBounds are bucket i's bounds in seconds.
func bucketBounds(i int) (lo, hi float64) {
	lo, hi = math.Pow(2, float64(i)/2), math.Pow(2, float64(i+1)/2)
	if i == 0 {
		lo = 0
	}
	return lo, hi
}

// quantile reads the q-quantile off a histogram, interpolating inside its
// bucket (linearly in the first, geometrically in the others); nil when the
// histogram is empty.
func quantile(h *[delayBuckets]int64, q float64) *float64 {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return nil
	}
	rank := q * float64(n)
	var cum float64
	for i, c := range h {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= rank {
			frac := (rank - cum) / float64(c)
			lo, hi := bucketBounds(i)
			v := lo + frac*(hi-lo)
			if lo > 0 {
				v = lo * math.Pow(hi/lo, frac)
			}
			return ptr(round(v, 1))
		}
		cum += float64(c)
	}
	return nil
}

// codePeriods are the periods a day's counts go to: the day, its block,
// its month.
func codePeriods(day string) [3]string {
	block := 1
	if d, _ := strconv.Atoi(day[8:10]); d > 20 {
		block = 3
	} else if d > 10 {
		block = 2
	}
	return [3]string{day, fmt.Sprintf("%s-b%d", day[:7], block), day[:7]}
}

// codeMember is a dimension's member as stored.
func codeMember(dim, v string) string {
	if dim == "p" && v != "" {
		v = pageKey(v)
	}
	v = cleanText(v, 200)
	if v == "" {
		return "(none)"
	}
	return v
}

// RecordCodes counts facts of the code-survival report, each in its day,
// block and month, in one pipeline of HINCRBYs (no script holds Redis).
func (s *Store) RecordCodes(ctx context.Context, facts ...CodeFact) error {
	if len(facts) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range facts {
			f := &facts[i]
			st, err := s.siteConf(f.Site)
			if err != nil {
				return err
			}
			by := int64(1)
			if f.Undo {
				by = -1
			}
			var fields []string
			for _, d := range codeDims {
				m := codeMember(d.Short, d.Of(&f.Dims))
				switch {
				case f.Click:
					fields = append(fields, d.Short+":k:"+m)
				case f.Outcome == CodeUnlinked:
					if d.Short == "f" {
						fields = append(fields, d.Short+":ul:"+m)
					}
				default:
					metric := map[string]string{CodeKept: "kp", CodeEdited: "ed", CodeDeleted: "dl"}[f.Outcome]
					if metric == "" {
						return fmt.Errorf("RecordCodes: unknown outcome %q", f.Outcome)
					}
					fields = append(fields, d.Short+":"+metric+":"+m)
					if f.HasDelay {
						fields = append(fields, d.Short+":h"+strconv.Itoa(delayBucket(f.Delay))+":"+m)
					}
				}
			}
			for _, period := range codePeriods(Day(st, f.Time)) {
				key := store.ReportCodes(f.Site, period)
				for _, field := range fields {
					p.HIncrBy(ctx, key, field, by)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reports.RecordCodes: %w", err)
	}
	return nil
}

// CodeRow is one member of one dimension of the code-survival report.
type CodeRow struct {
	Dimension string `json:"dimension"`
	Value     string `json:"value"`
	// Label is the template's text for template rows.
	Label string `json:"label,omitempty"`
	// Clicks are visits' first chat clicks; Chats the first messages
	// linked to one of them (Kept + Edited + Deleted); NoChat the clicks no
	// linked chat followed.
	Clicks   int64 `json:"clicks"`
	Chats    int64 `json:"chats"`
	Kept     int64 `json:"kept"`
	Edited   int64 `json:"edited"`
	Deleted  int64 `json:"deleted"`
	NoChat   int64 `json:"no_chat"`
	Unlinked int64 `json:"unlinked"`
	// Survival is Kept / Chats with its 95 % Wilson interval.
	Survival     *float64 `json:"survival"`
	SurvivalLow  *float64 `json:"survival_low"`
	SurvivalHigh *float64 `json:"survival_high"`
	// MedianSeconds and P90Seconds are click-to-first-message times.
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`

	hist [delayBuckets]int64
}

// CodesReport is the code-survival report.
type CodesReport struct {
	Site  string    `json:"site"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Rows  []CodeRow `json:"rows"`
	Notes Notes     `json:"notes"`
}

// Codes reads the code-survival report over r.
func (s *Store) Codes(ctx context.Context, site string, r Range) (*CodesReport, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, p := range periods(r) {
		keys = append(keys, store.ReportCodes(site, p))
	}
	hs, err := s.hgetall(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("reports.Codes: %w", err)
	}
	rows := map[[2]string]*CodeRow{}
	for _, h := range hs {
		for field, val := range h {
			parts := strings.SplitN(field, ":", 3)
			if len(parts) != 3 {
				continue
			}
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				continue
			}
			k := [2]string{parts[0], parts[2]}
			row := rows[k]
			if row == nil {
				row = &CodeRow{Value: parts[2]}
				rows[k] = row
			}
			switch m := parts[1]; m {
			case "k":
				row.Clicks += n
			case "kp":
				row.Kept += n
			case "ed":
				row.Edited += n
			case "dl":
				row.Deleted += n
			case "ul":
				row.Unlinked += n
			default:
				if b, err := strconv.Atoi(strings.TrimPrefix(m, "h")); err == nil && strings.HasPrefix(m, "h") && b >= 0 && b < delayBuckets {
					row.hist[b] += n
				}
			}
		}
	}
	labels := map[string]string{}
	for _, m := range st.Messages {
		labels[m.Key()] = m.Text
	}
	rep := &CodesReport{Site: site, From: r.From, To: r.To, Rows: []CodeRow{}, Notes: Notes{
		"survival":    "kept / chats, with its 95 % Wilson interval; chats are first messages linked to a clicked visit",
		"no_chat":     "clicks no linked chat followed: no message, or a message the matcher could not link",
		"unlinked":    "first messages linked to no visit (no code and no match, or an edited code of unknown visit), by format only",
		"p90_seconds": "click to first message, read off a histogram of √2-wide buckets",
	}}
	for _, d := range codeDims {
		var out []CodeRow
		for k, row := range rows {
			if k[0] != d.Short {
				continue
			}
			row.Dimension = d.Key
			if d.Key == "template" {
				row.Label = labels[row.Value]
				if row.Label == "" && row.Value != NoTemplate {
					row.Label = "(template no longer in the config)"
				}
			}
			finishCodeRow(row)
			out = append(out, *row)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Clicks != out[j].Clicks {
				return out[i].Clicks > out[j].Clicks
			}
			return out[i].Value < out[j].Value
		})
		rep.Rows = append(rep.Rows, out...)
	}
	return rep, nil
}

// finishCodeRow computes a row's derived cells.
func finishCodeRow(row *CodeRow) {
	row.Chats = row.Kept + row.Edited + row.Deleted
	row.NoChat = max(row.Clicks-row.Chats, 0)
	if row.Chats > 0 {
		lo, hi := Wilson(row.Kept, row.Chats)
		row.Survival = ptr(round(float64(row.Kept)/float64(row.Chats), 4))
		row.SurvivalLow, row.SurvivalHigh = ptr(round(lo, 4)), ptr(round(hi, 4))
	}
	row.MedianSeconds = quantile(&row.hist, 0.5)
	row.P90Seconds = quantile(&row.hist, 0.9)
}
