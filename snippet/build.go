package snippet

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// source is the one readable snippet; see its header for the defines and
// the settings placeholder the build relies on.
//
//go:embed messtrack.js
var source string

// moreSource is the link forms of the messengers beyond WhatsApp and
// Telegram, which the builds with features.more put into chat() after
// moreAnchor. A separate file rather than a define over a block of
// messtrack.js: esbuild's minifier names identifiers by the frequencies of
// the whole source, so even dead code would change every other build.
//
//go:embed more.js
var moreSource string

// moreAnchor is the line of messtrack.js that moreSource follows: chat()'s
// first, whose parameters target and param are the variables it sets.
const moreAnchor = "  const chat = (href, target, param) => {\n"

// settingsPlaceholder is the free name in messtrack.js that Render replaces
// with the site's settings. The minifier never renames a free name and never
// produces one this long, so the built code holds it exactly once.
const settingsPlaceholder = "MESSTRACK_SETTINGS"

// Target is the language level the snippet is written in: optional chaining
// and ?? (ES2020) are the newest syntax it uses, so nothing is lowered and
// browsers from 2020 on run it.
const Target = api.ES2020

// features selects one build of the snippet. Each field is an esbuild
// define over a const/let block in messtrack.js, so a site without
// Telegram carries no Telegram code at all.
type features struct {
	whatsapp, telegram, consent, qr, extras bool
	// more is set for a site with messengers beyond WhatsApp and Telegram
	// (MAX, VK, Messenger, Instagram, Viber, LINE): their link forms are
	// code of their own, which other sites never download.
	more bool
	// analytics is set for a site that sends its chats to GA4 or Metrica:
	// the page's _ga and _ym_uid cookies go with the visit.
	analytics bool
	// sendback is the send-back widget, its own build so that sites
	// without it carry none of its code.
	sendback bool
}

// defines turns the features into esbuild defines.
func (f features) defines() map[string]string {
	return map[string]string{
		"WHATSAPP":  fmt.Sprint(f.whatsapp),
		"TELEGRAM":  fmt.Sprint(f.telegram),
		"CONSENT":   fmt.Sprint(f.consent),
		"QR":        fmt.Sprint(f.qr),
		"EXTRAS":    fmt.Sprint(f.extras),
		"ANALYTICS": fmt.Sprint(f.analytics),
		"SENDBACK":  fmt.Sprint(f.sendback),
	}
}

// Builder holds the minified snippet for the feature combinations the
// sites use. With seven flags there are 128 combinations, and a collector
// serves a handful, so each is built the first time a site needs it (the
// collector renders every site when it starts, so a build error still stops
// it there) and kept.
type Builder struct {
	mu     sync.Mutex
	builds map[features]string
}

// NewBuilder returns a Builder and minifies the most common build (WhatsApp
// and Telegram) with esbuild, so that a broken source fails here. Any build
// fails if esbuild reports anything, since a warning in the snippet is a bug
// every visitor would run.
func NewBuilder() (*Builder, error) {
	b := &Builder{builds: make(map[features]string, 4)}
	if _, err := b.code(features{whatsapp: true, telegram: true}); err != nil {
		return nil, err
	}
	return b, nil
}

// code is the build for f, minified on first use.
func (b *Builder) code(f features) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if code, ok := b.builds[f]; ok {
		return code, nil
	}
	code, err := build(f)
	if err != nil {
		return "", fmt.Errorf("snippet build %+v: %w", f, err)
	}
	b.builds[f] = code
	return code, nil
}

// build runs esbuild over the source for one feature combination.
func build(f features) (string, error) {
	src := source
	if f.more {
		if strings.Count(src, moreAnchor) != 1 {
			return "", fmt.Errorf("messtrack.js: the line more.js follows (%q) is not there exactly once", moreAnchor)
		}
		src = strings.Replace(src, moreAnchor, moreAnchor+moreSource, 1)
	}
	result := api.Transform(src, api.TransformOptions{
		Loader:            api.LoaderJS,
		Sourcefile:        "messtrack.js",
		Format:            api.FormatDefault,
		Target:            Target,
		Define:            f.defines(),
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		TreeShaking:       api.TreeShakingTrue,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetASCII,
		LogLevel:          api.LogLevelSilent,
	})
	if msgs := append(result.Errors, result.Warnings...); len(msgs) > 0 {
		text := make([]string, 0, len(msgs))
		for _, m := range msgs {
			line := 0
			if m.Location != nil {
				line = m.Location.Line
			}
			text = append(text, fmt.Sprintf("messtrack.js:%d: %s", line, m.Text))
		}
		return "", fmt.Errorf("esbuild: %s", strings.Join(text, "; "))
	}
	code := strings.TrimSpace(string(result.Code))
	if n := strings.Count(code, settingsPlaceholder); n != 1 {
		return "", fmt.Errorf("esbuild: settings placeholder %s appears %d times in the output, want 1", settingsPlaceholder, n)
	}
	return code, nil
}
