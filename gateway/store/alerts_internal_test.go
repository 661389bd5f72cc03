package store

import (
	"slices"
	"testing"
)

// Write transactions chunk their rows into sizes the SQLite store has
// prepared (powers of two up to maxCachedBulk), and into maxBulkRows on
// PostgreSQL; a chunk never splits a row of several values.
func TestWriteChunks(t *testing.T) {
	tests := []struct {
		dialect Dialect
		rows    int
		per     int
		want    []int // rows per chunk
	}{
		{SQLite, 380, 1, []int{128, 128, 64, 32, 16, 8, 4}},
		{SQLite, 100, 3, []int{64, 32, 4}},
		{SQLite, 1, 1, []int{1}},
		{SQLite, 0, 1, nil},
		{Postgres, 1200, 1, []int{500, 500, 200}},
		{Postgres, 100, 3, []int{100}},
	}
	for _, tt := range tests {
		s := &Store{dialect: tt.dialect}
		var got []int
		total := 0
		for chunk := range writeChunks(s, make([]int, tt.rows*tt.per), tt.per) {
			if len(chunk)%tt.per != 0 {
				t.Errorf("%s %d×%d: a chunk of %d values splits a row", tt.dialect, tt.rows, tt.per, len(chunk))
			}
			got = append(got, len(chunk)/tt.per)
			total += len(chunk)
		}
		if !slices.Equal(got, tt.want) || total != tt.rows*tt.per {
			t.Errorf("%s %d rows of %d: chunks %v, want %v", tt.dialect, tt.rows, tt.per, got, tt.want)
		}
	}
}
