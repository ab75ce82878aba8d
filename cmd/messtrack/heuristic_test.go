package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/learn"
	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestHeuristicRefitAndShow(t *testing.T) {
	redisURL, rdb := redistest.NewURL(t)
	path := filepath.Join(t.TempDir(), "messtrack.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(agreeConfig, "REDIS", `"`+redisURL+`"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(args, "--config", path), &out, &errOut, func(string) string { return "" })
		return out.String() + errOut.String(), err
	}
	out, err := cli("heuristic", "show", "--site", "demo")
	if err != nil || !strings.Contains(out, "no model fitted yet") || !strings.Contains(out, "live proof: none yet") {
		t.Fatalf("show before a fit: %v\n%s", err, out)
	}
	// The collector's id matches, as it keeps them.
	ls := learn.New(rdb, store.SystemClock{})
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := range learn.MinLabelled {
		m := at.Add(time.Duration(i) * time.Minute)
		l := posterior.Labelled{Message: posterior.Message{Time: m, Messenger: posterior.WhatsApp, Target: "whatsapp:15551234567", PhoneCountry: "DE", PhoneOffsets: []int{3600}},
			Clicked: posterior.Click{At: m.Add(-time.Minute), Country: "DE"}}
		if err := ls.AddLabelled(context.Background(), "demo", &l); err != nil {
			t.Fatal(err)
		}
	}
	out, err = cli("heuristic", "refit", "--site", "demo")
	if err != nil || !strings.Contains(out, "model version 1 fitted on 200 labelled and 0 code-less") {
		t.Fatalf("refit: %v\n%s", err, out)
	}
	out, err = cli("heuristic", "--site", "demo", "show")
	if err != nil || !strings.Contains(out, "model version 1") || !strings.Contains(out, "whatsapp      200 labelled") || !strings.Contains(out, "the model answers") {
		t.Fatalf("show after a fit: %v\n%s", err, out)
	}
	if _, err := cli("heuristic", "fit", "--site", "demo"); !errors.Is(err, errUsage) {
		t.Fatalf("unknown action: %v", err)
	}
	if out, err := cli("heuristic", "show", "--site", "nosuch"); err == nil || !strings.Contains(err.Error(), `site "nosuch" is not in`) {
		t.Fatalf("unknown site: %v %s", err, out)
	}
}
