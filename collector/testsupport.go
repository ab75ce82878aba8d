package collector

// Test support. The tests outside this package (the browser tests in
// collector/browsertest) drive the server over HTTP, as a browser does; the
// few things they must read or plant beside the HTTP API go through
// TestProbe. The server itself never calls it.

import (
	"context"
	"fmt"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/ids"
	"github.com/messtrack/messtrack/reports"
)

// TestProbe reads and writes a server's state for tests in other packages.
// It is test support only.
type TestProbe struct{ s *Server }

// TestProbe returns the server's probe for tests.
func (s *Server) TestProbe() TestProbe { return TestProbe{s: s} }

// ChatRecord is a chat's record as the chats API answers it.
type ChatRecord = chatRecord

// Click is one entry of a chat target's click index: a visit and when it
// clicked.
type Click = click

// site returns the configured site called name, or ErrNotFound.
func (p TestProbe) site(name string) (*site, error) {
	st, ok := p.s.sites[name]
	if !ok {
		return nil, fmt.Errorf("test probe: site %q: %w", name, ErrNotFound)
	}
	return st, nil
}

// Codec is the site's codec of visit IDs and codes.
func (p TestProbe) Codec(siteName string) (*ids.Codec, error) {
	st, err := p.site(siteName)
	if err != nil {
		return nil, err
	}
	return st.codec, nil
}

// Code is the visible code of visit n that the snippet puts in prefilled
// text, in the site's code style.
func (p TestProbe) Code(siteName string, n uint64) (string, error) {
	st, err := p.site(siteName)
	if err != nil {
		return "", err
	}
	return st.codec.Code(n, st.style), nil
}

// LoadVisit returns the site's live visit numbered n, or ErrNotFound.
func (p TestProbe) LoadVisit(ctx context.Context, siteName string, n uint64) (*visit.Visit, error) {
	st, err := p.site(siteName)
	if err != nil {
		return nil, err
	}
	return p.s.loadVisit(ctx, st, n)
}

// SaveVisit numbers and stores v as the site's visit, as the intake does
// after its enrichment steps.
func (p TestProbe) SaveVisit(ctx context.Context, siteName string, v *visit.Visit) error {
	st, err := p.site(siteName)
	if err != nil {
		return err
	}
	return p.s.saveVisit(ctx, st, v)
}

// RecordClick records a click of visit n on target, from page, at the
// server's clock's time.
func (p TestProbe) RecordClick(ctx context.Context, siteName string, n uint64, target, page string) error {
	st, err := p.site(siteName)
	if err != nil {
		return err
	}
	return p.s.recordClick(ctx, st, n, target, page)
}

// RecentClicks returns the visits that clicked target in [from, to], newest
// first.
func (p TestProbe) RecentClicks(ctx context.Context, siteName, target string, from, to time.Time) ([]Click, error) {
	st, err := p.site(siteName)
	if err != nil {
		return nil, err
	}
	return p.s.recentClicks(ctx, st, target, from, to)
}

// ChatRecord builds a chat's record, or ErrNotFound.
func (p TestProbe) ChatRecord(ctx context.Context, siteName, chat string) (*ChatRecord, error) {
	st, err := p.site(siteName)
	if err != nil {
		return nil, err
	}
	return p.s.chatRecord(ctx, st, chat)
}

// Reports is the reports store the server hands its facts to.
func (p TestProbe) Reports() *reports.Store { return p.s.reports }
