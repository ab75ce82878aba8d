package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// typicalLanding is a 100-character ad landing URL.
const typicalLanding = "https://shop.test/spring/roses?utm_source=google&utm_medium=cpc&utm_campaign=spring_roses&gclid=Cj0K"

// TestTypicalVisitFitsIn512Bytes registers a typical ad visit through the
// whole intake (geo, user agent, a 100-character landing URL) and measures
// the key with MEMORY USAGE on the real Redis.
func TestTypicalVisitFitsIn512Bytes(t *testing.T) {
	if len(typicalLanding) != 100 {
		t.Fatalf("typical landing is %d characters, want 100", len(typicalLanding))
	}
	w := newGeoWorld(t)
	got := w.postTypicalVisit(t)
	st := w.srv.sites["demo"]
	n, err := st.codec.ParseVisitID(got.Visit)
	if err != nil {
		t.Fatal(err)
	}
	key := demoKeys.Visit(n)
	ctx := context.Background()
	mem, err := w.rdb.MemoryUsage(ctx, key, 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	raw := w.rdb.Get(ctx, key).Val()
	v, err := w.srv.loadVisit(ctx, st, n)
	if err != nil {
		t.Fatal(err)
	}
	if v.City != "London" || v.Browser != "Chrome 120" || v.Channel != reports.ChannelPaidSearch || v.Page != typicalLanding {
		t.Fatalf("typical visit not fully enriched: %+v", v)
	}
	asJSON, _ := json.Marshal(v)
	t.Logf("typical visit: %d bytes stored, MEMORY USAGE %d bytes (the same visit as JSON: %d bytes)", len(raw), mem, len(asJSON))
	if mem > 512 {
		t.Fatalf("MEMORY USAGE of a typical visit = %d bytes, budget 512", mem)
	}
}

func TestVisitWriterBatchesConcurrentVisits(t *testing.T) {
	w := newTestWorld(t)
	st := w.srv.sites["demo"]
	const n = 300
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- w.srv.saveVisit(context.Background(), st, &visit.Visit{Time: testStart, Landing: fmt.Sprintf("https://shop.test/p%d", i)})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	keys := w.keys(t, "mt:{demo}:v:*")
	if len(keys) != n {
		t.Fatalf("%d visits stored, want %d", len(keys), n)
	}
	for _, k := range keys[:5] {
		if ttl := w.rdb.TTL(context.Background(), k).Val(); ttl < 96*24*time.Hour {
			t.Fatalf("%s TTL %v, want the session window plus margin", k, ttl)
		}
	}
	w.srv.Close()
	err := w.srv.saveVisit(context.Background(), st, &visit.Visit{Time: testStart})
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("saveVisit after Close = %v, want a closed error", err)
	}
}
