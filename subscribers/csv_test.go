package subscribers_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/subscribers"
)

// FuzzImportCSV feeds ReadImport arbitrary files, seeded from
// testdata/import: it must never panic, must report every row it does not
// accept by a line number inside the file, and every row it accepts must
// carry a safe, normalized address.
func FuzzImportCSV(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "import", "*.csv"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		last := 1
		err := subscribers.ReadImport(bytes.NewReader(data), func(r subscribers.ImportRecord) error {
			if r.Line < 2 || r.Line > lines || r.Line < last {
				t.Fatalf("record at line %d of %d (after %d)", r.Line, lines, last)
			}
			last = r.Line
			if strings.ContainsAny(r.Email, "\r\n\x00,;<>") || len(r.Email) > subscribers.MaxAddressLength {
				t.Fatalf("unsafe address %q accepted", r.Email)
			}
			if again, err := subscribers.NormalizeEmail(r.Email); err != nil || again != r.Email {
				t.Fatalf("address %q not normalized: %q, %v", r.Email, again, err)
			}
			for _, c := range r.Components {
				if c == "" || strings.Contains(c, ";") || strings.TrimSpace(c) != c {
					t.Fatalf("component %q", c)
				}
			}
			return nil
		}, func(e subscribers.RowError) {
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("error at line %d of %d: %v", e.Line, lines, e)
			}
		})
		if err != nil && !errors.Is(err, subscribers.ErrHeader) {
			t.Fatalf("ReadImport on an in-memory file: %v", err)
		}
	})
}
