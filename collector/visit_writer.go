package collector

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// visitWriter stores visits in pipelines: while one pipeline is on its way
// to Redis, the visits that arrive queue up and go together in the next.
// Under load a busy site's visits then cost Redis and the collector one
// round trip per batch instead of one per visit; when traffic is light a
// batch is a single SET sent at once, so nothing waits for a timer.
type visitWriter struct {
	rdb redis.UniversalClient
	// replicas hold each batch before its callers are answered.
	replicas *store.Replicas
	queue    chan *pendingVisit
	stop     chan struct{}
	// syncs holds a token per batch waiting for replicas.
	syncs chan struct{}
	// wg counts the flushers and the batches waiting for replicas.
	wg sync.WaitGroup

	// mu orders set against close: once closed is set no visit enters the
	// queue, so the flushers' last drain answers every waiting caller.
	mu     sync.RWMutex
	closed bool
}

// pendingVisit is one SET waiting for its batch.
type pendingVisit struct {
	key  string
	val  []byte
	ttl  time.Duration
	done chan error
}

const (
	// visitFlushers is how many pipelines may be in flight at once: enough
	// to keep Redis busy while a batch travels.
	visitFlushers = 1
	// visitBatchMax bounds one pipeline.
	visitBatchMax = 128
	// visitSyncs is how many batches may wait for replicas at once.
	visitSyncs = 4
	// visitWriteTimeout bounds one pipeline when the callers' own contexts
	// have no deadline.
	visitWriteTimeout = 5 * time.Second
)

func newVisitWriter(rdb redis.UniversalClient, replicas *store.Replicas) *visitWriter {
	w := &visitWriter{rdb: rdb, replicas: replicas, queue: make(chan *pendingVisit, visitFlushers*visitBatchMax),
		stop: make(chan struct{}), syncs: make(chan struct{}, visitSyncs)}
	w.wg.Add(visitFlushers)
	for range visitFlushers {
		go w.flush()
	}
	return w
}

// set stores val at key with ttl and returns when Redis has answered and,
// where replicas are waited for, they hold it.
func (w *visitWriter) set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	p := &pendingVisit{key: key, val: val, ttl: ttl, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return fmt.Errorf("visitWriter: closed")
	}
	select {
	case w.queue <- p:
	case <-ctx.Done():
		w.mu.RUnlock()
		return fmt.Errorf("visitWriter: %w", ctx.Err())
	}
	w.mu.RUnlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("visitWriter: %w", ctx.Err())
	}
}

// flush sends whatever is queued, a batch at a time; after close it sends
// what is left and returns.
func (w *visitWriter) flush() {
	defer w.wg.Done()
	batch := make([]*pendingVisit, 0, visitBatchMax)
	for {
		stopping := false
		select {
		case p := <-w.queue:
			batch = append(batch[:0], p)
		case <-w.stop:
			stopping = true
			batch = batch[:0]
		}
	more:
		for len(batch) < visitBatchMax {
			select {
			case p := <-w.queue:
				batch = append(batch, p)
			default:
				break more
			}
		}
		if len(batch) > 0 {
			w.send(batch)
		}
		if stopping && len(batch) == 0 {
			return
		}
	}
}

func (w *visitWriter) send(batch []*pendingVisit) {
	ctx, cancel := context.WithTimeout(context.Background(), visitWriteTimeout)
	defer cancel()
	ctx, written := store.Track(ctx)
	errs := make([]error, len(batch))
	if len(batch) == 1 {
		p := batch[0]
		errs[0] = w.rdb.Set(ctx, p.key, p.val, p.ttl).Err()
	} else {
		pipe := w.rdb.Pipeline()
		cmds := make([]*redis.StatusCmd, len(batch))
		for i, p := range batch {
			cmds[i] = pipe.Set(ctx, p.key, p.val, p.ttl)
		}
		_, _ = pipe.Exec(ctx) // each command carries its own error
		for i := range batch {
			errs[i] = cmds[i].Err()
		}
	}
	if w.replicas.Off() || written.Nodes() == 0 {
		answer(batch, errs, nil)
		return
	}
	// The batch's callers are answered once replicas hold it. The wait
	// goes on beside the next batches (at most visitSyncs at once): a
	// later batch's wait covers an earlier one's writes as well, so their
	// order does not matter.
	waiting := slices.Clone(batch)
	w.syncs <- struct{}{}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.syncs }()
		ctx, cancel := context.WithTimeout(context.Background(), visitWriteTimeout)
		defer cancel()
		answer(waiting, errs, w.replicas.Sync(ctx, written))
	}()
}

// answer tells each caller of batch its error, or syncErr when its write
// succeeded but the replicas did not acknowledge it.
func answer(batch []*pendingVisit, errs []error, syncErr error) {
	for i, p := range batch {
		if errs[i] == nil {
			errs[i] = syncErr
		}
		p.done <- errs[i]
	}
}

// close stops taking visits, stores those already queued and stops the
// flushers. It is safe to call more than once.
func (w *visitWriter) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait()
}
