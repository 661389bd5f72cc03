package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway/channels"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/sources"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// extensions are the files one addition of each kind touches, new ones
// and edited ones; <name> stands for the thing added. docs/architecture.md
// names the same files under "Adding a source, a channel or a console
// screen".
var extensions = []struct {
	what  string
	files []string
}{
	{what: "source", files: []string{
		"gateway/sources/<name>/",    // the decoder, its tests, testdata/ and testdata/README.md
		"gateway/sources/sources.go", // one line in Registry
		"docs/ingest.md",             // one row in the table of kinds
	}},
	{what: "console screen", files: []string{
		"gateway/console/<name>.go",             // the handlers and <name>Routes
		"gateway/console/templates/<name>.html", // its page (more as <name>-*.html)
		"gateway/console/console.go",            // one line in screens, one in nav
	}},
	{what: "channel", files: []string{
		"gateway/notify/<name>/",       // the Notifier and its notify.Channel (build, address check)
		"gateway/channels/channels.go", // one line in registry
		"docs/subscribers.md",          // one row in the table of channels
	}},
}

// TestExtensionFiles keeps the list above true: within three files,
// each file named in docs/architecture.md,
// each edited file there, each new one with at least one of its kind.
func TestExtensionFiles(t *testing.T) {
	root := filepath.Join("..", "..")
	arch, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(arch), "\n## Adding a source, a channel or a console screen\n")
	if !ok {
		t.Fatal(`docs/architecture.md has no section "Adding a source, a channel or a console screen"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, x := range extensions {
		if len(x.files) > 3 {
			t.Errorf("adding a %s touches %d files, more than three: %q", x.what, len(x.files), x.files)
		}
		for _, f := range x.files {
			if !strings.Contains(section, "`"+f+"`") {
				t.Errorf("docs/architecture.md does not name %s among the files of a %s", f, x.what)
			}
			pattern := filepath.Join(root, strings.TrimSuffix(strings.ReplaceAll(f, "<name>", "*"), "/"))
			if matches, err := filepath.Glob(pattern); err != nil || len(matches) == 0 {
				t.Errorf("%s (a %s's) matches no file", f, x.what)
			}
		}
	}
}

// TestSourceKindsHaveOneList: every kind of sources.Registry has its
// package and its testdata README, and the lists others show come from
// the registry rather than from a copy: the API description's enum and
// the console's select. (Config validation and its message are checked
// in gateway/config, the docs' table in gateway/sources.)
func TestSourceKindsHaveOneList(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, kind := range sources.Kinds() {
		readme := filepath.Join(root, "gateway", "sources", strings.ReplaceAll(kind, "-", ""), "testdata", "README.md")
		if _, err := os.Stat(readme); err != nil {
			t.Errorf("source kind %s: %v", kind, err)
		}
	}

	doc := servedEnums(t)
	if got := doc["Source"]["kind"]; !slices.Equal(got, sources.Kinds()) {
		t.Errorf("the API description's source kinds = %q, want the registry's %q", got, sources.Kinds())
	}

	page, err := os.ReadFile(filepath.Join(root, "gateway", "console", "templates", "sources.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "{{- range .Kinds}}") {
		t.Error("the console's kind select no longer ranges over .Kinds (sources.Kinds())")
	}
	for _, kind := range sources.Kinds() {
		if strings.Contains(string(page), `<option value="`+kind+`"`) {
			t.Errorf("the console's sources page lists kind %s by hand", kind)
		}
	}
}

// TestChannelsHaveOneList: the lists of channels others show come from
// gateway/channels rather than from a copy: the served API description's
// Subscriber.kind, SubscriberInput.kind and Delivery.channel enums, the
// console's kind filter, and the table of channels of docs/subscribers.md.
// (The subscribers service's checks and messages are tested with a
// channel added in a test: TestNewChannelNeedsNoOtherEdit in gateway/http.)
func TestChannelsHaveOneList(t *testing.T) {
	root := filepath.Join("..", "..")
	kinds := channels.Kinds()
	if !slices.IsSorted(kinds) || !slices.Contains(kinds, "email") || !slices.Contains(kinds, "webhook") {
		t.Fatalf("channels.Kinds() = %q, want email and webhook among them, sorted", kinds)
	}

	doc := servedEnums(t)
	for _, at := range [][2]string{{"Subscriber", "kind"}, {"SubscriberInput", "kind"}, {"Delivery", "channel"}} {
		if got := doc[at[0]][at[1]]; !slices.Equal(got, kinds) {
			t.Errorf("the API description's %s.%s = %q, want the registry's %q", at[0], at[1], got, kinds)
		}
	}

	page, err := os.ReadFile(filepath.Join(root, "gateway", "console", "templates", "subscribers.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "{{- range .Kinds}}") {
		t.Error("the console's kind filter no longer ranges over .Kinds (channels.Kinds())")
	}
	for _, kind := range kinds {
		if strings.Contains(string(page), `<option value="`+kind+`"`) {
			t.Errorf("the console's subscribers page lists kind %s by hand", kind)
		}
	}

	md, err := os.ReadFile(filepath.Join(root, "docs", "subscribers.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\| `gateway/notify/").FindAllStringSubmatch(string(md), -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(documented)
	if !slices.Equal(documented, kinds) {
		t.Errorf("docs/subscribers.md's table of channels names %q, want the registry's %q", documented, kinds)
	}
}

// screenRoutes matches a console screen's route method.
var screenRoutes = regexp.MustCompile(`(?m)^func \(h \*Handler\) (\w+Routes)\(r Router\)`)

// TestConsoleScreensHaveOneList: every screen's routes method is in the
// screens list of console.go, and its file has a template of its name.
func TestConsoleScreensHaveOneList(t *testing.T) {
	dir := filepath.Join("..", "..", "gateway", "console")
	list, err := os.ReadFile(filepath.Join(dir, "console.go"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	screens := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range screenRoutes.FindAllStringSubmatch(string(src), -1) {
			screens++
			if !strings.Contains(string(list), "(*Handler)."+m[1]+",") {
				t.Errorf("%s: %s is not in the screens list of console.go", filepath.Base(f), m[1])
			}
			tmpl := filepath.Join(dir, "templates", strings.TrimSuffix(filepath.Base(f), ".go")+".html")
			if _, err := os.Stat(tmpl); err != nil {
				t.Errorf("screen %s: %v", m[1], err)
			}
		}
	}
	if screens < 5 {
		t.Errorf("found %d screens: the walk is broken", screens)
	}
}

// servedEnums reads the API description a server serves and returns the
// enum of each property of each schema, by schema and property name.
func servedEnums(t *testing.T) map[string]map[string][]string {
	t.Helper()
	srv := herhttp.New(herhttp.Options{Log: storetest.Logger(t)})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	res, err := http.Get(ts.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	enums := map[string]map[string][]string{}
	for name, schema := range doc.Components.Schemas {
		enums[name] = map[string][]string{}
		for prop, p := range schema.Properties {
			enums[name][prop] = p.Enum
		}
	}
	return enums
}
