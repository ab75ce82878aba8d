package reports

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// fixtureLine is one line of testdata/fixture.jsonl.golden: the generated
// fixture as data, so that tests of other packages (the dashboard's) replay
// exactly the facts the golden reports are built from. Exactly one of
// Conversation, Event, Choose and Cost is set; Deliver is when the fact
// reaches the store (costs are added after every other fact).
type fixtureLine struct {
	Deliver      *time.Time    `json:"deliver,omitempty"`
	Conversation *Conversation `json:"conversation,omitempty"`
	Event        *Event        `json:"event,omitempty"`
	Choose       string        `json:"choose,omitempty"`
	Cost         *CostRow      `json:"cost,omitempty"`
}

// TestFixtureFile pins the generated fixture as JSON lines beside the golden
// reports; -update rewrites it with them.
func TestFixtureFile(t *testing.T) {
	facts, costs := fixtureFacts()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, f := range facts {
		at := f.deliver
		if err := enc.Encode(fixtureLine{Deliver: &at, Conversation: f.conv, Event: f.event, Choose: f.choose}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range costs {
		if err := enc.Encode(fixtureLine{Cost: &costs[i]}); err != nil {
			t.Fatal(err)
		}
	}
	checkGolden(t, "fixture.jsonl.golden", buf.Bytes())
}
