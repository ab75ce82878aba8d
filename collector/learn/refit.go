package learn

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/store"
)

// RefitResult is what one refit did.
type RefitResult struct {
	// Busy is set when another collector was refitting the site: nothing
	// was done.
	Busy bool `json:"busy,omitempty"`
	// Version and FittedAt are the new model's.
	Version  int       `json:"version"`
	FittedAt time.Time `json:"fitted_at"`
	// Labelled and Unlabelled are the examples read.
	Labelled   int `json:"labelled"`
	Unlabelled int `json:"unlabelled"`
	// Proved is the number of labelled first messages the replaced model
	// was proven on (those that arrived after its fit).
	Proved int `json:"proved"`
}

// unlockScript deletes the lock only when it still holds this refit's
// token: KEYS[1] the lock, ARGV[1] the token. Returns 1 when deleted.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Refit fits the site's model anew on its examples and stores it one
// version up. Before that, the model it replaces is proven on the id
// matches that arrived after that model's fit, which it had never seen
// (operators' confirmations are fitted on, never proven on): their codes hidden, it answers at target as it would have, and
// the counts are added to the site's proof (per messenger and month). The
// first fit starts from today's defaults for the match window (and proves
// nothing). Only one collector refits a site at a time (LearnLock); the
// others get Busy. Reading is bounded: at most MaxExamples per list, batch
// entries per call.
func (s *Store) Refit(ctx context.Context, site string, window time.Duration, target float64) (RefitResult, error) {
	var res RefitResult
	token, err := newToken()
	if err != nil {
		return res, fmt.Errorf("learn: refit %s: %w", site, err)
	}
	lock := store.LearnLock(site)
	ok, err := s.rdb.SetNX(ctx, lock, token, LockTTL).Result()
	if err != nil {
		return res, fmt.Errorf("learn: refit %s: lock: %w", site, err)
	}
	if !ok {
		res.Busy = true
		return res, nil
	}
	defer func() {
		// A lock left behind expires with LockTTL; its failure to go is
		// not the fit's.
		_ = unlockScript.Run(context.WithoutCancel(ctx), s.rdb, []string{lock}, token).Err()
	}()
	prev, _, err := s.loadModel(ctx, site)
	if err != nil {
		return res, fmt.Errorf("learn: refit %s: %w", site, err)
	}
	if prev == nil || prev.WindowSeconds != window.Seconds() {
		d := posterior.DefaultModelFor(window)
		if prev != nil {
			d.Version = prev.Version
		}
		prev = &d
	}
	labelled, unlabelled, err := s.examples(ctx, site)
	if err != nil {
		return res, fmt.Errorf("learn: refit %s: %w", site, err)
	}
	if prev.Version > 0 {
		var fresh []posterior.Labelled
		for i := range labelled {
			// An operator's confirmation is no proof: the operator chose among
			// what the matcher showed.
			if !labelled[i].Confirmed && labelled[i].Message.Time.After(prev.FittedAt) {
				fresh = append(fresh, labelled[i])
			}
		}
		res.Proved = len(fresh)
		if len(fresh) > 0 {
			rows := posterior.Prove(*prev, fresh, target, Month)
			if err := s.addProof(ctx, site, rows); err != nil {
				return res, fmt.Errorf("learn: refit %s: %w", site, err)
			}
		}
	}
	next := posterior.Fit(*prev, labelled, unlabelled)
	raw, err := json.Marshal(&next)
	if err != nil {
		return res, fmt.Errorf("learn: refit %s: encode: %w", site, err)
	}
	if err := s.rdb.HSet(ctx, store.LearnModel(site), "version", next.Version, "model", raw,
		"refitted", s.clock.Now().UnixMilli()).Err(); err != nil {
		return res, fmt.Errorf("learn: refit %s: store: %w", site, err)
	}
	s.remember(site, &next, int64(next.Version), s.clock.Now())
	res.Version, res.FittedAt = next.Version, next.FittedAt
	res.Labelled, res.Unlabelled = len(labelled), len(unlabelled)
	return res, nil
}

// RefittedAt is when the site's stored model was last refitted, by the
// refitting collector's clock; the zero time when there is no model or it
// was stored without that time (then it is due for a refit).
func (s *Store) RefittedAt(ctx context.Context, site string) (time.Time, error) {
	ms, err := s.rdb.HGet(ctx, store.LearnModel(site), "refitted").Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("learn: refit time of %s: %w", site, err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// Month is the proof's period of a message: its UTC month, "2006-01".
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

func newToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// examples reads every messenger's examples, oldest first.
func (s *Store) examples(ctx context.Context, site string) ([]posterior.Labelled, []posterior.Unlabelled, error) {
	ms, err := s.rdb.SMembers(ctx, store.LearnMessengers(site)).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("messengers: %w", err)
	}
	slices.Sort(ms)
	var labelled []posterior.Labelled
	var unlabelled []posterior.Unlabelled
	for _, m := range ms {
		if labelled, err = readList(ctx, s.rdb, store.LearnLabelled(site, m), labelled); err != nil {
			return nil, nil, err
		}
		if unlabelled, err = readList(ctx, s.rdb, store.LearnUnlabelled(site, m), unlabelled); err != nil {
			return nil, nil, err
		}
	}
	slices.SortStableFunc(labelled, func(a, b posterior.Labelled) int { return a.Message.Time.Compare(b.Message.Time) })
	slices.SortStableFunc(unlabelled, func(a, b posterior.Unlabelled) int { return a.Message.Time.Compare(b.Message.Time) })
	return labelled, unlabelled, nil
}

// readList appends a list's JSON entries to out, batch entries a call, at
// most MaxExamples. An entry that does not decode is skipped: one bad
// example must not stop the site's learning.
func readList[T any](ctx context.Context, rdb redis.UniversalClient, key string, out []T) ([]T, error) {
	for from := int64(0); from < MaxExamples; from += batch {
		vals, err := rdb.LRange(ctx, key, from, min(from+batch, MaxExamples)-1).Result()
		if err != nil {
			return out, fmt.Errorf("read %s: %w", key, err)
		}
		for _, v := range vals {
			var x T
			if json.Unmarshal([]byte(v), &x) == nil {
				out = append(out, x)
			}
		}
		if len(vals) < batch {
			break
		}
	}
	return out, nil
}

// Proof is a site's live proof: per messenger and month, what the fitted
// models would have answered on the labelled first messages that arrived
// after their fits, with the codes hidden.
type Proof struct {
	Rows []posterior.ProofRow `json:"rows"`
}

// LoadProof reads the site's proof; empty when nothing was proven yet.
func (s *Store) LoadProof(ctx context.Context, site string) (Proof, error) {
	var p Proof
	raw, err := s.rdb.Get(ctx, store.LearnProof(site)).Bytes()
	if errors.Is(err, redis.Nil) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("learn: load proof: %w", err)
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("learn: load proof: %w", err)
	}
	return p, nil
}

// addProof adds rows to the stored proof. It runs under the refit lock,
// so nobody writes the proof in between.
func (s *Store) addProof(ctx context.Context, site string, rows []posterior.ProofRow) error {
	p, err := s.LoadProof(ctx, site)
	if err != nil {
		return err
	}
	p.Rows = MergeRows(p.Rows, rows)
	raw, err := json.Marshal(&p)
	if err != nil {
		return fmt.Errorf("proof: encode: %w", err)
	}
	if err := s.rdb.Set(ctx, store.LearnProof(site), raw, 0).Err(); err != nil {
		return fmt.Errorf("proof: store: %w", err)
	}
	return nil
}

// MergeRows adds the counts of rows into into, row by messenger and
// period, and recomputes the intervals; the result is sorted by messenger
// then period.
func MergeRows(into, rows []posterior.ProofRow) []posterior.ProofRow {
	for _, r := range rows {
		i := slices.IndexFunc(into, func(x posterior.ProofRow) bool { return x.Messenger == r.Messenger && x.Period == r.Period })
		if i < 0 {
			into = append(into, r)
			continue
		}
		into[i] = addRow(into[i], r)
	}
	slices.SortFunc(into, func(a, b posterior.ProofRow) int {
		return cmp.Or(cmp.Compare(a.Messenger, b.Messenger), cmp.Compare(a.Period, b.Period))
	})
	return into
}

// Total adds up a messenger's rows over all periods into one row of
// period "all".
func Total(rows []posterior.ProofRow, messenger string) posterior.ProofRow {
	t := posterior.ProofRow{Messenger: messenger, Period: "all"}
	for _, r := range rows {
		if r.Messenger == messenger {
			t = addRow(t, r)
		}
	}
	t.Precision = posterior.Proportion(t.Correct, t.Answered)
	t.Recall = posterior.Proportion(t.Correct, t.Messages)
	return t
}

// addRow is a + b: counts added, mean confidences weighted by their
// counts, intervals recomputed.
func addRow(a, b posterior.ProofRow) posterior.ProofRow {
	a.Messages += b.Messages
	a.Answered += b.Answered
	a.Correct += b.Correct
	a.Precision = posterior.Proportion(a.Correct, a.Answered)
	a.Recall = posterior.Proportion(a.Correct, a.Messages)
	if len(a.Reliability) == 0 {
		a.Reliability = slices.Clone(b.Reliability)
		return a
	}
	for i := range min(len(a.Reliability), len(b.Reliability)) {
		x, y := &a.Reliability[i], b.Reliability[i]
		if n := x.Answered + y.Answered; n > 0 {
			x.MeanConfidence = (x.MeanConfidence*float64(x.Answered) + y.MeanConfidence*float64(y.Answered)) / float64(n)
		}
		x.Answered += y.Answered
		x.Correct += y.Correct
	}
	return a
}
