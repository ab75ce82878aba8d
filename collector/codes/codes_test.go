package codes

import (
	"fmt"
	"math"
	"testing"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/ids"
)

func weight(w int) *int { return &w }

func TestPickIsStableAndWeighted(t *testing.T) {
	ts := []config.MessageTemplate{{Text: "A {id}", Weight: weight(3)}, {Text: "B {id}"}, {Text: "C {id}", Weight: weight(0)}}
	got := map[string]int{}
	const n = 40000
	for i := 0; i < n; i++ {
		v := fmt.Sprintf("visitor-%d", i)
		m := Pick("shop", ts, v)
		if again := Pick("shop", ts, v); again.Text != m.Text {
			t.Fatalf("%s: %q then %q", v, m.Text, again.Text)
		}
		got[m.Text]++
	}
	if got["C {id}"] != 0 {
		t.Errorf("weight 0 picked %d times", got["C {id}"])
	}
	if share := float64(got["A {id}"]) / n; math.Abs(share-0.75) > 0.01 {
		t.Errorf("A's share %.3f, want 0.75", share)
	}
}

func TestClassifyShapes(t *testing.T) {
	codec, err := ids.NewCodec([]byte("site A secret, 32 bytes long...."))
	if err != nil {
		t.Fatal(err)
	}
	ts := []config.MessageTemplate{{Text: "Hello! My request code: {id}"}}
	tok := codec.Token(codec.Number(99))
	edited := []byte(tok)
	edited[1], edited[2] = edited[2], edited[1] // two neighbours swapped
	tests := []struct {
		name, text string
		edits      int
		template   bool
	}{
		{name: "an edited code in the template's place", text: "Hello! My request code: #ZZZZ9Z", edits: 1, template: true},
		{name: "swapped neighbours, anywhere", text: "roses please " + string(edited), edits: 1},
		{name: "the code deleted", text: "Hello! My request code: ", edits: 0},
		{name: "hashtags and ticket numbers", text: "#promo #BOGO50 ticket #A7X9K2", edits: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(codec, ts, tt.text)
			if tt.edits >= 0 && len(got) != tt.edits {
				t.Fatalf("%d edits %+v, want %d", len(got), got, tt.edits)
			}
			for _, e := range got {
				// Shape alone never counts: a hashtag is kept only with a
				// guess, which the collector checks against clicked visits.
				if !e.Template && e.Near.Guess == 0 {
					t.Errorf("%+v counted without the template's words or a guess", e)
				}
			}
			if tt.template && !got[0].Template {
				t.Errorf("the template's words were not seen")
			}
		})
	}
}
