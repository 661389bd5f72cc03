package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// normalize turns a value as one driver reads it into the one Go value the
// copier writes and hashes for its column's kind: string, int64, float64,
// bool, time.Time (UTC, microseconds: what Herald stores) or []byte; nil
// stays nil. Both drivers agree on most kinds already; SQLite may hand
// back an integer for a boolean and text for a time it did not write.
func normalize(v any, k ColumnKind) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case KindTime:
		switch x := v.(type) {
		case time.Time:
			return storedTime(x), nil
		case string:
			return parseStoredTime(x)
		case []byte:
			return parseStoredTime(string(x))
		}
	case KindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			return strconv.ParseBool(x)
		}
	case KindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case int:
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case KindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case string:
			return strconv.ParseFloat(x, 64)
		}
	case KindText:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	case KindBytes:
		switch x := v.(type) {
		case []byte:
			return append([]byte(nil), x...), nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("a %T where the column holds kind %d", v, k)
}

// storedTimeLayouts are the text forms a time may take in a SQLite
// column: the driver's own (what Herald writes) first.
var storedTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

func parseStoredTime(s string) (time.Time, error) {
	for _, layout := range storedTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return storedTime(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}

// checksum is a table's content checksum: the sum, lane by lane, of the
// SHA-256 of every row's normalized values. A sum does not depend on the
// order rows are read in, so neither side needs to sort (PostgreSQL and
// SQLite order text differently), yet a changed, missing or extra row
// changes it.
type checksum struct {
	lanes [4]uint64
	buf   []byte
}

func (c *checksum) add(cols []Column, vals []any) {
	b := c.buf[:0]
	for i, v := range vals {
		b = appendCanonical(b, cols[i].Kind, v)
	}
	c.buf = b
	sum := sha256.Sum256(b)
	for l := range c.lanes {
		c.lanes[l] += binary.BigEndian.Uint64(sum[8*l:])
	}
}

func (c *checksum) String() string {
	return fmt.Sprintf("%016x%016x%016x%016x", c.lanes[0], c.lanes[1], c.lanes[2], c.lanes[3])
}

// appendCanonical writes one normalized value in a form that does not
// depend on the database it came from: a tag, then length-prefixed text.
func appendCanonical(b []byte, k ColumnKind, v any) []byte {
	if v == nil {
		return append(b, 'N')
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	case time.Time:
		s = x.UTC().Format("2006-01-02T15:04:05.000000Z")
	default:
		s = fmt.Sprint(x)
	}
	b = append(b, 'V', byte('0'+k))
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
