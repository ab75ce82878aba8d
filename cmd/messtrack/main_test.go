package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunDispatch(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr error
	}{
		{name: "version", args: []string{"version"}, wantOut: "messtrack dev"},
		{name: "help", args: []string{"help"}, wantOut: "messtrack serve"},
		{name: "no command", args: nil, wantErr: errUsage},
		{name: "unknown", args: []string{"frobnicate"}, wantErr: errUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut, func(string) string { return "" })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("stdout %q lacks %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestHelpListsEveryReportAndFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"help"}, &out, &errOut, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	for _, want := range append([]string{"ads", "channels", "pages", "new-repeat", "dynamics"}, "--static", "--size", "--level", "--by", "--format table|json|csv",
		"costs   import --site S FILE", "--config FILE", "examples/messtrack.yaml", "MESSTRACK_ADDR, REDIS_URL, MESSTRACK_GEOIP") {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMissingDefaultConfigSaysHowToNameOne(t *testing.T) {
	// The default messtrack.yaml is looked up in the working folder, which
	// is made empty here.
	t.Chdir(t.TempDir())
	tests := []struct {
		name     string
		args     []string
		wantHint bool
	}{
		{name: "serve, default", args: []string{"serve"}, wantHint: true},
		{name: "qr, default", args: []string{"qr", "--site", "demo", "--source", "flyer"}, wantHint: true},
		{name: "report, default", args: []string{"report", "--site", "demo", "ads"}, wantHint: true},
		{name: "costs, default", args: []string{"costs", "import", "--site", "demo", "c.csv"}, wantHint: true},
		{name: "named file", args: []string{"serve", "--config", "absent.yaml"}, wantHint: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut, func(string) string { return "" })
			if err == nil {
				t.Fatal("no error without a config file")
			}
			hint := strings.Contains(err.Error(), "name the config with --config FILE (the demo's is examples/messtrack.yaml)")
			if hint != tt.wantHint || !strings.Contains(err.Error(), ".yaml") {
				t.Fatalf("err = %v; hint shown %v, want %v, and the file named", err, hint, tt.wantHint)
			}
		})
	}
}

func TestServeNamesBadConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"serve", "--config", "testdata/absent.yaml"}, &out, &errOut, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Fatalf("err = %v, want the file named", err)
	}
}

func TestServeWithEmbeddedStore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"MESSTRACK_ADDR": addr, "MESSTRACK_STORE_FILE": filepath.Join(t.TempDir(), "store.gob")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errOut syncBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--config", "../../examples/messtrack.yaml"}, &out, &errOut, func(k string) string { return env[k] })
	}()
	var resp *http.Response
	for i := 0; i < 200; i++ {
		resp, err = http.Get("http://" + addr + "/healthz")
		if err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err != nil {
		cancel()
		t.Fatalf("serve never answered: %v; stderr: %s", err, errOut.String())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz = %d", resp.StatusCode)
	}
	// On a port other than 8080 the demo still works: the snippet points at
	// the address MESSTRACK_ADDR gave, and the demo's own page there may
	// register a visit.
	resp, err = http.Get("http://" + addr + "/s/demo.js")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(js), "http://"+addr) || strings.Contains(string(js), ":8080") {
		t.Errorf("the demo snippet does not point at http://%s:\n%s", addr, js)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/visits",
		strings.NewReader(`{"site":"demo","url":"http://`+addr+`/"}`))
	req.Header.Set("Origin", "http://"+addr)
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"code":"#`) {
		t.Errorf("a visit from the demo page on %s: %d %s", addr, resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if !strings.Contains(out.String(), "embedded in-memory store, kept in "+env["MESSTRACK_STORE_FILE"]) {
		t.Errorf("serve did not warn about the embedded store: %q", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
