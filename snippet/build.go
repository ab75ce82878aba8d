package snippet

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// source is the one readable snippet; see its header for the defines and
// the settings placeholder the build relies on.
//
//go:embed messtrack.js
var source string

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
	whatsapp, telegram, consent, qr bool
	// sendback is the send-back widget, its own build so that sites
	// without it carry none of its code.
	sendback bool
}

// defines turns the features into esbuild defines.
func (f features) defines() map[string]string {
	return map[string]string{
		"WHATSAPP": fmt.Sprint(f.whatsapp),
		"TELEGRAM": fmt.Sprint(f.telegram),
		"CONSENT":  fmt.Sprint(f.consent),
		"QR":       fmt.Sprint(f.qr),
		"SENDBACK": fmt.Sprint(f.sendback),
	}
}

// Builder holds the minified snippet for every combination of features,
// built once when the collector starts.
type Builder struct {
	builds map[features]string
}

// NewBuilder minifies the embedded source for every feature combination
// with esbuild. It fails if esbuild reports anything, since a warning in the
// snippet is a bug every visitor would run.
func NewBuilder() (*Builder, error) {
	b := &Builder{builds: make(map[features]string, 32)}
	for _, wa := range []bool{false, true} {
		for _, tg := range []bool{false, true} {
			for _, consent := range []bool{false, true} {
				for _, qr := range []bool{false, true} {
					for _, sb := range []bool{false, true} {
						f := features{whatsapp: wa, telegram: tg, consent: consent, qr: qr, sendback: sb}
						code, err := build(f)
						if err != nil {
							return nil, fmt.Errorf("snippet.NewBuilder %+v: %w", f, err)
						}
						b.builds[f] = code
					}
				}
			}
		}
	}
	return b, nil
}

// build runs esbuild over the source for one feature combination.
func build(f features) (string, error) {
	result := api.Transform(source, api.TransformOptions{
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
