package chattags_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/messtrack/messtrack/collector/chattags"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"sofa\x00lead: hot", "<script>alert(1)</script>\x00=HYPERLINK(\"x\")", "a\u202eb\x00A\u202eB", strings.Repeat("x\x00", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		tags, err := chattags.Normalize(strings.Split(joined, "\x00"))
		if err != nil {
			if _, ok := err.(*chattags.InputError); !ok {
				t.Fatalf("error %v is no InputError", err)
			}
			return
		}
		if len(tags) > chattags.MaxTags {
			t.Fatalf("%d tags", len(tags))
		}
		seen := map[string]bool{}
		for _, tag := range tags {
			k := strings.ToLower(tag)
			if tag == "" || seen[k] || !utf8.ValidString(tag) || utf8.RuneCountInString(tag) > chattags.MaxTagLen ||
				strings.ContainsAny(tag, "\n\t\r\u202e") || strings.TrimSpace(tag) != tag {
				t.Fatalf("tag %q", tag)
			}
			seen[k] = true
		}
		again, err := chattags.Normalize(tags)
		if err != nil || strings.Join(again, "\x00") != strings.Join(tags, "\x00") {
			t.Fatalf("normalizing again changed %q to %q (%v)", tags, again, err)
		}
	})
}
