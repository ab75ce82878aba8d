// Package e2e runs the shipped deployment: the release binary behind
// Debian's nginx with TLS, a Redis set up as deploy/redis-messtrack.conf
// says, headless Chromium as the visitor, and the deploy/ files checked by
// the tools that read them (systemd-analyze, promtool). Nothing here
// reaches beyond loopback, and nothing skips: a missing tool fails the test
// with how to install it.
package e2e

import (
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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/e2e/e2eproc"
	"github.com/messtrack/messtrack/internal/headless"
)

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
		cmd.Dir = e2eproc.RepoRoot(t)
		out, err := cmd.CombinedOutput()
		r.log, r.err = string(out), err
	})
	if r.err != nil {
		t.Fatalf("make image-root: %v\n%s", r.err, r.log)
	}
	return r.dir
}

// startRedis starts redis-server on a free loopback port with the given
// config text (a port, dir and log of its own are added) and returns a
// client and its redis:// URL.
func startRedis(t testing.TB, conf string) (*redis.Client, string) {
	t.Helper()
	bin := e2eproc.LookTool(t, "redis-server", "redis-server")
	dir := t.TempDir()
	port := e2eproc.FreePort(t)
	conf += fmt.Sprintf("\nport %d\ndir %s\ndaemonize no\nlogfile %s\n", port, dir, filepath.Join(dir, "redis.log"))
	path := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := e2eproc.Start(t, nil, bin, path)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	p.WaitFor(t, func() error {
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
	return startRedis(t, "include "+filepath.Join(e2eproc.RepoRoot(t), "deploy", "redis-messtrack.conf"))
}

// startCollector runs `messtrack serve` from bin with the config and waits
// until addr answers /healthz.
func startCollector(t testing.TB, bin, config, addr string) *e2eproc.Process {
	t.Helper()
	p := e2eproc.Start(t, nil, bin, "serve", "--config", config)
	p.WaitFor(t, func() error {
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
