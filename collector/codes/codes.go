// Package codes decides what the code-survival report counts: which message
// template a visitor gets (Pick), what became of a visit's code in the first
// message of a conversation (Classify), and under which dimensions a click or
// a first message is counted (Dims). It holds no state; the counts are
// reports.Store's.
package codes

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/ids"
	"github.com/messtrack/messtrack/reports"
)

// Pick returns the template a visitor gets: a weighted choice made from a
// hash of the site and the visitor ID, so the same visitor gets the same
// template on every page view (and on every instance), and visitors split
// by the weights. Templates of weight 0 are never picked.
func Pick(site string, templates []config.MessageTemplate, visitor string) config.MessageTemplate {
	total := 0
	for _, m := range templates {
		total += m.TemplateWeight()
	}
	if len(templates) == 0 || total <= 0 {
		return config.MessageTemplate{}
	}
	h := sha256.Sum256([]byte("messtrack/template/v1\x00" + site + "\x00" + visitor))
	x := int(binary.BigEndian.Uint64(h[:8]) % uint64(total))
	for _, m := range templates {
		x -= m.TemplateWeight()
		if x < 0 {
			return m
		}
	}
	return templates[len(templates)-1]
}

// TemplateOf returns the template a visit was given: its recorded key's, or
// the site's first template for visits recorded without one.
func TemplateOf(templates []config.MessageTemplate, v *visit.Visit) config.MessageTemplate {
	for _, m := range templates {
		if v != nil && m.Key() == v.Template {
			return m
		}
	}
	if len(templates) == 0 {
		return config.MessageTemplate{}
	}
	return templates[0]
}

// FormatStart is the format of a Telegram bot's start link.
const FormatStart = "start"

// Dims are what a visit's click, or its chat's first message, is counted
// under: format is the site's id_format, or "start" for a bot's link.
func Dims(cfg *config.Site, v *visit.Visit, bot bool, page string) reports.CodeDims {
	d := reports.CodeDims{Format: cfg.IDFormat, Language: language(v.Language), Device: v.Device,
		Channel: v.Channel, Page: page}
	if d.Page == "" {
		d.Page = v.Page
	}
	if bot {
		d.Format, d.Template = FormatStart, reports.NoTemplate
	} else {
		d.Template = TemplateOf(cfg.Messages, v).Key()
	}
	return d
}

// language is a browser language's primary subtag, lower case ("pt-BR" →
// "pt"), which keeps the report's rows few.
func language(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		tag = tag[:i]
	}
	return tag
}

// Edit is an edited code found in a message.
type Edit struct {
	Near ids.Near
	// Template is set when the template's words stand right in front of
	// the near-code: then it is an edited code whatever its guess.
	Template bool
}

// Classify looks at a first message that brought no live code and returns
// the edited codes in it: near-codes (ids.Codec.FindNear) standing where a
// template puts its code (the template's words in front), or naming a
// guess. The caller counts one as edited only when Template is set or when
// its guess names a visit that clicked the chat the message came to;
// otherwise the message counts as a deleted code (if linked) or unlinked.
func Classify(codec *ids.Codec, templates []config.MessageTemplate, text string) []Edit {
	var out []Edit
	for _, n := range codec.FindNear(text) {
		e := Edit{Near: n}
		for _, m := range templates {
			if lead := templateLead(m.Text); lead != "" && strings.HasSuffix(strings.TrimRightFunc(strings.ToLower(text[:n.Start]), ignorable), lead) {
				e.Template = true
			}
		}
		if e.Template || n.Guess != 0 {
			out = append(out, e)
		}
	}
	return out
}

// templateLead is the last words of a template before its code, lower case
// and trimmed, or "" when they are too short to tell anything (under 6
// characters).
func templateLead(text string) string {
	i := strings.Index(text, "{id}")
	if i < 0 {
		return ""
	}
	lead := strings.TrimRightFunc(strings.ToLower(text[:i]), ignorable)
	if j := strings.LastIndexAny(lead, "\n.!?"); j >= 0 {
		lead = strings.TrimSpace(lead[j+1:])
	}
	if len(lead) < 6 {
		return ""
	}
	return lead
}

// ignorable are the characters between a template's words and its code
// that people and platforms add or drop: spaces and zero-width characters.
func ignorable(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\u00a0', '\u200b', '\u200c', '\u200d', '\u2060', '\u2063', '\ufeff', '\ufe0f':
		return true
	}
	return false
}

// Open is how a conversation's first message was counted when that count
// may still move: unlinked (no visit), kept so that an operator's later
// confirmation counts it for the confirmed visit; or linked by the
// heuristic's guess (Visit and Fact set), kept so that a revoked guess
// takes the count back from the visit and counts it unlinked.
type Open struct {
	// At is the conversation's time (Unix ms), Outcome edited or deleted.
	At      int64  `json:"a"`
	Outcome string `json:"o"`
	Format  string `json:"f"`
	Bot     bool   `json:"b,omitempty"`
	// Visit is the guessed visit and Fact the count made for it, exactly
	// as recorded; zero and nil when the message counted as unlinked.
	Visit uint64            `json:"v,omitempty"`
	Fact  *reports.CodeFact `json:"l,omitempty"`
}

// Delay is the click-to-message time, 0 and false when the click is
// unknown or after the message.
func Delay(click, msg time.Time) (time.Duration, bool) {
	if click.IsZero() || msg.Before(click) {
		return 0, false
	}
	return msg.Sub(click), true
}
