package store

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// MaxSnapshot bounds the embedded store's file, written and read: the
// embedded store is for trying messtrack out, and a store past this size
// belongs in a Redis server.
const MaxSnapshot = 256 << 20

// DefaultSnapshotEvery is how often Persist writes the file besides at
// Close.
const DefaultSnapshotEvery = time.Minute

// snapshot is the file's content: every key of database 0 with its type,
// value and time to live. Values are binary-safe (gob writes strings as
// bytes): visits are stored in a compact binary form.
type snapshot struct {
	Version int
	Saved   time.Time
	Keys    []snapKey
}

type snapKey struct {
	Key  string
	Type string
	// TTL is the time to live left when saved; 0 for none.
	TTL    time.Duration
	String string
	Hash   map[string]string
	List   []string
	Set    []string
	ZSet   map[string]float64
}

const snapshotVersion = 1

// persister writes the embedded store to its file.
type persister struct {
	m     *miniredis.Miniredis
	path  string
	log   *slog.Logger
	now   func() time.Time
	mu    sync.Mutex // one write at a time
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
}

// Persist keeps the embedded store in the file at path: it loads the file
// now, when there is one, writes it every `every` (DefaultSnapshotEvery when
// 0) until Close, and once more at Close. Each write goes to a temporary
// file in the same folder, which then replaces the file, so a crash leaves
// the last whole copy. The log says where the file is. On a Redis server
// Persist does nothing: Redis keeps its own data.
func (d *DB) Persist(ctx context.Context, path string, every time.Duration, log *slog.Logger) error {
	if d.embedded == nil || path == "" {
		return nil
	}
	if d.persist != nil {
		return errors.New("store.Persist: already persisting")
	}
	if every <= 0 {
		every = DefaultSnapshotEvery
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("store.Persist: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return fmt.Errorf("store.Persist: create folder: %w", err)
	}
	p := &persister{m: d.embedded, path: abs, log: log, now: time.Now, stop: make(chan struct{}), done: make(chan struct{})}
	n, err := p.load()
	if err != nil {
		return fmt.Errorf("store.Persist: %w", err)
	}
	d.persist = p
	log.Info("embedded store kept in a file: loaded at start, written every interval and at shutdown",
		"file", abs, "keys", n, "every", every)
	go p.loop(ctx, every)
	return nil
}

func (p *persister) loop(ctx context.Context, every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.save(); err != nil {
				p.log.Error("embedded store not written", "file", p.path, "err", err)
			}
		}
	}
}

// finish stops the periodic writes and writes the file a last time.
func (p *persister) finish() error {
	var err error
	p.close.Do(func() {
		close(p.stop)
		<-p.done
		err = p.save()
		if err == nil {
			p.log.Info("embedded store written", "file", p.path)
		}
	})
	return err
}

// load reads the file into the store and returns the number of keys
// restored; a missing file is an empty store.
func (p *persister) load() (int, error) {
	f, err := os.Open(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", p.path, err)
	}
	defer f.Close()
	var snap snapshot
	lr := &io.LimitedReader{R: bufio.NewReader(f), N: MaxSnapshot + 1}
	if err := gob.NewDecoder(lr).Decode(&snap); err != nil {
		if lr.N <= 0 {
			return 0, fmt.Errorf("load %s: larger than %d MiB", p.path, MaxSnapshot>>20)
		}
		return 0, fmt.Errorf("load %s: not an embedded store file: %w", p.path, err)
	}
	if snap.Version != snapshotVersion {
		return 0, fmt.Errorf("load %s: file version %d, want %d", p.path, snap.Version, snapshotVersion)
	}
	elapsed := p.now().Sub(snap.Saved)
	if elapsed < 0 {
		elapsed = 0
	}
	n := 0
	for _, k := range snap.Keys {
		ttl := k.TTL
		if ttl > 0 {
			if ttl -= elapsed; ttl <= 0 {
				continue // expired while the collector was down
			}
		}
		if err := p.restore(k); err != nil {
			return n, fmt.Errorf("load %s: key %q: %w", p.path, k.Key, err)
		}
		if ttl > 0 {
			p.m.SetTTL(k.Key, ttl)
		}
		n++
	}
	return n, nil
}

func (p *persister) restore(k snapKey) error {
	m := p.m
	switch k.Type {
	case "string":
		return m.Set(k.Key, k.String)
	case "hash":
		fv := make([]string, 0, 2*len(k.Hash))
		for f, v := range k.Hash {
			fv = append(fv, f, v)
		}
		if len(fv) > 0 {
			m.HSet(k.Key, fv...)
		}
	case "list":
		if len(k.List) > 0 {
			_, err := m.Push(k.Key, k.List...)
			return err
		}
	case "set":
		if len(k.Set) > 0 {
			_, err := m.SetAdd(k.Key, k.Set...)
			return err
		}
	case "zset":
		for member, score := range k.ZSet {
			if _, err := m.ZAdd(k.Key, score, member); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("type %q is not kept", k.Type)
	}
	return nil
}

// save writes the store to a temporary file next to the file and renames
// it over the file.
func (p *persister) save() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	snap, err := p.snapshot()
	if err != nil {
		return fmt.Errorf("save %s: %w", p.path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p.path), "."+filepath.Base(p.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save %s: %w", p.path, err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up a failed write
	bw := bufio.NewWriter(tmp)
	lw := &limitWriter{w: bw, left: MaxSnapshot}
	err = gob.NewEncoder(lw).Encode(snap)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", p.path, err)
	}
	if err := os.Rename(tmp.Name(), p.path); err != nil {
		return fmt.Errorf("save %s: %w", p.path, err)
	}
	return nil
}

// snapshot copies every key of the store. Each key is read whole; keys
// written meanwhile may be caught before or after, as in any online copy.
func (p *persister) snapshot() (*snapshot, error) {
	m := p.m
	keys := m.Keys()
	sort.Strings(keys)
	snap := &snapshot{Version: snapshotVersion, Saved: p.now(), Keys: make([]snapKey, 0, len(keys))}
	for _, key := range keys {
		k := snapKey{Key: key, Type: m.Type(key), TTL: m.TTL(key)}
		var err error
		switch k.Type {
		case "":
			continue // gone meanwhile
		case "string":
			k.String, err = m.Get(key)
		case "hash":
			var fields []string
			if fields, err = m.HKeys(key); err == nil {
				k.Hash = make(map[string]string, len(fields))
				for _, f := range fields {
					k.Hash[f] = m.HGet(key, f)
				}
			}
		case "list":
			k.List, err = m.List(key)
		case "set":
			k.Set, err = m.Members(key)
		case "zset":
			k.ZSet, err = m.SortedSet(key)
		default:
			p.log.Warn("embedded store: a key of this type is not kept in the file", "key", key, "type", k.Type)
			continue
		}
		if errors.Is(err, miniredis.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		snap.Keys = append(snap.Keys, k)
	}
	return snap, nil
}

// limitWriter fails a write past its limit, so that a file never grows
// past MaxSnapshot.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > l.left {
		return 0, fmt.Errorf("the store is larger than %d MiB: use a Redis server (REDIS_URL)", MaxSnapshot>>20)
	}
	l.left -= int64(len(b))
	return l.w.Write(b)
}
