package email_test

import (
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/notify/email"
)

func TestParseServer(t *testing.T) {
	tests := []struct {
		url  string
		want email.Server
	}{
		{"smtp://mail.example.com", email.Server{Addr: "mail.example.com:25", Host: "mail.example.com"}},
		{"smtp://u:p%40ss@mail.example.com:587?tls=starttls", email.Server{Addr: "mail.example.com:587", Host: "mail.example.com", TLS: email.TLSStartTLS, Username: "u", Password: "p@ss"}},
		{"smtp://mail.example.com?tls=starttls", email.Server{Addr: "mail.example.com:587", Host: "mail.example.com", TLS: email.TLSStartTLS}},
		{"smtps://u:p@mail.example.com", email.Server{Addr: "mail.example.com:465", Host: "mail.example.com", TLS: email.TLSImplicit, Username: "u", Password: "p"}},
		{"smtp://mail.example.com:2525?tls=implicit", email.Server{Addr: "mail.example.com:2525", Host: "mail.example.com", TLS: email.TLSImplicit}},
		{"smtp://mailpit:1025?tls=none", email.Server{Addr: "mailpit:1025", Host: "mailpit", TLS: email.TLSNone}},
		{"smtp://[::1]:25", email.Server{Addr: "[::1]:25", Host: "::1"}},
	}
	for _, tt := range tests {
		got, err := email.ParseServer(tt.url)
		if err != nil || got != tt.want {
			t.Errorf("ParseServer(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
		}
	}
	for _, bad := range []string{"http://mail.example.com", "smtp://", "smtp://h?tls=sometimes", "smtps://h?tls=starttls", "smtp://h?port=1", "smtp://h?tls=none&tls=none", "smtp://u:secret@h:%zz"} {
		_, err := email.ParseServer(bad)
		if err == nil {
			t.Errorf("ParseServer(%q) succeeded", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseServer error shows the password: %v", err)
		}
	}
	s, _ := email.ParseServer("smtp://user:secret@mail.example.com:587?tls=starttls")
	if got := s.String(); got != "smtp://user@mail.example.com:587?tls=starttls" {
		t.Errorf("String = %q", got)
	}
}
