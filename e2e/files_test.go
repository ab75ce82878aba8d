package e2e

import (
	"archive/tar"
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/messtrack/messtrack/e2e/e2eproc"
)

// TestSystemdAcceptsTheUnit runs systemd-analyze verify on the shipped unit.
// systemd checks that ExecStart names an executable, so the copy it reads
// names the image's binary instead of /usr/local/bin/messtrack; nothing
// else changes.
func TestSystemdAcceptsTheUnit(t *testing.T) {
	analyze := e2eproc.LookTool(t, "systemd-analyze", "systemd")
	bin := filepath.Join(image.get(t), "usr", "local", "bin", "messtrack")
	unit, err := os.ReadFile(filepath.Join(e2eproc.RepoRoot(t), "deploy", "messtrack.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=messtrack", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "ReadWritePaths=/var/lib/messtrack"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	copyPath := writeFile(t, t.TempDir(), "messtrack.service",
		replaceAll(t, "deploy/messtrack.service", string(unit), "/usr/local/bin/messtrack", bin))
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestPromtoolAcceptsTheRules runs promtool check rules on the alert rules.
func TestPromtoolAcceptsTheRules(t *testing.T) {
	promtool := e2eproc.LookTool(t, "promtool", "prometheus")
	out, err := exec.Command(promtool, "check", "rules", filepath.Join(e2eproc.RepoRoot(t), "deploy", "alerts.rules.yml")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// metricRE finds metric names in PromQL: the collector's own, the Go
// runtime's and the process's.
var metricRE = regexp.MustCompile(`\b(?:messtrack|go|process)_[a-z0-9_]+\b`)

// TestDashboardAndRulesNameOnlyExistingMetrics: every metric the Grafana
// dashboard and the alert rules query is on a running collector's /metrics
// once each kind of traffic has happened.
func TestDashboardAndRulesNameOnlyExistingMetrics(t *testing.T) {
	root := e2eproc.RepoRoot(t)
	var exprs []string
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr string
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "alerts.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct{ Query any }
		}
	}
	raw, err = os.ReadFile(filepath.Join(root, "deploy", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			exprs = append(exprs, q)
		}
	}
	named := map[string]bool{}
	for _, e := range exprs {
		for _, m := range metricRE.FindAllString(e, -1) {
			named[m] = true
		}
	}
	if len(exprs) < 10 || len(named) < 8 {
		t.Fatalf("%d expressions naming %d metrics: the files were not read", len(exprs), len(named))
	}

	// A collector, with a low rate limit, driven through every path the
	// metrics count: visits, a dropped bot, a click, a match, a rate-limited
	// client and, last, Redis gone.
	rdb, redisURL := documentedRedis(t)
	addr := fmt.Sprintf("127.0.0.1:%d", e2eproc.FreePort(t))
	dir := t.TempDir()
	cfg := writeFile(t, dir, "messtrack.yaml", `listen: `+addr+`
redis: `+redisURL+`
rate_limit_per_minute: 5
sites:
  shop:
    api_key: `+apiKey+`
    whatsapp: [{number: "`+shopNumber+`"}]
    whatsapp_app_secret: `+appSecret+`
    whatsapp_verify_token: `+verifyToken+`
`)
	startCollector(t, filepath.Join(image.get(t), "usr", "local", "bin", "messtrack"), cfg, addr)
	base := "http://" + addr
	post := func(path, body, ua string, headers ...string) string {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("User-Agent", ua)
		req.Header.Set("Content-Type", "text/plain")
		for i := 0; i < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	v := post("/v1/visits", `{"site":"shop","url":"https://shop.example/"}`, browserUserAgent)
	var visit struct{ Visit, Code string }
	if err := json.Unmarshal([]byte(v), &visit); err != nil || visit.Code == "" {
		t.Fatalf("visit: %s", v)
	}
	post("/v1/visits", `{"site":"shop","url":"https://shop.example/"}`, "curl/8.0")
	post("/v1/clicks", fmt.Sprintf(`{"site":"shop","visit":%q,"target":"whatsapp:%s"}`, visit.Visit, shopNumber), browserUserAgent)
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"%s","phone_number_id":"2"},"messages":[{"from":"%s","id":"wamid.m-1","timestamp":"%d","type":"text","text":{"body":"Hi %s"}}]}}]}]}`,
		shopNumber, writerNumber, time.Now().Unix(), visit.Code)
	post("/hooks/whatsapp/shop", body, "facebookexternalua", "X-Hub-Signature-256", sign(body))
	for range 8 {
		post("/v1/visits", `{"site":"shop","url":"https://shop.example/"}`, browserUserAgent)
	}
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
	}
	// Redis goes away: the health check's PING fails and is counted.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rdb.Shutdown(ctx).Err()
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	exposed := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i > 0 {
			name = line[:i]
		}
		exposed[name] = true
	}
	var missing []string
	for m := range named {
		if !exposed[m] {
			missing = append(missing, m)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("named in deploy/ but not on /metrics: %v", missing)
	}
	for _, want := range []string{"messtrack_visits_dropped_total", "messtrack_rate_limited_total", "messtrack_redis_errors_total", "messtrack_matches_total"} {
		if !exposed[want] {
			t.Errorf("the traffic did not bring %s onto /metrics", want)
		}
	}
}

// TestImageHoldsTheBinaryAndItsEntrypoint: the image's file tree, as `make
// image-root` lays it out for deploy/Containerfile, holds a static binary
// stamped with the version, the CA bundle and the folders the entrypoint
// uses; the Containerfile starts FROM scratch, as an unprivileged user,
// with `messtrack serve` on the mounted config. TestImageBuilds builds the
// image itself.
func TestImageHoldsTheBinaryAndItsEntrypoint(t *testing.T) {
	root := image.get(t)
	var files []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if fi.IsDir() {
			rel += "/"
		}
		if rel != "./" {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"etc/", "etc/messtrack/", "etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca-certificates.crt",
		"usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/messtrack", "var/", "var/lib/", "var/lib/messtrack/"}
	if !slices.Equal(files, want) {
		t.Errorf("image files:\n%s\nwant:\n%s", strings.Join(files, "\n"), strings.Join(want, "\n"))
	}
	bin := filepath.Join(root, "usr", "local", "bin", "messtrack")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader; FROM scratch has none (CGO_ENABLED=0)")
		}
	}
	f.Close()
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "messtrack ") || strings.TrimSpace(string(out)) == "messtrack dev" {
		t.Errorf("version of the image's binary: %q %v; want the stamped version", out, err)
	}
	cf, err := os.ReadFile(filepath.Join(e2eproc.RepoRoot(t), "deploy", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var instr []string
	for _, l := range strings.Split(string(cf), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			instr = append(instr, l)
		}
	}
	wantInstr := []string{"FROM scratch", "COPY / /", "USER 65534:65534", "WORKDIR /var/lib/messtrack", "EXPOSE 8080",
		`ENTRYPOINT ["/usr/local/bin/messtrack"]`, `CMD ["serve", "--config", "/etc/messtrack/messtrack.yaml"]`}
	if !slices.Equal(instr, wantInstr) {
		t.Errorf("Containerfile:\n%s\nwant:\n%s", strings.Join(instr, "\n"), strings.Join(wantInstr, "\n"))
	}
	// The entrypoint with the image's command line runs: it reads the
	// config at the path the image mounts (absent here, so it says so).
	out, _ = exec.Command(bin, "serve", "--config", "/etc/messtrack/messtrack.yaml").CombinedOutput()
	if !strings.Contains(string(out), "/etc/messtrack/messtrack.yaml") {
		t.Errorf("the image's command: %s", out)
	}
}

// TestImageBuilds builds the image from deploy/Containerfile with Debian's
// podman, as `make image` does, and reads it back: its configuration names
// the entrypoint, the command and the unprivileged user, and its one layer
// holds exactly the image tree's files. Containers cannot run on these
// machines, so the image is built and inspected, not started.
func TestImageBuilds(t *testing.T) {
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Fatal("podman is needed to build the image: apt-get install podman (make deps does)")
	}
	root := image.get(t)
	tag := fmt.Sprintf("localhost/messtrack-test:%d", time.Now().UnixNano())
	run := func(args ...string) []byte {
		t.Helper()
		args = append([]string{"--storage-driver", "vfs"}, args...)
		out, err := exec.Command(podman, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run("build", "--quiet", "-f", filepath.Join(e2eproc.RepoRoot(t), "deploy", "Containerfile"), "-t", tag, root)
	t.Cleanup(func() {
		if out, err := exec.Command(podman, "--storage-driver", "vfs", "rmi", "-f", tag).CombinedOutput(); err != nil {
			t.Logf("podman rmi %s: %v\n%s", tag, err, out)
		}
	})
	var inspect []struct {
		Config struct {
			Entrypoint []string
			Cmd        []string
			User       string
			WorkingDir string
		}
	}
	if err := json.Unmarshal(run("image", "inspect", tag), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("image inspect: %v", err)
	}
	c := inspect[0].Config
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/messtrack"}) ||
		!slices.Equal(c.Cmd, []string{"serve", "--config", "/etc/messtrack/messtrack.yaml"}) ||
		c.User != "65534:65534" || c.WorkingDir != "/var/lib/messtrack" {
		t.Errorf("image config %+v", c)
	}
	archive := filepath.Join(t.TempDir(), "image.tar")
	run("save", "--format", "docker-archive", "-o", archive, tag)
	files := imageFiles(t, archive)
	for _, want := range []string{"usr/local/bin/messtrack", "etc/ssl/certs/ca-certificates.crt", "var/lib/messtrack/", "etc/messtrack/"} {
		if !slices.Contains(files, want) {
			t.Errorf("the image lacks %s: %v", want, files)
		}
	}
	for _, f := range files {
		if strings.HasPrefix(f, "bin/") || strings.HasPrefix(f, "lib/") || f == "bin" {
			t.Errorf("the image holds %s: FROM scratch holds only the binary's tree", f)
		}
	}
}

// imageFiles lists the files of every layer of a docker-archive image.
func imageFiles(t *testing.T, archive string) []string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var files []string
	outer := tar.NewReader(f)
	for {
		h, err := outer.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", archive, err)
		}
		if !strings.HasSuffix(h.Name, ".tar") && !strings.HasSuffix(h.Name, "/layer.tar") {
			continue
		}
		inner := tar.NewReader(outer)
		for {
			ih, err := inner.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read layer %s: %v", h.Name, err)
			}
			name := strings.TrimPrefix(ih.Name, "./")
			if ih.Typeflag == tar.TypeDir && !strings.HasSuffix(name, "/") {
				name += "/"
			}
			files = append(files, name)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no layer files in %s", archive)
	}
	return files
}
