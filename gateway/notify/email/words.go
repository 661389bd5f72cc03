package email

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Header text that is not plain ASCII travels as RFC 2047 encoded-words.
// Go's mime.WordEncoder makes words of up to 75 characters and never
// folds; go-message folds a header only between words, so a subject of
// 75-character words stays on one line far past RFC 2047's 76 (a
// 130-character German subject became one line of 191). The encoder here
// makes words short enough that go-message folds between them: the first
// fits on the line after "Key: ", every other one on a continuation line
// of its own, each at most 75 characters and holding whole characters
// (RFC 2047 sections 2 and 5).

const (
	maxEncodedWord = 75 // RFC 2047 section 2
	maxHeaderLine  = 76 // RFC 2047 section 2, for lines with encoded-words
)

// headerText returns s as the value of unstructured header key: as it is
// when it is printable ASCII, else as folded encoded-words. Text that
// merely looks like an encoded-word ("=?") is encoded too, or the reader
// would decode it (into a line break, say).
func headerText(key, s string) string {
	if plainASCII(s) && !strings.Contains(s, "=?") {
		return s
	}
	return encodeWords(key, s)
}

// phrase encodes a display name for header key: RFC 2047 when it is not
// printable ASCII, a quoted string otherwise.
func phrase(key, s string) string {
	if !plainASCII(s) || strings.Contains(s, "=?") {
		return encodeWords(key, s)
	}
	return `"` + quotedPair.Replace(s) + `"`
}

// quotedPair escapes a quoted string's backslashes and quotes. It is built
// once: building a Replacer costs several kilobytes, and every message's
// List-Id needs one.
var quotedPair = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// encodeWords writes s as UTF-8 encoded-words (invalid UTF-8 becomes
// U+FFFD) separated by spaces, which decoders drop between adjacent
// words. Each word fits on the first line of header key, so every line
// go-message folds stays within 76 characters. It uses Q or B, whichever is shorter (Q for mostly Latin
// text, B for scripts where Q would triple the length). Q escapes every
// character but letters, digits and "!*+-/", so the words are also valid
// in a display name (RFC 2047 section 5 (3)).
func encodeWords(key, s string) string {
	size := min(maxEncodedWord, maxHeaderLine-len(key)-len(": "))
	q, b := qWords(s, size), bWords(s, size)
	if len(b) < len(q) {
		return b
	}
	return q
}

const wordOpen, wordClose = "=?utf-8?q?", "?="

func qWords(s string, size int) string {
	var words []string
	var w strings.Builder
	for _, r := range s {
		var enc string
		switch {
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!*+-/", r)):
			enc = string(r)
		case r == ' ':
			enc = "_"
		default:
			for _, c := range []byte(string(r)) {
				enc += fmt.Sprintf("=%02X", c)
			}
		}
		if w.Len() > 0 && len(wordOpen)+w.Len()+len(enc)+len(wordClose) > size {
			words = append(words, wordOpen+w.String()+wordClose)
			w.Reset()
		}
		w.WriteString(enc)
	}
	return strings.Join(append(words, wordOpen+w.String()+wordClose), " ")
}

func bWords(s string, size int) string {
	const open = "=?utf-8?b?"
	// Base64 takes 4 characters per 3 bytes.
	maxBytes := (size - len(open) - len(wordClose)) / 4 * 3
	var words []string
	var chunk []byte
	flush := func() {
		words = append(words, open+base64.StdEncoding.EncodeToString(chunk)+wordClose)
		chunk = chunk[:0]
	}
	for _, r := range s {
		if len(chunk) > 0 && len(chunk)+utf8.RuneLen(r) > maxBytes {
			flush()
		}
		chunk = utf8.AppendRune(chunk, r)
	}
	flush()
	return strings.Join(words, " ")
}
