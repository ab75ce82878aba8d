package posterior

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Smoothing and bounds of the joint evidence.
const (
	// keyStrength is how many labelled examples a message pattern's table
	// is worth in the same-person distribution of each key of that
	// pattern.
	keyStrength = 30
	// otherStrength is how many other clickers the pattern's table is
	// worth in a key's other-clicker distribution.
	otherStrength = 30
	// maxKeys caps the message keys kept per messenger; maxTuples the
	// value tuples of other clickers.
	maxKeys   = 256
	maxTuples = 512
	// evidenceCells is the number of country × offset × language cells.
	evidenceCells = 27
)

// Joint is the evidence learned per message key, the message's own values
// (phone country, phone offsets, language), jointly over the three
// signals. A signal's agreement means different things for different
// values: most clickers of a Russian site agree with a Russian phone and
// almost none with a German one, and a foreigner's country, offset and
// language agree or disagree together. For each key, the likelihood ratio
// of a cell is P(cell | same person, key) / P(cell | another clicker, key):
// the numerator counts the key's labelled examples, shrunk towards its
// pattern's table when they are few; the denominator is how the values of
// other clickers (the joint distribution of their country, offset and
// language, which needs no label) fall against the key.
type Joint struct {
	// Keys are the keys seen in the fit, the most common first up to
	// maxKeys. A key not among them gets its denominator from Others and
	// its numerator from its pattern.
	Keys map[string]*KeyEvidence `json:"keys,omitempty"`
	// Others are the value tuples of other clickers with their counts,
	// the most common maxTuples; OthersN counts all of them.
	Others  []Tuple `json:"other_clickers,omitempty"`
	OthersN float64 `json:"other_clickers_n"`
}

// KeyEvidence is one message key's evidence table over the evidence cells.
type KeyEvidence struct {
	// Labelled is the number of labelled examples of the key; Same their
	// clicks' cells.
	Labelled int       `json:"labelled"`
	Same     []float64 `json:"same"`
	// Other is P(cell | another clicker) for the key.
	Other []float64 `json:"other"`
	LR    []float64 `json:"likelihood_ratio"`
}

// Tuple is one combination of a visit's values.
type Tuple struct {
	Country   string  `json:"country,omitempty"`
	Offset    int     `json:"offset,omitempty"`
	HasOffset bool    `json:"has_offset,omitempty"`
	Language  string  `json:"language,omitempty"`
	Count     float64 `json:"count"`
}

func tupleOf(c *Click) Tuple {
	t := Tuple{Country: strings.ToUpper(c.Country), Language: primaryLanguage(c.Language)}
	if c.HasOffset {
		t.Offset, t.HasOffset = c.Offset, true
	}
	return t
}

func (t *Tuple) click() Click {
	return Click{Country: t.Country, Offset: t.Offset, HasOffset: t.HasOffset, Language: t.Language}
}

// messageKey is a message's values: "COUNTRY|offset,offset|language".
func messageKey(msg *Message) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(msg.PhoneCountry))
	b.WriteByte('|')
	offs := msg.PhoneOffsets
	if len(offs) > 1 {
		offs = slices.Sorted(slices.Values(offs))
	}
	for i, o := range offs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(o))
	}
	b.WriteByte('|')
	b.WriteString(primaryLanguage(msg.Language))
	return b.String()
}

// probs are a table's smoothed cell distributions for the same person and
// another clicker.
func (t *Table) probs() (same, other []float64) {
	var ns, no float64
	for i := range t.Cells {
		ns += t.PriorSame[i] + t.Same[i]
		no += t.PriorOther[i] + t.Other[i]
	}
	same, other = make([]float64, len(t.Cells)), make([]float64, len(t.Cells))
	for i := range t.Cells {
		if ns > 0 {
			same[i] = (t.PriorSame[i] + t.Same[i]) / ns
		}
		if no > 0 {
			other[i] = (t.PriorOther[i] + t.Other[i]) / no
		}
	}
	return same, other
}

// keyEvidence builds a key's table from its labelled cells (same, n
// examples), the pattern's table and the other clickers' tuples.
func keyEvidence(pat *Table, msg *Message, same []float64, n int, tuples []Tuple, total float64) *KeyEvidence {
	ps, po := pat.probs()
	k := &KeyEvidence{Labelled: n, Same: make([]float64, evidenceCells), Other: make([]float64, evidenceCells), LR: make([]float64, evidenceCells)}
	copy(k.Same, same)
	var oc [evidenceCells]float64
	for i := range tuples {
		c := tuples[i].click()
		oc[cellOf(msg, &c)] += tuples[i].Count
	}
	for i := range evidenceCells {
		var pSame, pOther float64
		if i < len(ps) {
			pSame = (k.Same[i] + keyStrength*ps[i]) / (float64(n) + keyStrength)
			pOther = (oc[i] + otherStrength*po[i]) / (total + otherStrength)
		}
		k.Other[i] = pOther
		k.LR[i] = 1
		if pSame > 0 && pOther > 0 {
			k.LR[i] = pSame / pOther
		}
	}
	return k
}

// evidenceLRs is the likelihood ratio per evidence cell for a message: its
// key's table, else one built from the other clickers' values and the
// pattern, else the pattern's; nil when there is none.
func (mm *MessengerModel) evidenceLRs(msg *Message) []float64 {
	p := evidencePattern(msg)
	if p >= len(mm.Evidence) || len(mm.Evidence[p].LR) != evidenceCells {
		return nil
	}
	if len(mm.Joint.Others) == 0 {
		return mm.Evidence[p].LR
	}
	if k := mm.Joint.Keys[messageKey(msg)]; k != nil && len(k.LR) == evidenceCells {
		return k.LR
	}
	return keyEvidence(&mm.Evidence[p], msg, nil, 0, mm.Joint.Others, mm.Joint.OthersN).LR
}

// jointCounter gathers the joint evidence during a fit.
type jointCounter struct {
	keys   map[string]*keyCount
	tuples map[Tuple]float64
	total  float64
}

type keyCount struct {
	msg  Message // an example of the key
	seen int     // labelled and code-less messages of the key
	n    int     // labelled ones
	same [evidenceCells]float64
}

func (jc *jointCounter) key(msg *Message) *keyCount {
	if jc.keys == nil {
		jc.keys, jc.tuples = map[string]*keyCount{}, map[Tuple]float64{}
	}
	k := messageKey(msg)
	kc := jc.keys[k]
	if kc == nil {
		kc = &keyCount{msg: *msg}
		jc.keys[k] = kc
	}
	kc.seen++
	return kc
}

// labelled counts a labelled example: its click's cell for its key, and
// the values of the other candidates.
func (jc *jointCounter) labelled(l *Labelled, others []Click) {
	kc := jc.key(&l.Message)
	kc.n++
	kc.same[cellOf(&l.Message, &l.Clicked)]++
	for i := range others {
		jc.tuples[tupleOf(&others[i])]++
		jc.total++
	}
}

// joint finishes the joint evidence over the fitted pattern tables.
func (jc *jointCounter) joint(patterns []Table) Joint {
	if jc.total == 0 {
		return Joint{}
	}
	tuples := make([]Tuple, 0, len(jc.tuples))
	for t, n := range jc.tuples {
		t.Count = n
		tuples = append(tuples, t)
	}
	slices.SortFunc(tuples, func(a, b Tuple) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Country, b.Country), cmp.Compare(a.Language, b.Language), cmp.Compare(a.Offset, b.Offset), boolCmp(a.HasOffset, b.HasOffset))
	})
	names := sortedKeys(jc.keys)
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(jc.keys[b].seen, jc.keys[a].seen) })
	j := Joint{Keys: map[string]*KeyEvidence{}, OthersN: jc.total}
	for _, name := range names[:min(len(names), maxKeys)] {
		kc := jc.keys[name]
		p := evidencePattern(&kc.msg)
		if p >= len(patterns) {
			continue
		}
		j.Keys[name] = keyEvidence(&patterns[p], &kc.msg, kc.same[:], kc.n, tuples, jc.total)
	}
	j.Others = tuples[:min(len(tuples), maxTuples)]
	return j
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
