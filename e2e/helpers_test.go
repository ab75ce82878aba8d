// Package e2e runs the shipped deployment: the release binary behind
// Debian's nginx with TLS, a Redis set up as deploy/redis-messtrack.conf
// says, headless Chromium as the visitor, and the deploy/ files checked by
// the tools that read them (systemd-analyze, promtool). Nothing here
// reaches beyond loopback, and nothing skips: a missing tool fails the test
// with how to install it.
package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/internal/headless"
)

// repoRoot is the repository, one folder up from this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// imageRoot is the container image's file tree as `make image-root` lays
// it out, built once per test binary; its binary is the one every test runs.
type imageRoot struct {
	once sync.Once
	dir  string
	log  string
	err  error
}

func (r *imageRoot) get(t testing.TB) string {
	t.Helper()
	r.once.Do(func() {
		dir, err := os.MkdirTemp("", "messtrack-image-root-")
		if err != nil {
			r.err = err
			return
		}
		r.dir = filepath.Join(dir, "root")
		cmd := exec.Command("make", "--no-print-directory", "image-root", "IMAGE_ROOT="+r.dir)
		cmd.Dir = repoRoot(t)
		out, err := cmd.CombinedOutput()
		r.log, r.err = string(out), err
	})
	if r.err != nil {
		t.Fatalf("make image-root: %v\n%s", r.err, r.log)
	}
	return r.dir
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

// lookTool finds a program on PATH or in the sbin folders non-root PATHs
// lack; a missing one fails the test naming the Debian package.
func lookTool(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	t.Fatalf("%s is needed: run `make deps` (it installs Debian's %s) or `apt-get install %s`", name, pkg, pkg)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// process is a child process that dies with the test binary and is stopped
// when the test ends.
type process struct {
	cmd  *exec.Cmd
	done chan error
	out  *bytes.Buffer
	mu   *sync.Mutex
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start runs name with args; the process is killed when the test binary
// dies (Pdeathsig, forked from a thread kept locked) and stopped with
// SIGTERM at the end of the test.
func start(t testing.TB, env []string, name string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(name, args...), done: make(chan error, 1), out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = lockedWriter{p.mu, p.out}
	p.cmd.Stderr = lockedWriter{p.mu, p.out}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.done <- p.cmd.Wait()
		select {}
	}()
	if err := <-started; err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitFor polls ready until it answers nil, failing with the process's
// output when the process exits or 30 s pass.
func (p *process) waitFor(t testing.TB, what string, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ready()
		if err == nil {
			return
		}
		select {
		case werr := <-p.done:
			p.done <- werr
			t.Fatalf("%s exited (%v) before it was ready: %v\n%s", what, werr, err, p.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 30 s: %v\n%s", what, err, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startRedis starts redis-server on a free loopback port with the given
// config text (a port, dir and log of its own are added) and returns a
// client and its redis:// URL.
func startRedis(t testing.TB, conf string) (*redis.Client, string) {
	t.Helper()
	bin := lookTool(t, "redis-server", "redis-server")
	dir := t.TempDir()
	port := freePort(t)
	conf += fmt.Sprintf("\nport %d\ndir %s\ndaemonize no\nlogfile %s\n", port, dir, filepath.Join(dir, "redis.log"))
	path := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, nil, bin, path)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	p.waitFor(t, "redis-server", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			return fmt.Errorf("%w; log: %s", err, log)
		}
		return nil
	})
	return c, "redis://" + addr + "/0"
}

// documentedRedis is deploy/redis-messtrack.conf included as docs/deploy.md
// says.
func documentedRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	return startRedis(t, "include "+filepath.Join(repoRoot(t), "deploy", "redis-messtrack.conf"))
}

// startCollector runs `messtrack serve` from bin with the config and waits
// until addr answers /healthz.
func startCollector(t testing.TB, bin, config, addr string) *process {
	t.Helper()
	p := start(t, nil, bin, "serve", "--config", config)
	p.waitFor(t, "messtrack serve", func() error {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})
	return p
}

// selfSigned makes a certificate and key for hosts (names and addresses),
// writes them as PEM into dir and returns their paths and the certificate.
func selfSigned(t testing.TB, dir string, hosts ...string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: hosts[0]},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// spkiHash is the base64 SHA-256 of a certificate's public key, the form
// Chromium's --ignore-certificate-errors-spki-list takes: Chromium trusts
// exactly this certificate, nothing else.
func spkiHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// headlessChromium starts the tests' Chromium (internal/headless).
func headlessChromium(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return headless.Start(t, extra...)
}

// browserUserAgent is the user agent the tests' browser sends.
const browserUserAgent = headless.UserAgent

// writeFile writes text to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// replaceAll applies old/new pairs, failing when an old string is absent:
// the shipped file changed and the test must follow.
func replaceAll(t testing.TB, what, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%s no longer holds %q", what, pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}
