package faults

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/e2e/e2eproc"
)

// binary is the messtrack binary built from this tree, once per test binary.
type binary struct {
	once sync.Once
	dir  string
	path string
	log  string
	err  error
}

var built = &binary{}

func (b *binary) get(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "messtrack-faults-")
		if err != nil {
			b.err = err
			return
		}
		b.dir, b.path = dir, filepath.Join(dir, "messtrack")
		cmd := exec.Command("go", "build", "-o", b.path, "./cmd/messtrack")
		cmd.Dir = e2eproc.RepoRoot(t)
		out, err := cmd.CombinedOutput()
		b.log, b.err = string(out), err
	})
	if b.err != nil {
		t.Fatalf("go build ./cmd/messtrack: %v\n%s", b.err, b.log)
	}
	return b.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// redisServer is a redis-server set up as deploy/redis-messtrack.conf says
// (AOF on, synced every second), on a fixed loopback port and directory, so
// that it can be killed and started again on the same data.
type redisServer struct {
	t    testing.TB
	bin  string
	conf string
	dir  string
	port int
	proc *e2eproc.Process
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	r := &redisServer{t: t, bin: e2eproc.LookTool(t, "redis-server", "redis-server"), dir: t.TempDir(), port: e2eproc.FreePort(t)}
	r.conf = filepath.Join(r.dir, "redis.conf")
	conf := fmt.Sprintf("include %s\nport %d\ndir %s\ndaemonize no\nlogfile %s\nsave \"\"\n",
		filepath.Join(e2eproc.RepoRoot(t), "deploy", "redis-messtrack.conf"), r.port, r.dir, filepath.Join(r.dir, "redis.log"))
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	return r
}

func (r *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

func (r *redisServer) url() string { return "redis://" + r.addr() + "/0" }

// start runs the server and waits until it answers (after loading its AOF).
func (r *redisServer) start() {
	r.t.Helper()
	r.proc = e2eproc.Start(r.t, nil, r.bin, r.conf)
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	r.proc.WaitFor(r.t, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			return fmt.Errorf("%w; log: %s", err, log)
		}
		return nil
	})
}

// collectorProc is one `messtrack serve` process.
type collectorProc struct {
	addr string
	proc *e2eproc.Process
}

func (c *collectorProc) base() string { return "http://" + c.addr }

// startCollector writes a config for one site on redisURL and runs
// `messtrack serve` with it, waiting until /healthz answers 200.
func startCollector(t testing.TB, redisURL string) *collectorProc {
	t.Helper()
	bin := built.get(t)
	c := &collectorProc{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(e2eproc.FreePort(t)))}
	dir := t.TempDir()
	config := filepath.Join(dir, "messtrack.yaml")
	// Every collector reads the same site settings: the same secret makes
	// the same codes, so a visit made through one is matched through any.
	text := `listen: ` + c.addr + `
public_url: "http://` + c.addr + `"
redis: ` + redisURL + `
rate_limit_per_minute: 1000000
sites:
  shop:
    api_key: ` + apiKey + `
    id_secret: shop-secret-0123456789
    origins: ["` + origin + `"]
    message: "Hello! My request code: {id}"
    whatsapp: [{number: "` + shopNumber + `"}]
    telegram: {bots: [` + shopBot + `]}
    whatsapp_app_secret: ` + appSecret + `
    whatsapp_verify_token: faults-verify
    telegram_secret_token: ` + tgSecret + `
`
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c.proc = e2eproc.Start(t, nil, bin, "serve", "--config", config)
	client := &http.Client{Timeout: 2 * time.Second}
	c.proc.WaitFor(t, func() error {
		resp, err := client.Get(c.base() + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})
	return c
}
