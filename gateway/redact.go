package gateway

import (
	"net/url"
	"regexp"
)

// RedactURL shortens a URL to scheme://host/…: what identifies the
// receiver without what often is its secret (a Slack or Teams hook's
// path, a token in the query, a password in the user info). A text that
// is not an absolute URL is returned as "…", never as it is.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "…"
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		out += "/…"
	}
	return out
}

// urlInText finds absolute URLs in free text (error messages): a scheme,
// "://", and everything up to white space or a quote.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>` + "`" + `]+`)

// RedactURLs applies RedactURL to every URL in text, such as a delivery's
// last error ("Post \"https://hooks.example.com/T0/B0/secret\": …"),
// for people who may see that a delivery failed but not where to.
func RedactURLs(text string) string {
	return urlInText.ReplaceAllStringFunc(text, RedactURL)
}
