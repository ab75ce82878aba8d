package store

import (
	"fmt"
	"strings"
	"testing"
)

// A site of one shard keeps every chat key under its own tag, as before
// shards existed; a site of several spreads its chats over them, each chat's
// keys (record, history, seen marks, held code, code note) on one tag.
func TestChatKeysFollowTheChatsShard(t *testing.T) {
	one := NewShards("demo", 1)
	for _, chat := range []string{"whatsapp:15551234567", "telegram:bot:42", "viber:a{b}c d"} {
		if one.Chat(chat) != Chat("demo", chat) || one.ChatHistory(chat) != ChatHistory("demo", chat) ||
			one.MessageSeen(chat, "wa:x") != MessageSeen("demo", "wa:x") || one.HeldCode(chat) != HeldCode("demo", chat) ||
			one.CodeOpen(chat) != CodeOpen("demo", chat) {
			t.Errorf("one shard: %s keyed otherwise than the site's own keys", chat)
		}
	}
	sh := NewShards("demo", 16)
	count := make([]int, 16)
	for i := 0; i < 2000; i++ {
		chat := fmt.Sprintf("whatsapp:1650556%04d", i)
		k := sh.ChatShard(chat)
		count[k]++
		tag := sh.Tag(k)
		for _, key := range []string{sh.Chat(chat), sh.ChatHistory(chat), sh.MessageSeen(chat, "wa:x"), sh.HeldCode(chat), sh.CodeOpen(chat)} {
			if !strings.HasPrefix(key, "mt:"+tag+":") {
				t.Fatalf("%s of chat %s is not under its shard's tag %s", key, chat, tag)
			}
		}
		if again := NewShards("demo", 16).ChatShard(chat); again != k {
			t.Fatalf("chat %s on shard %d, then %d", chat, k, again)
		}
	}
	for k, n := range count {
		if n < 2000/16*7/10 || n > 2000/16*13/10 {
			t.Errorf("shard %d holds %d of 2000 chats, want within ±30 %% of %d", k, n, 2000/16)
		}
	}
}
