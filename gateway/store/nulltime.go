package store

import (
	"database/sql/driver"
	"time"
)

// optTime scans a nullable timestamp into a time.Time whose zero value
// stands for NULL, the convention of the domain types.
type optTime struct{ time.Time }

// Scan implements sql.Scanner.
func (n *optTime) Scan(v any) error {
	switch t := v.(type) {
	case nil:
		n.Time = time.Time{}
	case time.Time:
		n.Time = t.UTC()
	case string:
		p, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", t)
		if err != nil {
			return err
		}
		n.Time = p.UTC()
	default:
		return errUnscannable(v)
	}
	return nil
}

// Value implements driver.Valuer: the zero time is NULL.
func (n optTime) Value() (driver.Value, error) { return nullable(n.Time), nil }

// nullable returns nil for the zero time and the stored form otherwise.
func nullable(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return storedTime(t)
}

type unscannable struct{ v any }

func (u unscannable) Error() string { return "store: cannot scan a timestamp from this value" }

func errUnscannable(v any) error { return unscannable{v} }
