package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Settings are what one Redis server says about how it keeps data.
type Settings struct {
	// Addr names the server (a cluster has one Settings per master).
	Addr string
	// MaxMemory is the memory limit in bytes; 0 is none.
	MaxMemory int64
	// Policy is maxmemory-policy.
	Policy string
	// AOF is appendonly; AppendFsync its fsync policy.
	AOF         bool
	AppendFsync string
	// Save is the RDB snapshot schedule ("" when off); SaveKnown is false
	// when the server refused CONFIG GET (managed services rename it).
	Save      string
	SaveKnown bool
	// LastBgsaveOK and LastAOFWriteOK are false after a failed snapshot or
	// AOF write: the server keeps answering but no longer keeps data.
	LastBgsaveOK   bool
	LastAOFWriteOK bool
	// Version is redis_version.
	Version string
}

// Evicts reports whether the server may delete keys to make room: a memory
// limit with any policy but noeviction. Every policy, volatile-* included,
// deletes visits, which carry a TTL.
func (s Settings) Evicts() bool { return s.MaxMemory > 0 && s.Policy != "noeviction" }

// Persists reports whether the server keeps data across a restart.
func (s Settings) Persists() bool { return s.AOF || s.Save != "" }

// ErrEvicting says Redis may delete messtrack's keys under memory pressure.
var ErrEvicting = errors.New("redis evicts keys under memory pressure")

// ReadSettings reads the settings of the server, or of every master of a
// cluster. INFO is read first (managed services allow it); CONFIG GET fills
// in the snapshot schedule where it is allowed.
func ReadSettings(ctx context.Context, rdb redis.UniversalClient) ([]Settings, error) {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		c, ok := rdb.(*redis.Client)
		if !ok {
			return nil, fmt.Errorf("store.ReadSettings: unexpected client %T", rdb)
		}
		s, err := readSettings(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("store.ReadSettings: %w", err)
		}
		return []Settings{s}, nil
	}
	var mu sync.Mutex
	var out []Settings
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		s, err := readSettings(ctx, c)
		mu.Lock()
		out = append(out, s)
		mu.Unlock()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store.ReadSettings: %w", err)
	}
	return out, nil
}

func readSettings(ctx context.Context, c *redis.Client) (Settings, error) {
	s := Settings{Addr: c.Options().Addr}
	raw, err := c.Info(ctx, "server", "memory", "persistence").Result()
	if err != nil {
		return s, fmt.Errorf("info on %s: %w", s.Addr, err)
	}
	info := parseInfo(raw)
	s.Version = info["redis_version"]
	s.MaxMemory, _ = strconv.ParseInt(info["maxmemory"], 10, 64)
	s.Policy = info["maxmemory_policy"]
	s.AOF = info["aof_enabled"] == "1"
	s.LastBgsaveOK = info["rdb_last_bgsave_status"] != "err"
	s.LastAOFWriteOK = info["aof_last_write_status"] != "err"
	if cfg, err := c.ConfigGet(ctx, "save").Result(); err == nil {
		s.Save, s.SaveKnown = strings.TrimSpace(cfg["save"]), true
	}
	if cfg, err := c.ConfigGet(ctx, "appendfsync").Result(); err == nil {
		s.AppendFsync = cfg["appendfsync"]
	}
	return s, nil
}

func parseInfo(raw string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	return out
}

// RefuseEviction fails with ErrEvicting, naming the server, its limit and
// policy and the cure, when any server may evict messtrack's keys.
func RefuseEviction(ctx context.Context, rdb redis.UniversalClient) error {
	all, err := ReadSettings(ctx, rdb)
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.Evicts() {
			return fmt.Errorf("%w: %s has maxmemory %d with maxmemory-policy %s, so it silently deletes visits and chats when full; "+
				"set `maxmemory-policy noeviction` in redis.conf (then a full Redis refuses writes, which the collector reports, instead of losing data)",
				ErrEvicting, s.Addr, s.MaxMemory, s.Policy)
		}
	}
	return nil
}

// SlotsCovered returns how many of a cluster's 16384 slots a master serves,
// from CLUSTER SHARDS (Redis 7): each shard lists its slot ranges once,
// whatever its number of replicas.
func SlotsCovered(ctx context.Context, cc *redis.ClusterClient) (int, error) {
	shards, err := cc.ClusterShards(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("store.SlotsCovered: cluster shards: %w", err)
	}
	n := 0
	for _, sh := range shards {
		for _, r := range sh.Slots {
			n += int(r.End - r.Start + 1)
		}
	}
	return n, nil
}
