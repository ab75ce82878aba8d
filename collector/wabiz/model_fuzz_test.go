package wabiz_test

import (
	"maps"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/wabiz"
	"github.com/messtrack/messtrack/config"
)

// FuzzContributions merges a message's facts, read from the fuzzer's bytes,
// in two orders: the contributions must be the same, never negative, and
// keep delivered ≤ sent, read ≤ delivered for the template.
func FuzzContributions(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5})
	f.Add([]byte{3, 17, 2, 200, 1, 9, 0, 0, 5})
	f.Add([]byte{6, 1, 6, 2, 7, 3})
	cfg, err := config.Parse("test.yaml", []byte(testConfig), nil)
	if err != nil {
		f.Fatal(err)
	}
	st := cfg.Site("demo")
	base := time.Date(2025, 11, 2, 23, 0, 0, 0, time.UTC)
	yes, no := true, false
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64 {
			return
		}
		type fact func(m *wabiz.Msg)
		var facts []fact
		for i := 0; i+1 < len(data); i += 2 {
			at := base.Add(time.Duration(data[i+1]) * 10 * time.Minute)
			kind := data[i] % 8
			pricing := []*inbound.Pricing{nil,
				{Model: "PMP", Type: "regular", Category: "marketing", Billable: &yes},
				{Model: "PMP", Type: "free_entry_point", Category: "service", Billable: &no},
				{Model: "CBP", Category: "utility", Billable: &yes},
			}[int(data[i]/8)%4]
			switch kind {
			case 0, 1, 2, 3:
				s := inbound.Status{MessageID: "wamid.F", Status: []string{"sent", "delivered", "read", "failed"}[kind], Time: at,
					Chat: "whatsapp:16505551234", Phone: "16505551234", Pricing: pricing}
				facts = append(facts, func(m *wabiz.Msg) { m.TakeStatus(&s) })
			case 4:
				facts = append(facts, func(m *wabiz.Msg) {
					if m.Recorded == 0 || at.UnixMilli() < m.Recorded {
						m.Recorded = at.UnixMilli()
					}
					m.Template = "spring_sale"
				})
			case 5:
				facts = append(facts, func(m *wabiz.Msg) { m.Replied = true })
			case 6:
				facts = append(facts, func(m *wabiz.Msg) { m.Replied, m.Clicked = true, true })
			case 7:
				facts = append(facts, func(m *wabiz.Msg) { m.Src = &wabiz.Source{Channel: "messenger_ad", AdID: "1"} })
			}
		}
		forward, backward := &wabiz.Msg{ID: "wamid.F"}, &wabiz.Msg{ID: "wamid.F"}
		for i := range facts {
			facts[i](forward)
			facts[len(facts)-1-i](backward)
		}
		a, b := wabiz.Contributions(forward, st), wabiz.Contributions(backward, st)
		// The source is taken once, when first priced: the one fact whose
		// order matters by design. Compare without it.
		if forward.Src == nil || backward.Src == nil || *forward.Src == *backward.Src {
			if !maps.Equal(a, b) {
				t.Fatalf("order changed the counts:\n%v\n%v", a, b)
			}
		}
		get := func(field string) int64 {
			var n int64
			for c, v := range a {
				if c.Kind == wabiz.KindTemplate && c.Field == "spring_sale\x1f"+field {
					n += v
				}
			}
			return n
		}
		for c, v := range a {
			if v < 0 {
				t.Fatalf("negative %v = %d", c, v)
			}
		}
		if get("delivered") > get("sent") || get("read") > get("delivered") || get("sent") > 1 || get("delivered")+get("failed") > 1 {
			t.Fatalf("template counts %v", a)
		}
	})
}
