package faults

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// repoRoot is the repository, two folders up from this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

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
		cmd.Dir = repoRoot(t)
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

// freePort returns a loopback port nothing listens on.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lookTool finds a program on PATH or in the sbin folders; a missing one
// fails the test naming the Debian package.
func lookTool(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("%s is needed: run `make test` (it installs Debian's %s) or `apt-get install %s`", name, pkg, pkg)
	return ""
}

// process is a child process that dies with the test binary (Pdeathsig,
// forked from a thread kept locked) and is stopped when the test ends.
type process struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	mu     sync.Mutex
	out    bytes.Buffer
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startProcess(t testing.TB, name string, args ...string) *process {
	t.Helper()
	p := &process{name: filepath.Base(name), cmd: exec.Command(name, args...), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		close(p.exited)
		select {} // keep the thread, and so the death signal, for the process's life
	}()
	if err := <-started; err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { p.stop() })
	return p
}

// running reports whether the process has not exited.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop ends the process with SIGTERM, then SIGKILL after 10 s; a stopped
// (SIGSTOP) process is continued first so that it can end.
func (p *process) stop() {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// kill ends the process at once, as a crash would, and waits for it.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// signal sends sig to the process.
func (p *process) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to %s: %v", sig, p.name, err)
	}
}

// waitFor polls ready until it answers nil, failing with the process's
// output when the process exits or 30 s pass.
func (p *process) waitFor(t testing.TB, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ready()
		if err == nil {
			return
		}
		if !p.running() {
			t.Fatalf("%s exited (%v) before it was ready: %v\n%s", p.name, p.err, err, p.output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 30 s: %v\n%s", p.name, err, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	proc *process
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	r := &redisServer{t: t, bin: lookTool(t, "redis-server", "redis-server"), dir: t.TempDir(), port: freePort(t)}
	r.conf = filepath.Join(r.dir, "redis.conf")
	conf := fmt.Sprintf("include %s\nport %d\ndir %s\ndaemonize no\nlogfile %s\nsave \"\"\n",
		filepath.Join(repoRoot(t), "deploy", "redis-messtrack.conf"), r.port, r.dir, filepath.Join(r.dir, "redis.log"))
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
	r.proc = startProcess(r.t, r.bin, r.conf)
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	r.proc.waitFor(r.t, func() error {
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
	proc *process
}

func (c *collectorProc) base() string { return "http://" + c.addr }

// startCollector writes a config for one site on redisURL and runs
// `messtrack serve` with it, waiting until /healthz answers 200.
func startCollector(t testing.TB, redisURL string) *collectorProc {
	t.Helper()
	bin := built.get(t)
	c := &collectorProc{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))}
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
	c.proc = startProcess(t, bin, "serve", "--config", config)
	client := &http.Client{Timeout: 2 * time.Second}
	c.proc.waitFor(t, func() error {
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
