package ids

// Near-codes: what is left of a code a person edited. Find reports only
// codes whose check symbols verify, so an edited code is never matched.
// FindNear reports the runs that look like this site's codes and fail their
// check, so that how often codes come back edited can be counted. A near
// code is never a match: it is evidence for a report, and its Guess (the
// code one change away) only says which visit the report may count it for
// once the caller has confirmed that visit independently (it lives and
// clicked the chat the message came to).

// Near is a code-shaped run of text that fails its check: an edited,
// truncated or lengthened code, or by chance a word of the same shape.
type Near struct {
	Format     Format
	Start, End int
	// Guess is the number of the code one edit away (one symbol changed,
	// or two neighbours swapped), 0 when there is none. Every word of the
	// right length is one change away from about a quarter of the code
	// space, so a guess means something only for a visit the caller knows
	// clicked; it never makes a match.
	Guess uint64
}

// What FindNear takes for a token: '#' then 5..9 symbols of the alphabet,
// a code's length give or take one, starting with a letter. Shape alone
// is weak evidence (hashtags and ticket numbers have it, see
// TestNearFalsePositiveRate): callers count a near-code as an edited code
// only with more (collector/codes: the template's words in front of it, or
// a guess naming a visit that clicked).
const (
	nearTokenMin = findTokenMin - 1
	nearTokenMax = findTokenMax + 1
	nearEmojiMin = findEmojiMin - 1
	nearEmojiMax = findEmojiMax + 1
	// An invisible run of at least this many digits is a damaged code: no
	// text has runs of these characters by itself.
	nearInvisibleMin = 4
)

// FindNear returns the near-codes in text, in order of position, leaving
// out the codes Find reports and anything inside them.
func (c *Codec) FindNear(text string) []Near {
	var out []Near
	found := c.Find(text)
	inFound := func(i, j int) bool {
		for _, f := range found {
			if i < f.End && j > f.Start {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(text); {
		var n Near
		var ok bool
		next := i + 1
		switch text[i] {
		case '#':
			n, next, ok = c.nearToken(text, i)
		case 0xE2:
			n, next, ok = c.nearInvisible(text, i)
		case 0xF0:
			n, next, ok = c.nearEmoji(text, i)
		case '/':
			n, next, ok = c.nearStart(text, i)
		}
		if ok && !inFound(n.Start, n.End) {
			out = append(out, n)
		}
		i = max(next, i+1)
	}
	return out
}

// nearToken looks at the '#' at text[i].
func (c *Codec) nearToken(text string, i int) (Near, int, bool) {
	j := i + 1
	for j < len(text) && isAlnum(text[j]) {
		j++
	}
	k := j - i - 1
	if k < nearTokenMin || k > nearTokenMax {
		return Near{}, j, false
	}
	var sym [nearTokenMax]uint8
	for t := 0; t < k; t++ {
		v := c.tokenValue[text[i+1+t]]
		if v == noSymbol {
			return Near{}, j, false
		}
		sym[t] = v
	}
	if sym[0] < 10 {
		return Near{}, j, false
	}
	n := Near{Format: Token, Start: i, End: j}
	if k >= findTokenMin && k <= findTokenMax {
		n.Guess = c.guessToken(sym[:k])
	}
	return n, j, true
}

// guessToken returns the number of the token one change from sym, or 0.
func (c *Codec) guessToken(sym []uint8) uint64 {
	t := c.tokenTarget[len(sym)-2]
	try := func(s []uint8) uint64 {
		if n, err := c.tokenNumber(s); err == nil && n <= Cycle {
			return n
		}
		return 0
	}
	var buf [maxTokenLen]uint8
	s := buf[:len(sym)]
	copy(s, sym)
	if gf32.correct(s, t) {
		if n := try(s); n != 0 {
			return n
		}
	}
	for p := 0; p+1 < len(sym); p++ {
		copy(s, sym)
		s[p], s[p+1] = s[p+1], s[p]
		if gf32.valid(s, t) {
			if n := try(s); n != 0 {
				return n
			}
		}
	}
	return 0
}

// nearEmoji reads the run of alphabet emoji at text[i] (with the gaps Find
// allows) and reports it when it has a code's length, give or take one.
func (c *Codec) nearEmoji(text string, i int) (Near, int, bool) {
	var sym [nearEmojiMax + 1]uint8
	cnt, j, end := 0, i, i
	for {
		v, size, ok := c.emojiAt(text, j)
		if !ok {
			break
		}
		if cnt < len(sym) {
			sym[cnt] = v
		}
		cnt++
		j += size
		end = j
		for j < len(text) {
			g := emojiGap(text, j)
			if g == 0 {
				break
			}
			j += g
		}
	}
	if cnt == 0 {
		return Near{}, i + 1, false
	}
	if cnt < nearEmojiMin || cnt > nearEmojiMax {
		return Near{}, end, false
	}
	n := Near{Format: Emoji, Start: i, End: end}
	if cnt >= findEmojiMin && cnt <= findEmojiMax {
		n.Guess = c.guessEmoji(sym[:cnt])
	}
	return n, end, true
}

// guessEmoji returns the number of the emoji code one change from sym, or 0.
func (c *Codec) guessEmoji(sym []uint8) uint64 {
	t := c.emojiTarget[len(sym)-2]
	var buf [maxEmojiLen]uint8
	s := buf[:len(sym)]
	copy(s, sym)
	if gf64.correct(s, t) {
		if n, ok := c.emojiNumber(s); ok && n <= Cycle {
			return n
		}
	}
	for p := 0; p+1 < len(sym); p++ {
		copy(s, sym)
		s[p], s[p+1] = s[p+1], s[p]
		if n, ok := c.emojiNumber(s); ok && n <= Cycle {
			return n
		}
	}
	return 0
}

// nearInvisible reports a run of zero-width digits that is no code.
func (c *Codec) nearInvisible(text string, i int) (Near, int, bool) {
	j := invisibleRunEnd(text, i)
	if j == i {
		return Near{}, i + 1, false
	}
	if (j-i)/3 < nearInvisibleMin {
		return Near{}, j, false
	}
	return Near{Format: Invisible, Start: i, End: j}, j, true
}

// nearStart reports "/start PAYLOAD" at the start of the text whose payload
// has a start payload's shape and fails its MAC.
func (c *Codec) nearStart(text string, i int) (Near, int, bool) {
	if i != 0 {
		return Near{}, i + 1, false
	}
	j := startCommandSize
	if len(text) <= j || text[:j] != startCommand || text[j] != ' ' {
		return Near{}, i + 1, false
	}
	for j < len(text) && text[j] == ' ' {
		j++
	}
	p := j
	for j < len(text) && startValue(text[j]) != noSymbol {
		j++
	}
	if k := j - p; k < 12 || k > 16 {
		return Near{}, j, false
	}
	return Near{Format: Start, Start: p, End: j}, j, true
}
