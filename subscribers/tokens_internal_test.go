package subscribers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

func testService(t *testing.T, key string) *Service {
	t.Helper()
	k, err := deriveKeys([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &Service{keys: k, o: Options{PublicURL: "https://s.example", Now: func() time.Time { return now }, ConfirmTTL: time.Hour}}
}

func TestTokens(t *testing.T) {
	s := testService(t, "0123456789abcdef0123456789abcdef")
	other := testService(t, "another key, just as long as it.")
	sub := &gateway.Subscriber{ID: "abcdefgh12345678", TokenNonce: newNonce()}
	check := func(s *Service, tok string, sub *gateway.Subscriber, allowed ...string) error {
		p, err := parseToken(tok, allowed...)
		if err != nil {
			return err
		}
		return s.verify(p, sub, s.o.Now())
	}
	manage, unsub := s.token(purposeManage, sub, time.Time{}), s.token(purposeUnsubscribe, sub, time.Time{})
	confirm := s.token(purposeConfirm, sub, s.o.Now().Add(time.Hour))
	if strings.Contains(manage+unsub+confirm, sub.TokenNonce) || !strings.Contains(manage, sub.ID) {
		t.Errorf("tokens %q %q %q", manage, unsub, confirm)
	}
	if err := check(s, manage, sub, purposeManage); err != nil {
		t.Errorf("manage: %v", err)
	}
	if err := check(s, confirm, sub, purposeConfirm); err != nil {
		t.Errorf("confirm: %v", err)
	}
	tests := []struct {
		name    string
		svc     *Service
		tok     string
		allowed string
		want    error
	}{
		{"another purpose", s, unsub, purposeManage, ErrInvalidLink},
		{"purpose relabelled", s, "m" + unsub[1:], purposeManage, ErrInvalidLink},
		{"another key", other, manage, purposeManage, ErrInvalidLink},
		{"mac changed", s, flipMAC(manage), purposeManage, ErrInvalidLink},
		{"expiry moved", s, "c." + sub.ID + ".zzzzzz." + confirm[strings.LastIndexByte(confirm, '.')+1:], purposeConfirm, ErrInvalidLink},
		{"truncated", s, manage[:len(manage)-3], purposeManage, ErrInvalidLink},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := check(tt.svc, tt.tok, sub, tt.allowed); !errors.Is(err, tt.want) {
				t.Errorf("%q: %v, want %v", tt.tok, err, tt.want)
			}
		})
	}
	// Another subscriber's id with this one's MAC, even if they shared a
	// nonce: the id is under the MAC.
	twin := &gateway.Subscriber{ID: "zzzzzzzzzzzzzzzz", TokenNonce: sub.TokenNonce}
	if err := check(s, strings.Replace(manage, sub.ID, twin.ID, 1), twin, purposeManage); !errors.Is(err, ErrInvalidLink) {
		t.Errorf("a MAC moved to another id: %v", err)
	}
	renonced := *sub
	renonced.TokenNonce = newNonce()
	if err := check(s, manage, &renonced, purposeManage); !errors.Is(err, ErrInvalidLink) {
		t.Errorf("a new nonce left an old link working: %v", err)
	}
	late := testService(t, "0123456789abcdef0123456789abcdef")
	late.o.Now = func() time.Time { return s.o.Now().Add(2 * time.Hour) }
	if err := check(late, confirm, sub, purposeConfirm); !errors.Is(err, ErrLinkExpired) {
		t.Errorf("an old confirmation: %v", err)
	}
}

func TestSecretBox(t *testing.T) {
	a := testService(t, "0123456789abcdef0123456789abcdef").keys.box
	b := testService(t, "another key, just as long as it.").keys.box
	sealed, err := a.Seal("whsec_c2VjcmV0c2VjcmV0c2VjcmV0")
	if err != nil || !strings.HasPrefix(sealed, sealedPrefix) || strings.Contains(sealed, "whsec") {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	again, err := a.Seal("whsec_c2VjcmV0c2VjcmV0c2VjcmV0")
	if err != nil {
		t.Fatal(err)
	}
	if again == sealed {
		t.Error("sealing twice gave the same text: the nonce is not random")
	}
	if plain, err := a.Open(sealed); err != nil || plain != "whsec_c2VjcmV0c2VjcmV0c2VjcmV0" {
		t.Errorf("Open = %q, %v", plain, err)
	}
	if _, err := b.Open(sealed); !errors.Is(err, ErrSealed) {
		t.Errorf("another key opened it: %v", err)
	}
	// Damage a character in the middle: the last base64 characters may carry
	// only padding bits, so changing them need not change the bytes.
	mid := len(sealed) / 2
	flip := byte('A')
	if sealed[mid] == 'A' {
		flip = 'B'
	}
	if _, err := a.Open(sealed[:mid] + string(flip) + sealed[mid+1:]); !errors.Is(err, ErrSealed) {
		t.Errorf("a damaged value opened: %v", err)
	}
	if plain, err := a.Open("whsec_plain"); err != nil || plain != "whsec_plain" {
		t.Errorf("a plain value: %q, %v", plain, err)
	}
}

// flipMAC changes the first character of a token's MAC (the last one
// carries padding bits a decoder may ignore).
func flipMAC(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 1
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// A token has one spelling: of the 64 characters the last position can
// hold, only the one minted verifies (the 4 unused bits of the MAC's last
// base64 character are not ignored).
func TestTokenSpellingIsCanonical(t *testing.T) {
	s := testService(t, "0123456789abcdef0123456789abcdef")
	sub := &gateway.Subscriber{ID: "abcdefgh12345678", TokenNonce: newNonce()}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, purpose := range []string{purposeManage, purposeUnsubscribe, purposeConfirm} {
		tok := s.token(purpose, sub, s.o.Now().Add(time.Hour))
		var verified []string
		for _, last := range alphabet {
			spelling := tok[:len(tok)-1] + string(last)
			p, err := parseToken(spelling, purpose)
			if err == nil && s.verify(p, sub, s.o.Now()) == nil {
				verified = append(verified, spelling)
			}
		}
		if len(verified) != 1 || verified[0] != tok {
			t.Errorf("%s token: %d spellings verify (%q), want only %q", purpose, len(verified), verified, tok)
		}
	}
}
