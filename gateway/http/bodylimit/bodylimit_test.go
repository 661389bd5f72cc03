package bodylimit

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
)

// TestLimit: a declared length over the limit is refused before reading,
// a body of unknown length fails when reading passes the limit (Over and
// Check turn that into ETOOLARGE), and one within the limit reads whole.
func TestLimit(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11)))
	if err := Limit(w, r, 10, nil); gateway.ErrorCode(err) != gateway.ETOOLARGE {
		t.Errorf("declared 11 bytes over 10: %v, want too_large", err)
	}
	custom := func(n int64) error { return gateway.Errorf(gateway.ETOOLARGE, "custom %d", n) }
	if err := Limit(w, r, 10, custom); err == nil || err.Error() != "custom 10" {
		t.Errorf("custom refusal: %v", err)
	}

	r = httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11)))
	r.ContentLength = -1 // chunked
	if err := Limit(w, r, 10, nil); err != nil {
		t.Fatal(err)
	}
	_, err := io.ReadAll(r.Body)
	if n, over := Over(err); !over || n != 10 {
		t.Fatalf("reading past the limit: %v (over %v, %d)", err, over, n)
	}
	if gateway.ErrorCode(Check(err)) != gateway.ETOOLARGE {
		t.Errorf("Check(%v) is not too_large", err)
	}
	if err := Check(io.ErrUnexpectedEOF); !errors.Is(err, io.ErrUnexpectedEOF) || gateway.ErrorCode(err) == gateway.ETOOLARGE {
		t.Error("Check changed an error that is not over the limit")
	}

	r = httptest.NewRequest("POST", "/", strings.NewReader("0123456789"))
	if err := Limit(w, r, 10, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r.Body); err != nil || len(b) != 10 {
		t.Errorf("a body at the limit: %d bytes, %v", len(b), err)
	}
	if err := Limit(w, httptest.NewRequest("GET", "/", http.NoBody), 10, nil); err != nil {
		t.Errorf("no body: %v", err)
	}
}
