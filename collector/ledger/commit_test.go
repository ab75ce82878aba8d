package ledger

import "testing"

func TestParseReply(t *testing.T) {
	tests := []struct {
		reply   string
		want    Result
		wantErr bool
	}{
		{reply: "ok", want: Result{Outcome: Stored}},
		{reply: "ok|whatsapp:16505550100", want: Result{Outcome: Stored, TakenFrom: "whatsapp:16505550100"}},
		{reply: "dup", want: Result{Outcome: Duplicate}},
		{reply: "conflict", want: Result{Outcome: conflict}},
		{reply: "claimed", want: Result{Outcome: Claimed}},
		{reply: "ok|", wantErr: true},
		{reply: "", wantErr: true},
		{reply: "OK", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseReply(tt.reply)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseReply(%q) = %+v, %v; want %+v, error %v", tt.reply, got, err, tt.want, tt.wantErr)
		}
	}
}
