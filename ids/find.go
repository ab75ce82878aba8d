package ids

import "strings"

// Found is one code found in a text: its format, the number it carries and
// its byte offsets, text[Start:End]. For a token the range includes the
// '#'; for a start payload it is the payload after "/start ".
type Found struct {
	Format     Format
	N          uint64
	Start, End int
}

// What Find looks for. Find reports only numbers of the code space
// (1..Cycle), the numbers Number hands out; limiting the lengths it tries
// to the ones those numbers have keeps random text from checking by chance.
const (
	findTokenMin     = minDataLen + 2 // "#" + 6..8 symbols
	findTokenMax     = 6 + 2
	findEmojiMin     = minDataLen + 2 // 6..7 emoji
	findEmojiMax     = 5 + 2
	findStartMaxLen  = 64 // Telegram's limit; longer runs are not payloads
	startCommand     = "/start"
	startCommandSize = len(startCommand)
)

// Code returns what goes into the prefilled message for a site's style:
// the token or the emoji code, with the invisible form directly in front of
// it when the style asks for it.
func (c *Codec) Code(n uint64, style CodeStyle) string {
	visible := c.Token(n)
	if style.Visible() == Emoji {
		visible = c.Emoji(n)
	}
	if style.Invisible() {
		return c.Invisible(n) + visible
	}
	return visible
}

// Find returns every code of this site in text, in order of position:
// tokens after a '#', emoji codes (tolerating U+FE0F added or dropped and
// spaces or line breaks between the emoji), invisible runs, and start
// payloads after "/start". A candidate is reported only if its check
// symbols (or, for start payloads, its MAC) verify, so edited, truncated and
// foreign codes are left out. Find returns nil, without allocating, when
// there is nothing.
func (c *Codec) Find(text string) []Found {
	return c.AppendFind(nil, text)
}

// AppendFind is Find appending to dst, for callers that reuse a slice.
func (c *Codec) AppendFind(dst []Found, text string) []Found {
	// Codes can only start at four bytes: '#', '/', and the lead bytes of
	// the zero-width characters (0xE2) and of the alphabet emoji (0xF0).
	// Rather than look at every byte, keep the next position of each from
	// strings.IndexByte, which scans many bytes per instruction, and jump
	// from one to the next.
	const triggers = "#/\xe2\xf0"
	var next [len(triggers)]int
	for k := range next {
		next[k] = indexFrom(text, 0, triggers[k])
	}
	i := 0
	for {
		k := 0
		for t := 1; t < len(next); t++ {
			if next[t] < next[k] {
				k = t
			}
		}
		p := next[k]
		if p >= len(text) {
			return dst
		}
		if p < i { // inside what the last step consumed: look further on
			next[k] = indexFrom(text, i, triggers[k])
			continue
		}
		switch k {
		case 0:
			i = c.findToken(&dst, text, p)
		case 1:
			i = c.findStart(&dst, text, p)
		case 2:
			i = c.findInvisible(&dst, text, p)
		case 3:
			i = c.findEmoji(&dst, text, p)
		}
		// Every step moves past p, so next[k] is refreshed on its turn.
	}
}

// indexFrom is the position of the first b in text at or after i, or
// len(text) if there is none.
func indexFrom(text string, i int, b byte) int {
	j := strings.IndexByte(text[i:], b)
	if j < 0 {
		return len(text)
	}
	return i + j
}

// isAlnum reports ASCII letters and digits: what a token is cut out of.
func isAlnum(b byte) bool {
	return b-'0' < 10 || (b|0x20)-'a' < 26
}

// findToken looks at the '#' at text[i] and returns where to scan next.
func (c *Codec) findToken(dst *[]Found, text string, i int) int {
	j := i + 1
	for j < len(text) && isAlnum(text[j]) {
		j++
	}
	k := j - i - 1
	if k < findTokenMin || k > findTokenMax {
		return max(j, i+1)
	}
	if n, err := c.decodeToken(text[i+1 : j]); err == nil && n <= Cycle {
		*dst = append(*dst, Found{Format: Token, N: n, Start: i, End: j})
	}
	return j
}

// findEmoji reads the run of alphabet emoji starting at text[i] and
// returns where to scan next. Each time an emoji joins the run it tries the
// windows that end there, longest first; after a hit the run starts afresh,
// so a code pasted twice is found twice and extra emoji typed before or
// after a code do not hide it.
func (c *Codec) findEmoji(dst *[]Found, text string, i int) int {
	type symbol struct {
		v          uint8
		start, end int
	}
	var win [findEmojiMax]symbol
	cnt := 0
	j := i
	next := i + 1 // if text[i] is not an alphabet emoji, move on one byte
	for {
		v, size, ok := c.emojiAt(text, j)
		if !ok {
			break
		}
		if cnt == len(win) {
			copy(win[:], win[1:])
			cnt--
		}
		win[cnt] = symbol{v: v, start: j, end: j + size}
		cnt++
		j += size
		next = j
		for l := cnt; l >= findEmojiMin; l-- {
			var sym [findEmojiMax]uint8
			for t := 0; t < l; t++ {
				sym[t] = win[cnt-l+t].v
			}
			if n, ok := c.emojiNumber(sym[:l]); ok && n <= Cycle {
				*dst = append(*dst, Found{Format: Emoji, N: n, Start: win[cnt-l].start, End: win[cnt-1].end})
				cnt = 0
				break
			}
		}
		for j < len(text) {
			g := emojiGap(text, j)
			if g == 0 {
				break
			}
			j += g
		}
	}
	return next
}

// invisibleRunEnd is where the run of invisible digits starting at text[i]
// ends (i when there is none).
func invisibleRunEnd(text string, i int) int {
	for {
		if _, ok := invisibleDigit(text, i); !ok {
			return i
		}
		i += 3
	}
}

// findInvisible reads the run of invisible digits starting at text[i] and
// returns where to scan next.
func (c *Codec) findInvisible(dst *[]Found, text string, i int) int {
	j := invisibleRunEnd(text, i)
	if j == i {
		return i + 1
	}
	r := (j - i) / 3
	switch r {
	case invisibleLen(4 + 2), invisibleLen(5 + 2), invisibleLen(6 + 2):
		if n, ok := c.invisibleNumber(text, i, r); ok && n <= Cycle {
			*dst = append(*dst, Found{Format: Invisible, N: n, Start: i, End: j})
		}
	}
	return j
}

// findStart looks at the '/' at text[i] for "/start PAYLOAD" or
// "/start@bot PAYLOAD" at the start of the text or of a line or word, and
// returns where to scan next.
func (c *Codec) findStart(dst *[]Found, text string, i int) int {
	if i > 0 {
		switch text[i-1] {
		case ' ', '\n', '\t', '\r':
		default:
			return i + 1
		}
	}
	j := i + startCommandSize
	if j > len(text) || text[i:j] != startCommand {
		return i + 1
	}
	if j < len(text) && text[j] == '@' {
		j++
		for j < len(text) && (isAlnum(text[j]) || text[j] == '_') {
			j++
		}
	}
	if j >= len(text) || text[j] != ' ' {
		return j
	}
	for j < len(text) && text[j] == ' ' {
		j++
	}
	p := j
	for j < len(text) && startValue(text[j]) != noSymbol {
		j++
	}
	if j-p == 0 || j-p > findStartMaxLen {
		return j
	}
	if n, err := c.decodeStart(text[p:j]); err == nil {
		*dst = append(*dst, Found{Format: Start, N: n, Start: p, End: j})
	}
	return j
}
