package inbound

import (
	"strings"

	"github.com/messtrack/messtrack/config"
)

// CleanText keeps a message text storable and displayable: valid UTF-8,
// control characters other than newline and tab dropped, at most n runes.
func CleanText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			// Bidi overrides and isolates can make a name or text display
			// as something else in the dashboard.
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > n {
		s = string(r[:n])
	}
	return s
}

// CleanName is CleanText for one-line fields.
func CleanName(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\n", " ", "\t", " ").Replace(CleanText(s, 256)))
}

// NormalizeTarget turns a chat target ("whatsapp:+1 650…", "telegram:@Bot",
// "vk:DemoShop") into the form the click index uses, or "" when it is not
// one.
func NormalizeTarget(t string) string {
	kind, id, ok := strings.Cut(strings.TrimSpace(t), ":")
	if !ok {
		return ""
	}
	switch strings.ToLower(kind) {
	case "whatsapp":
		d, err := config.Digits(id)
		if err != nil {
			return ""
		}
		return "whatsapp:" + d
	case "telegram":
		return "telegram:" + strings.ToLower(strings.TrimPrefix(id, "@"))
	}
	// Any other messenger's target is its channel name and the account's
	// name (a bot, community, page or account) in lower case.
	kind, id = strings.ToLower(kind), strings.ToLower(strings.TrimSpace(id))
	if !channelRE.MatchString(kind) || id == "" || len(id) > 128 || CleanName(id) != id || strings.ContainsAny(id, " /") {
		return ""
	}
	return kind + ":" + id
}

// clip shortens a client-supplied string before it is echoed in an error.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
