package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestBudgetedPaths(t *testing.T) {
	for path, want := range map[string]bool{
		"/v1/visits": true, "/v1/clicks": true, "/V1/Visits/": true,
		"/hooks/whatsapp/demo": true, "/hooks/telegram/demo": true, "/hooks/viber/demo": true,
		"/v1/sites/demo/messages": true, "/v1/sites/demo/messages/": true,
		"/v1/sites/demo/costs": false, "/v1/sites/demo/heuristic/refit": false, "/v1/sites/demo/chats": false,
		"/v1/sites/demo/reports/channels": false, "/healthz": false, "/s/demo.js": false, "/dashboard/": false,
	} {
		if got := budgeted(path); got != want {
			t.Errorf("budgeted(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("receive: loadChat: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("rateLimit: script: %w", timeout), true},
		{fmt.Errorf("saveVisit: %w", refused), true},
		{fmt.Errorf("commit: %w", redis.ErrPoolTimeout), true},
		{fmt.Errorf("commit: %w", io.EOF), true},
		{fmt.Errorf("commit: %w", syscall.ECONNRESET), true},
		{errors.New("commit: script returned 7 values, want 3"), false},
		{fmt.Errorf("loadChat: %w", redis.Nil), false},
		{fail(ErrBadInput, "no such thing"), false},
		{context.Canceled, false},
	}
	for _, tc := range tests {
		if got := unavailable(tc.err); got != tc.want {
			t.Errorf("unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
