// Package redistest gives tests a real Redis: a private redis-server on a free
// loopback port with its own temporary directory, started once per test
// binary by Main, and a freshly flushed database for each test.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
//
// and in a test:
//
//	rdb := redistest.New(t) // *redis.Client on an empty database
//
// or, for code that takes a redis.UniversalClient, NewUniversal, which gives
// the test binary's Redis Cluster instead when MESSTRACK_TEST_REDIS=cluster.
//
// It never skips: when redis-server cannot be found or started, the tests
// fail with the reason.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// databases is how many logical databases the shared server offers; each test
// takes the next one, so a package may hold this many Redis tests.
const databases = 4000

// Server is one running redis-server process.
type Server struct {
	// Addr is host:port of the server.
	Addr string
	dir  string
	cmd  *exec.Cmd
	done chan error
	// exited is closed when the process has ended.
	exited chan struct{}
	next   atomic.Int64
	stop   sync.Once
}

// URL returns a redis:// URL for database db of the server.
func (s *Server) URL(db int) string { return fmt.Sprintf("redis://%s/%d", s.Addr, db) }

// shared is the server Main starts for the whole test binary. It is test-only
// state: product code never holds package-level state.
var shared atomic.Pointer[Server]

// Main starts the shared server, runs the tests and stops the server. Its
// result is the exit code for os.Exit.
func Main(m *testing.M) int {
	srv, err := StartServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		return 1
	}
	shared.Store(srv)
	code := m.Run()
	srv.Stop()
	if c := sharedCluster.Load(); c != nil {
		c.Stop()
	}
	return code
}

// New returns a client on a fresh, flushed database of the shared server and
// closes it when the test ends.
func New(tb testing.TB) *redis.Client {
	tb.Helper()
	srv := shared.Load()
	if srv == nil {
		tb.Fatal("redistest: no server; call os.Exit(redistest.Main(m)) from TestMain in this package")
	}
	return srv.Client(tb)
}

// Shared returns the server Main started, for tests that need its address.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	srv := shared.Load()
	if srv == nil {
		tb.Fatal("redistest: no server; call os.Exit(redistest.Main(m)) from TestMain in this package")
	}
	return srv
}

// Client returns a client on the server's next unused database, flushed, and
// closes it when the test ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	db := int(s.next.Add(1))
	if db >= databases {
		tb.Fatalf("redistest: all %d databases used; split the package's tests", databases)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DB: db})
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		tb.Fatalf("redistest: flush database %d on %s: %v", db, s.Addr, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Start starts a private server for one test (for tests that stop Redis on
// purpose) and stops it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	srv, err := StartServer()
	if err != nil {
		tb.Fatal("redistest:", err)
	}
	tb.Cleanup(srv.Stop)
	return srv
}

// StartServer starts a redis-server on a free loopback port and waits until
// it answers.
func StartServer() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found in PATH: run `make test` (it installs Debian's redis-server) or `apt-get install redis-server`")
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		srv, err := startOnce(bin)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startOnce(bin string, extra ...string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "messtrack-redis-")
	if err != nil {
		return nil, fmt.Errorf("make temp dir: %w", err)
	}
	srv := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, done: make(chan error, 1), exited: make(chan struct{})}
	srv.cmd = exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", dir, "--save", "", "--appendonly", "no",
		"--databases", strconv.Itoa(databases), "--daemonize", "no",
		"--logfile", filepath.Join(dir, "redis.log"))
	srv.cmd.Args = append(srv.cmd.Args, extra...)
	// The server must die with the test binary even when the binary is
	// killed; Pdeathsig fires when the thread that forked it exits, so the
	// fork happens on a thread kept locked for the life of the process.
	srv.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := srv.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := srv.cmd.Wait()
		close(srv.exited)
		srv.done <- err
		select {} // keep the thread, and so the death signal, for the process's life
	}()
	if err := <-started; err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return srv, nil
		}
		select {
		case werr := <-srv.done:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("redis-server on port %d exited (%v): %s", port, werr, log)
		default:
		}
		if time.Now().After(deadline) {
			srv.Stop()
			return nil, fmt.Errorf("redis-server on %s did not answer within 10s: %w", srv.Addr, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	s.stop.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(5 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.done
			}
		}
		os.RemoveAll(s.dir)
	})
}
