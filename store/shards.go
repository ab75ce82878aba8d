package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// A site's visits, clicks and chats are spread over shards, each with its
// own hash tag, so that a busy site's visits and chats spread over a
// cluster's slots instead of filling the node of its one {site} slot. Shard 0's tag is the site's own
// ("{demo}"): a site of one shard (the default) has exactly the key layout
// of a site before shards existed. Shard k ≥ 1 has the tag "{demo~k.j}",
// where j is the first suffix whose slot falls in the k-th of Count equal
// ranges of the 16384 slots: the shards' slots are spread evenly, so any
// even, contiguous assignment of slots to masters (what `redis-cli --cluster
// create` makes) gives each master an even share of the shards. Site names
// hold no '~' ([a-z0-9_-]), so no site's tag is another's shard tag.
//
// A visit lives on the shard of its number (n mod Count) with everything
// keyed by it (its click, its claim, its chats) and with its entry in the
// click index of the target it clicked, which is one ZSET per shard: the
// click script and a visit's claim stay on one slot.

// MaxShards is the most shards a site may have.
const MaxShards = 256

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// Shards is a site's layout of visit and chat keys over its shards. Build it once per
// site (NewShards) and keep it: making one of many shards hashes a few
// thousand candidate tags.
type Shards struct {
	site string
	tags []string // tags[k] is the text between the braces of shard k's keys
}

// NewShards lays the site's visit keys out over n shards (n < 1 is 1; more
// than MaxShards is MaxShards).
func NewShards(site string, n int) Shards {
	n = max(1, min(n, MaxShards))
	tags := make([]string, n)
	tags[0] = site
	for k := 1; k < n; k++ {
		lo, hi := k*clusterSlots/n, (k+1)*clusterSlots/n
		for j := 0; ; j++ {
			tag := site + "~" + strconv.Itoa(k) + "." + strconv.Itoa(j)
			if s := Slot(tag); s >= lo && s < hi {
				tags[k] = tag
				break
			}
		}
	}
	return Shards{site: site, tags: tags}
}

// Site is the site the layout is of.
func (s Shards) Site() string { return s.site }

// Count is the number of shards.
func (s Shards) Count() int { return len(s.tags) }

// Of is the shard of visit number n.
func (s Shards) Of(n uint64) int { return int(n % uint64(len(s.tags))) }

// Tag is shard k's hash tag with its braces, "{demo~3.12}" ("{demo}" for
// shard 0).
func (s Shards) Tag(k int) string { return "{" + s.tags[k] + "}" }

func (s Shards) visitKey(n uint64, kind string) string {
	return siteKey(s.tags[s.Of(n)], kind, strconv.FormatUint(n, 36))
}

// Slot is the Redis Cluster hash slot of a hash tag's text (CRC16/XMODEM of
// it, modulo 16384), as Redis computes it for a key "…{tag}…".
func Slot(tag string) int {
	var crc uint16
	for i := 0; i < len(tag); i++ {
		crc ^= uint16(tag[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % clusterSlots
}

// ErrShardsChanged is CheckShards' answer to a config whose shards differ
// from those the site's visits are stored by.
var ErrShardsChanged = errors.New("shards cannot change once a site has stored visits")

// KeptShards is the number of shards the site's visits are stored by: the
// kept number, else 1 when the site stored visits before the number was
// kept, else 0 (a site never started). It only reads.
func KeptShards(ctx context.Context, rdb redis.UniversalClient, site string) (int, error) {
	got, err := rdb.Get(ctx, SiteShards(site)).Result()
	if errors.Is(err, redis.Nil) {
		n, err := rdb.Exists(ctx, VisitSeq(site)).Result()
		if err != nil {
			return 0, fmt.Errorf("shards of %s: %w", site, err)
		}
		return int(min(n, 1)), nil
	}
	if err != nil {
		return 0, fmt.Errorf("shards of %s: %w", site, err)
	}
	kept, err := strconv.Atoi(strings.TrimSpace(got))
	if err != nil {
		return 0, fmt.Errorf("shards of %s: stored value %q: %w", site, got, err)
	}
	return kept, nil
}

// CheckShards fixes the site's number of shards at its first start and
// checks it at every later one (KeptShards). It returns ErrShardsChanged
// (wrapped, with both numbers) when want differs from the kept number.
func CheckShards(ctx context.Context, rdb redis.UniversalClient, site string, want int) error {
	kept, err := KeptShards(ctx, rdb, site)
	if err != nil {
		return fmt.Errorf("check %w", err)
	}
	if kept == 0 {
		if err := rdb.SetNX(ctx, SiteShards(site), strconv.Itoa(want), 0).Err(); err != nil {
			return fmt.Errorf("check shards of %s: %w", site, err)
		}
		if kept, err = KeptShards(ctx, rdb, site); err != nil {
			return fmt.Errorf("check %w", err)
		}
	}
	if kept != want {
		return fmt.Errorf("site %s: shards is %d in the config, but its visits are stored over %d: %w", site, want, kept, ErrShardsChanged)
	}
	return nil
}

// Layout holds the Shards of each site, built once from the config.
type Layout map[string]Shards

// NewLayout lays out each site of counts (site -> its shards).
func NewLayout(counts map[string]int) Layout {
	l := make(Layout, len(counts))
	for site, n := range counts {
		l[site] = NewShards(site, n)
	}
	return l
}

// Of is the site's Shards; a site the layout does not hold has one shard.
func (l Layout) Of(site string) Shards {
	if s, ok := l[site]; ok {
		return s
	}
	return NewShards(site, 1)
}

// A chat lives on the shard of its key's hash (ChatShard): its record, its
// history, the seen marks of its messages, its held code and its open code
// note share that shard's tag, since the chat commit writes the first
// three together and the others are only read and written with the chat.
// The site-wide keys a chat is indexed and reported under (Chats,
// ReportChat with the aggregates) stay on the site's own tag. On a site of
// one shard every chat key is under "{site}", as before shards existed.

// ChatShard is the shard of a chat key: FNV-1a (32 bits) of the key modulo
// Count, stable across processes and versions.
func (s Shards) ChatShard(chat string) int {
	if len(s.tags) == 1 {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(chat); i++ {
		h ^= uint32(chat[i])
		h *= 16777619
	}
	return int(h % uint32(len(s.tags)))
}

// chatTag is the tag text of a chat's shard.
func (s Shards) chatTag(chat string) string { return s.tags[s.ChatShard(chat)] }
