package email

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/gateway/notify"
)

// maxResponse caps Result.Response: SMTP replies are short, and what is
// kept goes into the delivery log.
const maxResponse = 1024

// classify turns a failed attempt into the Result and the retry decision
// the dispatcher acts on:
//   - before a transaction (connecting, TLS, EHLO, AUTH) every failure is
//     retried, whatever the reply: it is the server's or the
//     configuration's trouble, not the message's, and marking every queued
//     message dead over a wrong password would lose them;
//   - 4xx replies (421, 450, 451, 452, 454, …) are retried;
//   - 5xx replies are not; 550, 551 and 553 that say the recipient's
//     mailbox does not exist (see mailboxGone) also set Gone;
//   - network errors, timeouts, DNS failures and cancellation are retried;
//   - anything else (a malformed address the client refused to send) is not.
func classify(err error, stage string) (notify.Result, bool) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		res := notify.Result{Code: se.Code, Response: capResponse(se.Error())}
		if stage == stageConnect {
			return res, true
		}
		if se.Code >= 400 && se.Code < 500 {
			return res, true
		}
		res.Gone = mailboxGone(se, stage)
		return res, false
	}
	if stage == stageConnect || transient(err) {
		return notify.Result{}, true
	}
	return notify.Result{}, false
}

// mailboxGone reports a 5xx reply that says the recipient's mailbox does
// not exist, rather than, say, a policy rejection (550 5.7.1) or a full
// mailbox (550 5.2.2). To RCPT TO, a 550, 551 or 553 without a more
// specific enhanced code (none, or X.0.0) counts; later, only the
// addressing codes X.1.1, X.1.2, X.1.3, X.1.6, X.1.10 and the disabled
// mailbox X.2.1 do.
func mailboxGone(se *smtp.SMTPError, stage string) bool {
	if se.Code != 550 && se.Code != 551 && se.Code != 553 || stage == stageMail {
		return false
	}
	ec := se.EnhancedCode
	switch {
	case ec == smtp.EnhancedCodeNotSet || ec == smtp.NoEnhancedCode || ec[1] == 0 && ec[2] == 0:
		return stage == stageRcpt
	case ec[1] == 1:
		switch ec[2] {
		case 1, 2, 3, 6, 10: // bad mailbox, bad system, bad syntax, moved, null MX
			return true
		}
	case ec[1] == 2 && ec[2] == 1: // mailbox disabled
		return true
	}
	return false
}

// transient reports errors of the network and of time: worth retrying.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, errClosed) {
		return true
	}
	var ne net.Error
	var de *net.DNSError
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &de) || errors.As(err, &oe) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// capResponse keeps the start of a reply as valid UTF-8 without NULs (the
// delivery log is a text column on both stores).
func capResponse(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= maxResponse {
		return s
	}
	cut := maxResponse
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
