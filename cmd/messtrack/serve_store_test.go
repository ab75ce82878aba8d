package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeKeepsTheEmbeddedStoreAcrossRestart: a visit registered on the
// embedded store is still there after serve stops and starts again, and
// the log says where the store is kept.
func TestServeKeepsTheEmbeddedStoreAcrossRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "var", "store.gob")
	env := map[string]string{"MESSTRACK_STORE_FILE": file}
	serve := func() (base string, stop func() string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		env["MESSTRACK_ADDR"] = addr
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var out, errOut syncBuffer
		go func() {
			done <- run(ctx, []string{"serve", "--config", "../../examples/messtrack.yaml"}, &out, &errOut, func(k string) string { return env[k] })
		}()
		for i := 0; ; i++ {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				break
			}
			if i == 200 {
				cancel()
				t.Fatalf("serve never answered: %v; stderr: %s", err, errOut.String())
			}
			time.Sleep(25 * time.Millisecond)
		}
		return "http://" + addr, func() string {
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("serve returned %v; stderr: %s", err, errOut.String())
			}
			return errOut.String()
		}
	}

	base, stop := serve()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/visits", strings.NewReader(`{"site":"demo","url":"`+base+`/"}`))
	req.Header.Set("Origin", base)
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var v struct{ Visit string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &v) != nil || v.Visit == "" {
		t.Fatalf("visit: %d %s", resp.StatusCode, body)
	}
	log := stop()
	if !strings.Contains(log, "file="+file) {
		t.Errorf("the log does not say where the store is kept:\n%s", log)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store file after shutdown: %v %v, want a file only its owner reads", fi, err)
	}

	base, stop = serve()
	defer stop()
	get, _ := http.NewRequest(http.MethodGet, base+"/v1/sites/demo/visits/"+v.Visit, nil)
	get.Header.Set("Authorization", "Bearer demo-key")
	resp, err = http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), v.Visit) {
		t.Fatalf("the visit after a restart: %d %s", resp.StatusCode, body)
	}
}
